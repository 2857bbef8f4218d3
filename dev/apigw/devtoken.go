package apigw

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DevToken returns an unsigned JWT (alg "none") carrying claims, which the local
// server accepts on authorized routes in place of a token a real issuer signed.
// It is a development convenience: API Gateway refuses such tokens.
func DevToken(claims map[string]any) (string, error) {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
}

// ErrUnauthorized is what every refused token's error wraps; the error says why.
var ErrUnauthorized = errors.New("unauthorized")

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnauthorized}, args...)...)
}

// DevClaims reads an Authorization header holding "Bearer <unsigned JWT>" and returns
// its claims as API Gateway's JWT authorizer passes them (every value a string) and
// the scopes of its "scope" claim. A missing, malformed, signed, expired or not yet
// valid token, or one without a subject ("sub", the user it acts as), is refused with
// an error wrapping ErrUnauthorized that says why.
func DevClaims(authorization string) (map[string]string, []string, error) {
	if authorization == "" {
		return nil, nil, refused("no Authorization header")
	}
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return nil, nil, refused(`the Authorization header is not "Bearer <token>"`)
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return nil, nil, refused("the token is not a JWT (three parts separated by dots)")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if decodePart(parts[0], &header) != nil {
		return nil, nil, refused("the token's header is not base64url-encoded JSON")
	}
	if header.Alg != "none" || parts[2] != "" {
		return nil, nil, refused("the token is signed (alg %s): dev mode takes unsigned dev tokens (alg none) such as the one it prints at start; deployed stages check signed ones", header.Alg)
	}
	var raw map[string]any
	if decodePart(parts[1], &raw) != nil {
		return nil, nil, refused("the token's claims are not base64url-encoded JSON")
	}
	sub, _ := raw["sub"].(string)
	if sub == "" {
		return nil, nil, refused("the token has no sub claim (the user it acts as)")
	}
	now := float64(time.Now().Unix())
	if exp, ok := raw["exp"].(json.Number); ok {
		if n, err := exp.Float64(); err != nil || now >= n {
			return nil, nil, refused("the token expired at %s", epoch(exp))
		}
	}
	if nbf, ok := raw["nbf"].(json.Number); ok {
		if n, err := nbf.Float64(); err != nil || now < n {
			return nil, nil, refused("the token is not valid before %s", epoch(nbf))
		}
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

// epoch renders a JWT time claim.
func epoch(n json.Number) string {
	secs, err := n.Int64()
	if err != nil {
		return n.String()
	}
	return time.Unix(secs, 0).UTC().Format(time.RFC3339)
}

func decodePart(part string, into any) error {
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(part, "="))
	if err != nil {
		return err
	}
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	return d.Decode(into)
}

// claimString renders a claim value as API Gateway does: strings as they are,
// arrays as "[a b]", anything else as JSON.
func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any:
		items := make([]string, len(v))
		for i, it := range v {
			items[i] = claimString(it)
		}
		return "[" + strings.Join(items, " ") + "]"
	}
	data, _ := json.Marshal(v)
	return string(data)
}

// checkAuthority refuses a token issued by another issuer, or for another audience,
// than the route's authorizer trusts, when the stack names them and the token says.
func checkAuthority(claims map[string]string, issuer string, audience []string) error {
	if iss := claims["iss"]; issuer != "" && iss != "" && strings.TrimRight(iss, "/") != strings.TrimRight(issuer, "/") {
		return refused("the token's issuer is %s; the API trusts %s", iss, issuer)
	}
	if len(audience) == 0 {
		return nil
	}
	aud := claims["aud"]
	if aud == "" {
		aud = claims["client_id"]
	}
	if aud != "" && !slices.Contains(audience, aud) && !slices.ContainsFunc(strings.Fields(strings.Trim(aud, "[]")), func(a string) bool { return slices.Contains(audience, a) }) {
		return refused("the token is for %s; the API trusts %s", aud, strings.Join(audience, ", "))
	}
	return nil
}
