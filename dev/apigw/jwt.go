package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Authorizer decides whether a request may call an authorized route, from its
// Authorization header. It returns the token's claims as API Gateway passes them to
// the function (every value a string) and the token's scopes, or an error wrapping
// ErrUnauthorized that says why the request is refused.
type Authorizer interface {
	Authorize(ctx context.Context, authorization string) (claims map[string]string, scopes []string, err error)
}

// DevTokens accepts the unsigned dev-only tokens of DevToken: dev mode's authorizer
// when no local user pool runs.
var DevTokens Authorizer = devTokens{}

type devTokens struct{}

func (devTokens) Authorize(_ context.Context, authorization string) (map[string]string, []string, error) {
	return DevClaims(authorization)
}

// JWTAuthorizer checks signed tokens as API Gateway's JWT authorizer does: an RSA
// signature by a key of the issuer's JWKS, the issuer, the audience (aud, or
// client_id when the token has no aud, as Cognito's access tokens do), and the token's
// times (exp, nbf, iat) with no leeway, as API Gateway documents none. Cognito marks
// a token's use in token_use; API Gateway accepts both its ID and access tokens, and
// so does this authorizer, but never another use.
type JWTAuthorizer struct {
	issuer   string
	audience []string
	jwksURL  string
	client   *http.Client
	now      func() time.Time

	mu      sync.Mutex
	keys    *jose.JSONWebKeySet
	fetched time.Time
}

// jwksRefetchAfter is how soon a token naming a key the cached set lacks makes the
// authorizer fetch the set again (the issuer may have rotated its keys).
const jwksRefetchAfter = 30 * time.Second

// rsaAlgorithms are the signature algorithms API Gateway's JWT authorizer accepts.
var rsaAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512}

// NewJWTAuthorizer trusts tokens of issuer for one of audience, signed by a key
// served at jwksURL (for a Cognito user pool: <endpoint>/<pool id>/.well-known/jwks.json).
func NewJWTAuthorizer(issuer string, audience []string, jwksURL string) *JWTAuthorizer {
	return &JWTAuthorizer{
		issuer: issuer, audience: audience, jwksURL: jwksURL,
		client: &http.Client{Timeout: 10 * time.Second}, now: time.Now,
	}
}

// Authorize implements Authorizer.
func (a *JWTAuthorizer) Authorize(ctx context.Context, authorization string) (map[string]string, []string, error) {
	if authorization == "" {
		return nil, nil, refused("no Authorization header")
	}
	// API Gateway takes the token alone or after "Bearer ".
	token := strings.TrimSpace(strings.TrimPrefix(authorization, "Bearer "))
	if strings.Count(token, ".") != 2 {
		return nil, nil, refused("the token is not a JWT (three parts separated by dots)")
	}
	sig, err := jose.ParseSignedCompact(token, rsaAlgorithms)
	if err != nil {
		return nil, nil, refused("the token is not a JWT signed with RSA (%s): %v", tokenAlg(token), err)
	}
	kid := sig.Signatures[0].Header.KeyID
	key, err := a.key(ctx, kid)
	if err != nil {
		return nil, nil, err
	}
	payload, err := sig.Verify(key.Key)
	if err != nil {
		return nil, nil, refused("the token's signature does not verify with key %q of %s", kid, a.jwksURL)
	}
	var std jwt.Claims
	if err := json.Unmarshal(payload, &std); err != nil {
		return nil, nil, refused("the token's claims are not valid JWT claims: %v", err)
	}
	raw := map[string]any{}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, refused("the token's claims are not a JSON object: %v", err)
	}
	if err := a.checkClaims(std, raw); err != nil {
		return nil, nil, err
	}
	claims := make(map[string]string, len(raw))
	for k, v := range raw {
		claims[k] = claimString(v)
	}
	var scopes []string
	if s, ok := raw["scope"].(string); ok {
		scopes = strings.Fields(s)
	}
	return claims, scopes, nil
}

func (a *JWTAuthorizer) checkClaims(std jwt.Claims, raw map[string]any) error {
	if std.Issuer != a.issuer {
		return refused("the token's issuer is %q; the API trusts %s", std.Issuer, a.issuer)
	}
	audience := []string(std.Audience)
	if len(audience) == 0 {
		if clientID, ok := raw["client_id"].(string); ok {
			audience = []string{clientID}
		}
	}
	if !slices.ContainsFunc(audience, func(aud string) bool { return slices.Contains(a.audience, aud) }) {
		if len(audience) == 0 {
			return refused("the token has neither aud nor client_id; the API trusts the audience %s", strings.Join(a.audience, ", "))
		}
		return refused("the token is for %s; the API trusts %s", strings.Join(audience, ", "), strings.Join(a.audience, ", "))
	}
	if use, ok := raw["token_use"]; ok && use != "access" && use != "id" {
		return refused("the token's token_use is %v: only access and ID tokens call an API", use)
	}
	if std.Expiry == nil {
		return refused("the token has no expiry (exp)")
	}
	now := a.now()
	switch err := std.ValidateWithLeeway(jwt.Expected{Time: now}, 0); {
	case errors.Is(err, jwt.ErrExpired):
		return refused("the token expired at %s", std.Expiry.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrNotValidYet):
		return refused("the token is not valid before %s", std.NotBefore.Time().UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return refused("the token was issued in the future, at %s (is this machine's clock right?)", std.IssuedAt.Time().UTC().Format(time.RFC3339))
	case err != nil:
		return refused("the token's claims: %v", err)
	}
	return nil
}

// key returns the key of the issuer's set named kid, fetching the set the first time,
// and again when it lacks kid and was fetched a while ago.
func (a *JWTAuthorizer) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.keys == nil || (len(a.keys.Key(kid)) == 0 && a.now().Sub(a.fetched) >= jwksRefetchAfter) {
		keys, err := a.fetchKeys(ctx)
		if err != nil {
			return jose.JSONWebKey{}, err
		}
		a.keys, a.fetched = keys, a.now()
	}
	for _, k := range a.keys.Key(kid) {
		if k.Valid() && k.IsPublic() && (k.Use == "" || k.Use == "sig") {
			return k, nil
		}
	}
	return jose.JSONWebKey{}, refused("the token names key %q, which the issuer's key set at %s does not hold", kid, a.jwksURL)
}

func (a *JWTAuthorizer) fetchKeys(ctx context.Context) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.jwksURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: the issuer's key set address %q: %v", ErrUnauthorized, a.jwksURL, err)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetching the issuer's key set: %v", ErrUnauthorized, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: fetching the issuer's key set from %s: %s %v", ErrUnauthorized, a.jwksURL, resp.Status, err)
	}
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(body, &keys); err != nil {
		return nil, fmt.Errorf("%w: the issuer's key set at %s is not a JWKS: %v", ErrUnauthorized, a.jwksURL, err)
	}
	return &keys, nil
}

// tokenAlg is the alg a token's header names, for messages.
func tokenAlg(token string) string {
	header, _, _ := strings.Cut(token, ".")
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(header, "="))
	if err != nil {
		return "header not base64url"
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(data, &h) != nil {
		return "header not JSON"
	}
	return "alg " + h.Alg
}
