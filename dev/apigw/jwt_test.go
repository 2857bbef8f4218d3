package apigw

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/personabackend/app/topology"
)

const (
	testIssuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Pool1"
	testClient = "client1"
)

// issuer signs tokens with its keys and serves their public halves as a JWKS.
type issuer struct {
	t       *testing.T
	keys    map[string]*rsa.PrivateKey
	served  atomic.Pointer[jose.JSONWebKeySet]
	fetches atomic.Int32
	server  *httptest.Server
	// hold, while set, keeps each fetch waiting until it is closed; held hears of
	// each fetch that waits.
	hold atomic.Pointer[chan struct{}]
	held chan struct{}
}

func newIssuer(t *testing.T, kids ...string) *issuer {
	t.Helper()
	is := &issuer{t: t, keys: map[string]*rsa.PrivateKey{}, held: make(chan struct{}, 16)}
	for _, kid := range kids {
		is.addKey(kid)
	}
	is.publish()
	is.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		if hold := is.hold.Load(); hold != nil {
			is.held <- struct{}{}
			<-*hold
		}
		json.NewEncoder(w).Encode(is.served.Load())
	}))
	t.Cleanup(is.server.Close)
	return is
}

func (is *issuer) addKey(kid string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		is.t.Fatal(err)
	}
	is.keys[kid] = key
}

// publish serves the public keys held now.
func (is *issuer) publish() {
	set := &jose.JSONWebKeySet{}
	for kid, key := range is.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
	}
	is.served.Store(set)
}

func (is *issuer) sign(kid string, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	is.t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
	if err != nil {
		is.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	sig, err := signer.Sign(payload)
	if err != nil {
		is.t.Fatal(err)
	}
	token, err := sig.CompactSerialize()
	if err != nil {
		is.t.Fatal(err)
	}
	return token
}

func (is *issuer) token(claims map[string]any) string {
	return is.sign("k1", jose.RS256, is.keys["k1"], claims)
}

// accessToken is a Cognito access token's claims, valid for an hour from now.
func accessToken(now time.Time, change func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss": testIssuer, "sub": "user-1", "client_id": testClient, "token_use": "access",
		"scope": "aws.cognito.signin.user.admin", "username": "user-1",
		"iat": now.Unix(), "auth_time": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "j1",
	}
	if change != nil {
		change(c)
	}
	return c
}

func TestTheJWTAuthorizerAcceptsWhatAPIGatewayAccepts(t *testing.T) {
	is := newIssuer(t, "k1")
	auth := NewJWTAuthorizer(testIssuer, []string{testClient}, is.server.URL)
	now := time.Now()
	for _, tt := range []struct {
		name   string
		header string
	}{
		{"an access token naming the client in client_id", "Bearer " + is.token(accessToken(now, nil))},
		{"an ID token naming the client in aud", "Bearer " + is.token(accessToken(now, func(c map[string]any) {
			delete(c, "client_id")
			c["aud"], c["token_use"] = testClient, "id"
		}))},
		{"a token without the Bearer prefix", is.token(accessToken(now, nil))},
		{"a token one of whose audiences is trusted", "Bearer " + is.token(accessToken(now, func(c map[string]any) { c["aud"] = []string{"other", testClient} }))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			claims, _, err := auth.Authorize(context.Background(), tt.header, Trust{})
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if claims["sub"] != "user-1" {
				t.Errorf("sub = %q", claims["sub"])
			}
		})
	}
}

