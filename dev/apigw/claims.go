package apigw

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Trust is what a JWT authorizer accepts: tokens issued by Issuer for one of Audience.
type Trust struct {
	Issuer   string
	Audience []string
}

// override is t with what route names in place of t's own.
func (t Trust) override(route Trust) Trust {
	if route.Issuer != "" {
		t.Issuer = route.Issuer
	}
	if len(route.Audience) > 0 {
		t.Audience = route.Audience
	}
	return t
}

// checkClaims checks a token's claims as API Gateway's JWT authorizer does, with no
// leeway on the times since it documents none: iss is exactly the trusted issuer, aud
// (or client_id where the token has no aud, as in Cognito's access tokens) one of the
// trusted audience, Cognito's token_use access or id, exp after now, and nbf and iat
// not after now. A signed token must carry iss, an audience and exp; an unsigned dev
// token is held to what it carries. Issuer and audience go unchecked where t names none.
func checkClaims(claims map[string]any, t Trust, now time.Time, signed bool) error {
	if t.Issuer != "" {
		iss, ok := claims["iss"]
		switch {
		case !ok && signed:
			return refused("the token has no issuer (iss); the API trusts %s", t.Issuer)
		case ok && iss != t.Issuer:
			return refused("the token's issuer is %s; the API trusts %s", claimString(iss), t.Issuer)
		}
	}
	if len(t.Audience) > 0 {
		audience, err := tokenAudience(claims)
		if err != nil {
			return err
		}
		switch {
		case len(audience) == 0 && signed:
			return refused("the token has neither aud nor client_id; the API trusts the audience %s", strings.Join(t.Audience, ", "))
		case len(audience) > 0 && !slices.ContainsFunc(audience, func(a string) bool { return slices.Contains(t.Audience, a) }):
			return refused("the token is for %s; the API trusts %s", strings.Join(audience, ", "), strings.Join(t.Audience, ", "))
		}
	}
	if use, ok := claims["token_use"]; ok && use != "access" && use != "id" {
		return refused("the token's token_use is %s: only access and ID tokens call an API", claimString(use))
	}
	exp, ok, err := timeClaim(claims, "exp")
	switch {
	case err != nil:
		return err
	case !ok && signed:
		return refused("the token has no expiry (exp)")
	case ok && !now.Before(exp):
		return refused("the token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	nbf, ok, err := timeClaim(claims, "nbf")
	switch {
	case err != nil:
		return err
	case ok && now.Before(nbf):
		return refused("the token is not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	iat, ok, err := timeClaim(claims, "iat")
	switch {
	case err != nil:
		return err
	case ok && now.Before(iat):
		return refused("the token was issued in the future, at %s (is this machine's clock right?)", iat.UTC().Format(time.RFC3339))
	}
	return nil
}

// tokenAudience is the token's aud (a string or a list of them), or its client_id
// when it has no aud.
func tokenAudience(claims map[string]any) ([]string, error) {
	switch aud := claims["aud"].(type) {
	case nil:
	case string:
		return []string{aud}, nil
	case []any:
		out := make([]string, 0, len(aud))
		for _, a := range aud {
			s, ok := a.(string)
			if !ok {
				return nil, refused("the token's aud holds %s, not a string", claimString(a))
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, refused("the token's aud is %s, neither a string nor a list of them", claimString(aud))
	}
	if clientID, ok := claims["client_id"].(string); ok {
		return []string{clientID}, nil
	}
	return nil, nil
}

// timeClaim reads a NumericDate claim (seconds since 1970), if the token has it.
func timeClaim(claims map[string]any, name string) (time.Time, bool, error) {
	v, ok := claims[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, isNumber := v.(json.Number)
	secs, err := n.Float64()
	if !isNumber || err != nil {
		return time.Time{}, false, refused("the token's %s is %s, not a number of seconds", name, claimString(v))
	}
	whole := int64(secs)
	return time.Unix(whole, int64((secs-float64(whole))*1e9)), true, nil
}

// decodeClaims reads a token's JSON payload, keeping numbers as they are written.
func decodeClaims(payload []byte) (map[string]any, error) {
	var claims map[string]any
	d := json.NewDecoder(strings.NewReader(string(payload)))
	d.UseNumber()
	if err := d.Decode(&claims); err != nil {
		return nil, err
	}
	if claims == nil {
		return nil, fmt.Errorf("the payload is null, not a JSON object")
	}
	return claims, nil
}

// gatewayClaims are claims as API Gateway passes them to the function (every value a
// string) with the scopes of the scope claim.
func gatewayClaims(claims map[string]any) (map[string]string, []string) {
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = claimString(v)
	}
	var scopes []string
	if s, ok := claims["scope"].(string); ok {
		scopes = strings.Fields(s)
	}
	return out, scopes
}
