package web

import (
	"encoding/json"
	"strings"
	"testing"
)

func deployed() Config {
	return Config{
		Stage:            "dev",
		APIURL:           "https://x.execute-api.us-east-1.amazonaws.com",
		Region:           "us-east-1",
		UserPoolID:       "us-east-1_Abc123",
		UserPoolClientID: "abc123",
		SignIn:           SignInCognito,
	}
}

func TestAConfigIsAcceptedOrRefusedNamingTheField(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" when valid, else a part of the error
	}{
		{"a deployed stage's config is accepted", func(*Config) {}, ""},
		{"a local Cognito on loopback http is accepted", func(c *Config) { c.CognitoEndpoint = "http://127.0.0.1:4566/"; c.APIURL = "http://localhost:3000" }, ""},
		{"dev sign-in without a user pool is accepted", func(c *Config) {
			*c = Config{Stage: "local", APIURL: "http://127.0.0.1:3000", Region: "us-east-1", SignIn: SignInDev}
		}, ""},
		{"an API URL with a base path is accepted", func(c *Config) { c.APIURL = "https://api.example.com/v1" }, ""},
		{"a missing stage is refused", func(c *Config) { c.Stage = "" }, "stage: is required"},
		{"plain http off loopback is refused", func(c *Config) { c.APIURL = "http://api.example.com" }, "apiUrl"},
		{"a relative API URL is refused", func(c *Config) { c.APIURL = "/api" }, "not an absolute URL"},
		{"an API URL with a query is refused", func(c *Config) { c.APIURL = "https://api.example.com?a=b" }, "no query"},
		{"an unknown region is refused", func(c *Config) { c.Region = "useast1" }, "region"},
		{"a pool in another region is refused", func(c *Config) { c.UserPoolID = "eu-west-1_Abc" }, "the pool is in eu-west-1 but region is us-east-1"},
		{"a malformed pool id is refused", func(c *Config) { c.UserPoolID = "Abc" }, "userPoolId"},
		{"a missing client id is refused", func(c *Config) { c.UserPoolClientID = "" }, "userPoolClientId"},
		{"a Cognito endpoint over plain http off loopback is refused", func(c *Config) { c.CognitoEndpoint = "http://cognito.example.com" }, "cognitoEndpoint"},
		{"dev sign-in with a user pool is refused", func(c *Config) { c.SignIn = SignInDev }, `"dev" uses no user pool`},
		{"an unknown sign-in mode is refused", func(c *Config) { c.SignIn = "password" }, `must be "cognito" or "dev"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := deployed()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestEveryInvalidFieldIsNamedAtOnce(t *testing.T) {
	err := Config{SignIn: SignInCognito}.Validate()
	for _, field := range []string{"stage", "apiUrl", "region", "userPoolId", "userPoolClientId"} {
		if err == nil || !strings.Contains(err.Error(), "web config "+field+":") {
			t.Errorf("Validate() = %v, want %s named", err, field)
		}
	}
}

func TestConfigJSONHasTheFieldsThePageReads(t *testing.T) {
	data, err := deployed().JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"stage": "dev", "apiUrl": "https://x.execute-api.us-east-1.amazonaws.com", "region": "us-east-1",
		"userPoolId": "us-east-1_Abc123", "userPoolClientId": "abc123", "signIn": "cognito",
	}
	if len(got) != len(want) {
		t.Errorf("config.json = %s, want exactly %v", data, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("config.json %s = %v, want %v", k, got[k], v)
		}
	}
	if _, err := (Config{}).JSON(); err == nil {
		t.Error("JSON() of an empty config succeeded; want the validation error")
	}
}
