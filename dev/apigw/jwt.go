package apigw

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Authorizer decides whether a request may call an authorized route, from its
// Authorization header. route is what the route's authorizer trusts when the stack
// names it (Route.Issuer, Route.Audience); an authorizer of a user pool trusts the
// pool where the route names nothing. It returns the token's claims as API Gateway
// passes them to the function (every value a string) and the token's scopes, or an
// error wrapping ErrUnauthorized that says why the request is refused.
type Authorizer interface {
	Authorize(ctx context.Context, authorization string, route Trust) (claims map[string]string, scopes []string, err error)
}

// DevTokens accepts the unsigned dev-only tokens of DevToken: dev mode's authorizer
// when no local user pool runs.
var DevTokens Authorizer = devTokens{}

type devTokens struct{}

func (devTokens) Authorize(_ context.Context, authorization string, route Trust) (map[string]string, []string, error) {
	claims, err := devClaims(authorization, route, time.Now())
	if err != nil {
		return nil, nil, err
	}
	c, scopes := gatewayClaims(claims)
	return c, scopes, nil
}

// JWTAuthorizer checks signed tokens as API Gateway's JWT authorizer does: an RSA
// signature by a key of the issuer's JWKS, then the claims (checkClaims: issuer,
// audience, token_use, exp, nbf, iat, with no leeway, as API Gateway documents none).
// API Gateway accepts both Cognito's ID and access tokens, and so does this authorizer.
type JWTAuthorizer struct {
	trust   Trust
	jwksURL string
	client  *http.Client
	now     func() time.Time

	mu       sync.Mutex
	keys     *jose.JSONWebKeySet
	fetched  time.Time
	fetching *keyFetch // the fetch of the key set under way, if any
}

// keyFetch is one fetch of the issuer's key set, which every request that needs the
// set meanwhile waits for.
type keyFetch struct {
	done chan struct{}
	keys *jose.JSONWebKeySet
	err  error
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
		trust: Trust{Issuer: issuer, Audience: audience}, jwksURL: jwksURL,
		client: &http.Client{Timeout: 10 * time.Second}, now: time.Now,
	}
}

// Authorize implements Authorizer.
func (a *JWTAuthorizer) Authorize(ctx context.Context, authorization string, route Trust) (map[string]string, []string, error) {
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
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, nil, refused("the token's claims are not a JSON object: %v", err)
	}
	if err := checkClaims(claims, a.trust.override(route), a.now(), true); err != nil {
		return nil, nil, err
	}
	c, scopes := gatewayClaims(claims)
	return c, scopes, nil
}

// key returns the key of the issuer's set named kid, fetching the set the first time,
// and again when it lacks kid and was fetched a while ago. The set is fetched outside
// the lock, once for every request that needs it meanwhile, so requests whose key is
// cached never wait on the issuer.
func (a *JWTAuthorizer) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	a.mu.Lock()
	keys := a.keys
	if keys != nil && (len(keys.Key(kid)) > 0 || a.now().Sub(a.fetched) < jwksRefetchAfter) {
		a.mu.Unlock()
		return a.pick(keys, kid)
	}
	f, leader := a.fetching, a.fetching == nil
	if leader {
		f = &keyFetch{done: make(chan struct{})}
		a.fetching = f
	}
	a.mu.Unlock()
	if leader {
		// Others wait on this fetch: it ends by the client's timeout, not this request's.
		f.keys, f.err = a.fetchKeys(context.WithoutCancel(ctx))
		a.mu.Lock()
		if f.err == nil {
			a.keys, a.fetched = f.keys, a.now()
		}
		a.fetching = nil
		a.mu.Unlock()
		close(f.done)
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return jose.JSONWebKey{}, fmt.Errorf("%w: waiting for the issuer's key set: %v", ErrUnauthorized, ctx.Err())
	}
	if f.err != nil {
		return jose.JSONWebKey{}, f.err
	}
	return a.pick(f.keys, kid)
}

// pick returns the signing key of keys named kid.
func (a *JWTAuthorizer) pick(keys *jose.JSONWebKeySet, kid string) (jose.JSONWebKey, error) {
	for _, k := range keys.Key(kid) {
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
	var h struct {
		Alg string `json:"alg"`
	}
	if err := decodePart(header, &h); err != nil {
		return "header not base64url-encoded JSON"
	}
	return "alg " + h.Alg
}