func TestTheJWTAuthorizerRefusesWhatAPIGatewayRefusesAndSaysWhy(t *testing.T) {
	is := newIssuer(t, "k1")
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	auth := NewJWTAuthorizer(testIssuer, []string{testClient}, is.server.URL)
	now := time.Now()
	devToken, _ := DevToken(map[string]any{"sub": "user-1"})
	for _, tt := range []struct {
		name, header, want string
	}{
		{"no header", "", "no Authorization header"},
		{"not a JWT", "Bearer abc", "not a JWT"},
		{"the unsigned dev token", "Bearer " + devToken, "not a JWT signed with RSA (alg none)"},
		{"an HMAC-signed token", "Bearer " + is.sign("k1", jose.HS256, []byte("0123456789abcdef0123456789abcdef"), accessToken(now, nil)), "alg HS256"},
		{"a token signed by another key under a known kid", "Bearer " + is.sign("k1", jose.RS256, other, accessToken(now, nil)), "signature does not verify"},
		{"a token naming a key the issuer does not publish", "Bearer " + is.sign("k9", jose.RS256, other, accessToken(now, nil)), `names key "k9"`},
		{"another issuer", "Bearer " + is.token(accessToken(now, func(c map[string]any) { c["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other" })), "issuer is"},
		{"another client", "Bearer " + is.token(accessToken(now, func(c map[string]any) { c["client_id"] = "client2" })), "the token is for client2; the API trusts client1"},
		{"an aud that overrides a trusted client_id", "Bearer " + is.token(accessToken(now, func(c map[string]any) { c["aud"] = "client2" })), "the token is for client2"},
		{"no audience at all", "Bearer " + is.token(accessToken(now, func(c map[string]any) { delete(c, "client_id") })), "neither aud nor client_id"},
		{"a refresh token's use", "Bearer " + is.token(accessToken(now, func(c map[string]any) { c["token_use"] = "refresh" })), "token_use is refresh"},
		{"expired", "Bearer " + is.token(accessToken(now, func(c map[string]any) { c["exp"] = now.Add(-5 * time.Minute).Unix() })), "expired at"},
		{"expired moments ago: API Gateway allows no leeway", "Bearer " + is.token(accessToken(now, func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() })), "expired at"},
		{"no expiry", "Bearer " + is.token(accessToken(now, func(c map[string]any) { delete(c, "exp") })), "no expiry"},
		{"an expiry that is not a number", "Bearer " + is.token(accessToken(now, func(c map[string]any) { c["exp"] = "tomorrow" })), "exp is tomorrow, not a number"},
		{"no issuer", "Bearer " + is.token(accessToken(now, func(c map[string]any) { delete(c, "iss") })), "no issuer"},
		{"not yet valid", "Bearer " + is.token(accessToken(now, func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() })), "not valid before"},
		{"issued in the future", "Bearer " + is.token(accessToken(now, func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() })), "issued in the future"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := auth.Authorize(context.Background(), tt.header, Trust{})
			if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want unauthorized saying %q", err, tt.want)
			}
		})
	}
}

