package apigw

import (
	"encoding/base64"
	"encoding/json"
	"errors"
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

var errUnauthorized = errors.New("unauthorized")

// DevClaims reads an Authorization header holding "Bearer <unsigned JWT>" and returns
// its claims as API Gateway's JWT authorizer passes them (every value a string) and
// the scopes of its "scope" claim. A missing, malformed, signed or expired token,
// or one without a subject ("sub", the user it acts as), is refused.
func DevClaims(authorization string) (map[string]string, []string, error) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return nil, nil, errUnauthorized
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 || parts[2] != "" {
		return nil, nil, errUnauthorized
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if decodePart(parts[0], &header) != nil || header.Alg != "none" {
		return nil, nil, errUnauthorized
	}
	var raw map[string]any
	if decodePart(parts[1], &raw) != nil {
		return nil, nil, errUnauthorized
	}
	sub, _ := raw["sub"].(string)
	if sub == "" {
		return nil, nil, errUnauthorized
	}
	if exp, ok := raw["exp"].(json.Number); ok {
		if n, err := exp.Float64(); err != nil || float64(time.Now().Unix()) >= n {
			return nil, nil, errUnauthorized
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
