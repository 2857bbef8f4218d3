package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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
	return DevTokens.Authorize(context.Background(), authorization, Trust{})
}

// devClaims reads an unsigned dev token's claims and checks them as a route trusting
// route checks a signed token's, where the dev token carries them (checkClaims).
func devClaims(authorization string, route Trust, now time.Time) (map[string]any, error) {
	if authorization == "" {
		return nil, refused("no Authorization header")
	}
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return nil, refused(`the Authorization header is not "Bearer <token>"`)
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return nil, refused("the token is not a JWT (three parts separated by dots)")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if decodePart(parts[0], &header) != nil {
		return nil, refused("the token's header is not base64url-encoded JSON")
	}
	if header.Alg != "none" || parts[2] != "" {
		return nil, refused("the token is signed (alg %s): dev mode takes unsigned dev tokens (alg none) such as the one it prints at start; deployed stages check signed ones", header.Alg)
	}
	var claims map[string]any
	if decodePart(parts[1], &claims) != nil || claims == nil {
		return nil, refused("the token's claims are not base64url-encoded JSON")
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return nil, refused("the token has no sub claim (the user it acts as)")
	}
	if err := checkClaims(claims, route, now, false); err != nil {
		return nil, err
	}
	return claims, nil
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