func TestTheJWTAuthorizerFetchesTheKeySetOnceAndAgainForARotatedKey(t *testing.T) {
	is := newIssuer(t, "k1")
	auth := NewJWTAuthorizer(testIssuer, []string{testClient}, is.server.URL)
	clock := time.Now()
	auth.now = func() time.Time { return clock }
	for range 3 {
		if _, _, err := auth.Authorize(context.Background(), is.token(accessToken(clock, nil)), Trust{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("fetched the key set %d times for three tokens, want once", n)
	}
	is.addKey("k2")
	is.publish()
	rotated := is.sign("k2", jose.RS256, is.keys["k2"], accessToken(clock, nil))
	if _, _, err := auth.Authorize(context.Background(), rotated, Trust{}); err == nil {
		t.Fatal("a key published moments after the last fetch was trusted without fetching")
	}
	clock = clock.Add(jwksRefetchAfter)
	if _, _, err := auth.Authorize(context.Background(), rotated, Trust{}); err != nil {
		t.Fatalf("a token signed by a newly published key: %v", err)
	}
}

func TestAuthorizedRoutesPassTheVerifiedClaimsToTheFunction(t *testing.T) {
	is := newIssuer(t, "k1")
	rec := &recorder{result: `{"statusCode":200}`}
	s, err := New([]topology.Route{{RouteKey: "GET /personas", Function: "list", Authorized: true}}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.UseAuthorizer(NewJWTAuthorizer(testIssuer, []string{testClient}, is.server.URL))
	srv := httptest.NewServer(s)
	defer srv.Close()

	devToken, _ := DevToken(map[string]any{"sub": "user-1"})
	req := mustRequest(t, "GET", srv.URL+"/personas")
	req.Header.Set("Authorization", "Bearer "+devToken)
	if resp, body := do(t, req); resp.StatusCode != 401 || body != `{"message":"Unauthorized"}` {
		t.Fatalf("the dev token against a user pool: %d %s, want 401 Unauthorized", resp.StatusCode, body)
	}
	req = mustRequest(t, "GET", srv.URL+"/personas")
	req.Header.Set("Authorization", "Bearer "+is.token(accessToken(time.Now(), nil)))
	if resp, body := do(t, req); resp.StatusCode != 200 {
		t.Fatalf("a valid token: %d %s", resp.StatusCode, body)
	}
	jwtClaims := rec.last(t, "list").RequestContext.Authorizer.JWT
	if jwtClaims.Claims["sub"] != "user-1" || jwtClaims.Claims["client_id"] != testClient || jwtClaims.Claims["exp"] == "" {
		t.Errorf("claims = %v", jwtClaims.Claims)
	}
	if strings.Join(jwtClaims.Scopes, " ") != "aws.cognito.signin.user.admin" {
		t.Errorf("scopes = %v", jwtClaims.Scopes)
	}
}

func TestARouteThatNamesItsOwnTrustHoldsPoolTokensToIt(t *testing.T) {
	is := newIssuer(t, "k1")
	auth := NewJWTAuthorizer(testIssuer, []string{testClient}, is.server.URL)
	token := is.token(accessToken(time.Now(), nil))
	if _, _, err := auth.Authorize(context.Background(), token, Trust{Audience: []string{testClient, "tv"}}); err != nil {
		t.Fatalf("a route trusting the pool's client among others: %v", err)
	}
	_, _, err := auth.Authorize(context.Background(), token, Trust{Audience: []string{"tv"}})
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "the token is for client1; the API trusts tv") {
		t.Errorf("a route trusting another audience: %v, want the token refused naming both", err)
	}
	_, _, err = auth.Authorize(context.Background(), token, Trust{Issuer: "https://login.example.com/"})
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "the API trusts https://login.example.com/") {
		t.Errorf("a route trusting another issuer: %v, want the token refused", err)
	}
}

func TestASlowKeySetFetchHoldsUpOnlyTheRequestsThatNeedIt(t *testing.T) {
	is := newIssuer(t, "k1")
	auth := NewJWTAuthorizer(testIssuer, []string{testClient}, is.server.URL)
	// No timeout: the held fetch waits until the test releases it.
	auth.client = &http.Client{}
	var clock atomic.Pointer[time.Time]
	now := time.Now()
	clock.Store(&now)
	auth.now = func() time.Time { return *clock.Load() }
	cached := is.token(accessToken(now, nil))
	if _, _, err := auth.Authorize(context.Background(), cached, Trust{}); err != nil {
		t.Fatal(err)
	}

	// The issuer rotates its keys and then answers slowly.
	is.addKey("k2")
	is.publish()
	later := now.Add(jwksRefetchAfter)
	clock.Store(&later)
	release := make(chan struct{})
	is.hold.Store(&release)
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	rotated := is.sign("k2", jose.RS256, is.keys["k2"], accessToken(later, nil))
	const waiting = 3
	results := make(chan error, waiting)
	for range waiting {
		go func() {
			_, _, err := auth.Authorize(context.Background(), rotated, Trust{})
			results <- err
		}()
	}
	<-is.held // a fetch of the new set has reached the issuer and waits

	// A token whose key is cached is checked while the fetch waits.
	done := make(chan error, 1)
	go func() {
		_, _, err := auth.Authorize(context.Background(), cached, Trust{})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("a token signed by a cached key: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a token signed by a cached key waited for the issuer's slow key set")
	}

	close(release)
	for range waiting {
		if err := <-results; err != nil {
			t.Errorf("a token signed by the new key: %v", err)
		}
	}
	if n := is.fetches.Load(); n != 2 {
		t.Errorf("fetched the key set %d times, want twice: once at first, once for the new key however many tokens named it", n)
	}
}
