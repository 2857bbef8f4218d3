package web

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/personabackend/app/dev/apigw"
)

// configCases are shared with the page's tests (src/lib/config.test.ts), so the
// Go contract and the page accept and refuse the same files.
type configCases struct {
	Valid    map[string]json.RawMessage   `json:"valid"`
	Invalid  map[string]json.RawMessage   `json:"invalid"`
	DevToken struct{ User, Token string } `json:"devToken"`
}

func readCases(t *testing.T) configCases {
	t.Helper()
	data, err := os.ReadFile("testdata/config-cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var c configCases
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTheContractAcceptsAndRefusesWhatThePageDoes(t *testing.T) {
	cases := readCases(t)
	for name, raw := range cases.Valid {
		t.Run("accepts "+name, func(t *testing.T) {
			c, err := ParseConfig(raw)
			if err != nil {
				t.Fatal(err)
			}
			data, err := c.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if again, err := ParseConfig(data); err != nil || again != c {
				t.Errorf("JSON() = %s reads back as %+v, %v", data, again, err)
			}
		})
	}
	for name, raw := range cases.Invalid {
		t.Run("refuses "+name, func(t *testing.T) {
			if c, err := ParseConfig(raw); err == nil {
				t.Errorf("ParseConfig accepted %+v", c)
			}
		})
	}
}

func TestAnInvalidConfigNamesEveryBadField(t *testing.T) {
	err := Config{SignIn: SignInCognito, CognitoEndpoint: "ftp://x"}.Validate()
	for _, field := range []string{"stage", "apiUrl", "region", "userPoolId", "userPoolClientId", "cognitoEndpoint"} {
		if err == nil || !strings.Contains(err.Error(), "web config "+field+":") {
			t.Errorf("Validate() = %v, want %s named", err, field)
		}
	}
	if _, err := (Config{}).JSON(); err == nil {
		t.Error("JSON() of an empty config succeeded; want the validation error")
	}
}

func TestAPoolInAnotherRegionSaysWhichRegions(t *testing.T) {
	c := Config{Stage: "dev", APIURL: "https://api.example.com", Region: "us-east-1", UserPoolID: "eu-west-1_Abc", UserPoolClientID: "abc", SignIn: SignInCognito}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "the pool is in eu-west-1 but region is us-east-1") {
		t.Errorf("Validate() = %v", err)
	}
}

func TestThePagesDevTokenIsTheOneDevModeAccepts(t *testing.T) {
	want := readCases(t).DevToken
	token, err := apigw.DevToken(map[string]any{"sub": want.User})
	if err != nil || token != want.Token {
		t.Fatalf("DevToken = %q, %v; the page builds %q", token, err, want.Token)
	}
	claims, _, err := apigw.DevClaims("Bearer " + want.Token)
	if err != nil || claims["sub"] != want.User {
		t.Errorf("DevClaims(page's token) = %v, %v", claims, err)
	}
}
