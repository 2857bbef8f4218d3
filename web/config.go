// Package web describes the contract between the web app in this folder and
// whatever serves it: the config.json object the page reads at start. The build
// holds no stage values, so one build serves every stage; the stack (or dev mode)
// writes this object beside it.
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// ConfigFile is where the page fetches its config, relative to the site's root
// (same origin, no cache).
const ConfigFile = "config.json"

// SignIn is how the page signs people in.
type SignIn string

const (
	// SignInCognito signs in with SRP against the user pool: deployed stages,
	// and dev mode with a local Cognito.
	SignInCognito SignIn = "cognito"
	// SignInDev asks for a user name and sends the dev-only unsigned token that
	// dev mode's API accepts (dev/apigw.DevToken); deployed APIs refuse it. The
	// page says it is in this mode on every page.
	SignInDev SignIn = "dev"
)

// Config is the content of config.json. Field names are the JSON the page reads.
type Config struct {
	Stage            string `json:"stage"`
	APIURL           string `json:"apiUrl"`
	Region           string `json:"region"`
	UserPoolID       string `json:"userPoolId,omitempty"`
	UserPoolClientID string `json:"userPoolClientId,omitempty"`
	SignIn           SignIn `json:"signIn"`
	// CognitoEndpoint replaces Cognito's regional endpoint, e.g. with a local
	// Cognito in dev mode; empty means https://cognito-idp.<region>.amazonaws.com/.
	CognitoEndpoint string `json:"cognitoEndpoint,omitempty"`
	// PasswordPolicy is the user pool's, which the page states where a person
	// chooses a password; left out, the page leaves the rules to Cognito's answer.
	PasswordPolicy
}

// PasswordPolicy is a user pool's password policy in config.json's own fields, flat
// as a site's public config is: the rules of topology.PasswordPolicy, to which it
// converts (web.PasswordPolicy(pool.PasswordPolicy)). A rule left out is not required.
type PasswordPolicy struct {
	MinimumLength    int  `json:"passwordMinimumLength,omitempty"`
	RequireLowercase bool `json:"passwordRequireLowercase,omitempty"`
	RequireUppercase bool `json:"passwordRequireUppercase,omitempty"`
	RequireNumbers   bool `json:"passwordRequireNumbers,omitempty"`
	RequireSymbols   bool `json:"passwordRequireSymbols,omitempty"`
}

// Cognito's bounds on a password policy's minimum length.
const (
	minPasswordLength = 6
	maxPasswordLength = 99
)

var (
	regionPattern   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	poolIDPattern   = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-\d+)_[0-9A-Za-z]+$`)
	clientIDPattern = regexp.MustCompile(`^[\w+]{1,128}$`)
)

// Validate returns an error naming every field that the page would refuse.
// The page checks the same rules (web/src/lib/config.ts) and shows an error
// page instead of signing anyone in against a half-configured stage.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("web config %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Stage == "" {
		bad("stage", "is required")
	}
	if err := checkURL(c.APIURL); err != nil {
		bad("apiUrl", "%v", err)
	}
	if !regionPattern.MatchString(c.Region) {
		bad("region", "%q is not an AWS region such as us-east-1", c.Region)
	}
	switch c.SignIn {
	case SignInCognito:
		m := poolIDPattern.FindStringSubmatch(c.UserPoolID)
		switch {
		case m == nil:
			bad("userPoolId", "%q is not a Cognito user pool id such as us-east-1_Abc123", c.UserPoolID)
		case m[1] != c.Region:
			bad("userPoolId", "the pool is in %s but region is %s; give the pool's region", m[1], c.Region)
		}
		if !clientIDPattern.MatchString(c.UserPoolClientID) {
			bad("userPoolClientId", "%q is not a user pool client id", c.UserPoolClientID)
		}
		if c.CognitoEndpoint != "" {
			if err := checkURL(c.CognitoEndpoint); err != nil {
				bad("cognitoEndpoint", "%v", err)
			}
		}
		if n := c.MinimumLength; c.PasswordPolicy != (PasswordPolicy{}) && (n < minPasswordLength || n > maxPasswordLength) {
			bad("passwordMinimumLength", "is %d: a Cognito pool's is %d to %d; give the pool's policy whole, or none of it", n, minPasswordLength, maxPasswordLength)
		}
	case SignInDev:
		if c.UserPoolID != "" || c.UserPoolClientID != "" || c.CognitoEndpoint != "" || c.PasswordPolicy != (PasswordPolicy{}) {
			bad("signIn", `"dev" uses no user pool: leave userPoolId, userPoolClientId, cognitoEndpoint and the password policy out, or use "cognito"`)
		}
	default:
		bad("signIn", `%q must be "cognito" or "dev"`, c.SignIn)
	}
	return errors.Join(errs...)
}

// ParseConfig reads config.json's content as the page does: one object, no
// unknown fields, valid.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("web config: %w", err)
	}
	if dec.More() {
		return Config{}, errors.New("web config: more than one JSON value")
	}
	return c, c.Validate()
}

// JSON validates the config and returns config.json's content.
func (c Config) JSON() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the web config: %w", err)
	}
	return append(data, '\n'), nil
}

// checkURL accepts an absolute https URL, or http on a loopback host (dev mode),
// with no query, fragment or credentials.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !loopback(u.Hostname())) {
		return fmt.Errorf("%q must use https (plain http only on a loopback address)", raw)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must have no query, fragment or credentials", raw)
	}
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
