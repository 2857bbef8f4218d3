package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/personabackend/app/topology"
)

// recorder is a function stand-in: it keeps the events it receives and answers with result.
type recorder struct {
	mu     sync.Mutex
	events map[string][]events.APIGatewayV2HTTPRequest
	result string
	err    error
}

func (r *recorder) Invoke(_ context.Context, fn string, payload []byte) ([]byte, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.events == nil {
		r.events = map[string][]events.APIGatewayV2HTTPRequest{}
	}
	r.events[fn] = append(r.events[fn], ev)
	return []byte(r.result), r.err
}

func (r *recorder) count(fn string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events[fn])
}

func (r *recorder) last(t *testing.T, fn string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.events[fn]
	if len(evs) == 0 {
		t.Fatalf("%s was not invoked", fn)
	}
	return evs[len(evs)-1]
}

var personaRoutes = []topology.Route{
	{RouteKey: "GET /personas", Function: "list", Authorized: true},
	{RouteKey: "POST /personas", Function: "request", Authorized: true},
	{RouteKey: "GET /personas/{id}", Function: "get", Authorized: true},
	{RouteKey: "GET /personas/mine", Function: "mine"},
	{RouteKey: "ANY /files/{path+}", Function: "files"},
	{RouteKey: "GET /health", Function: "health"},
}

// serve starts a server for routes; each request's report arrives on the returned channel.
func serve(t *testing.T, rec *recorder, routes []topology.Route) (*httptest.Server, chan Invocation) {
	t.Helper()
	invs := make(chan Invocation, 100)
	s, err := New(routes, rec, func(i Invocation) { invs <- i })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, invs
}

func token(t *testing.T, claims map[string]any) string {
	t.Helper()
	tok, err := DevToken(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestRequestBecomesAPayload2Event(t *testing.T) {
	rec := &recorder{result: `{"statusCode":200,"body":"ok"}`}
	srv, _ := serve(t, rec, personaRoutes)
	req, _ := http.NewRequest("POST", srv.URL+"/personas?tag=a&tag=b&x=1", strings.NewReader(`{"name":"Ada"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Custom", "v")
	req.Header.Set("Cookie", "a=1; b=2")
	req.Header.Set("Authorization", token(t, map[string]any{"sub": "user-1", "email": "ada@example.com", "scope": "read write", "groups": []string{"admin", "dev"}}))
	if resp, _ := do(t, req); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ev := rec.last(t, "request")
	checks := []struct {
		what      string
		got, want any
	}{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "POST /personas"},
		{"rawPath", ev.RawPath, "/personas"},
		{"rawQueryString", ev.RawQueryString, "tag=a&tag=b&x=1"},
		{"repeated query parameter", ev.QueryStringParameters["tag"], "a,b"},
		{"query parameter", ev.QueryStringParameters["x"], "1"},
		{"lowercased header", ev.Headers["x-custom"], "v"},
		{"content type", ev.Headers["content-type"], "application/json"},
		{"cookies", strings.Join(ev.Cookies, "|"), "a=1|b=2"},
		{"cookie header removed", ev.Headers["cookie"], ""},
		{"body", ev.Body, `{"name":"Ada"}`},
		{"isBase64Encoded", ev.IsBase64Encoded, false},
		{"method", ev.RequestContext.HTTP.Method, "POST"},
		{"path", ev.RequestContext.HTTP.Path, "/personas"},
		{"source IP", ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"request ID set", ev.RequestContext.RequestID != "", true},
		{"sub claim", ev.RequestContext.Authorizer.JWT.Claims["sub"], "user-1"},
		{"email claim", ev.RequestContext.Authorizer.JWT.Claims["email"], "ada@example.com"},
		{"array claim", ev.RequestContext.Authorizer.JWT.Claims["groups"], "[admin dev]"},
		{"scopes", strings.Join(ev.RequestContext.Authorizer.JWT.Scopes, " "), "read write"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestBinaryBodyArrivesBase64Encoded(t *testing.T) {
	rec := &recorder{result: `{"statusCode":204}`}
	srv, _ := serve(t, rec, personaRoutes)
	data := []byte{0, 1, 2, 255}
	req, _ := http.NewRequest("PUT", srv.URL+"/files/a/b.png", strings.NewReader(string(data)))
	req.Header.Set("Content-Type", "image/png")
	do(t, req)
	ev := rec.last(t, "files")
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString(data) {
		t.Errorf("body %q base64 %v, want the bytes base64-encoded", ev.Body, ev.IsBase64Encoded)
	}
	if ev.PathParameters["path"] != "a/b.png" {
		t.Errorf("greedy path parameter = %q, want a/b.png", ev.PathParameters["path"])
	}
}

func TestRoutesMatchLikeAPIGateway(t *testing.T) {
	rec := &recorder{result: `{"statusCode":200}`}
	srv, invs := serve(t, rec, personaRoutes)
	auth := token(t, map[string]any{"sub": "u"})
	tests := []struct {
		method, path string
		wantStatus   int
		wantRoute    string
	}{
		{"GET", "/personas", 200, "GET /personas"},
		{"GET", "/personas/p1", 200, "GET /personas/{id}"},
		{"GET", "/personas/mine", 200, "GET /personas/mine"},
		{"DELETE", "/files/x", 200, "ANY /files/{path+}"},
		{"DELETE", "/personas", 404, ""},
		{"GET", "/nothing", 404, ""},
		{"GET", "/personas/p1/extra", 404, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		req.Header.Set("Authorization", auth)
		resp, body := do(t, req)
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, resp.StatusCode, tt.wantStatus)
		}
		if tt.wantStatus == 404 && body != `{"message":"Not Found"}` {
			t.Errorf("%s %s: body %s, want API Gateway's Not Found", tt.method, tt.path, body)
		}
		got := <-invs
		if got.RouteKey != tt.wantRoute {
			t.Errorf("%s %s matched %q, want %q", tt.method, tt.path, got.RouteKey, tt.wantRoute)
		}
	}
}

func TestDefaultRouteCatchesUnmatchedRequests(t *testing.T) {
	rec := &recorder{result: `{"statusCode":200}`}
	srv, _ := serve(t, rec, []topology.Route{{RouteKey: "GET /a", Function: "a"}, {RouteKey: "$default", Function: "fallback"}})
	do(t, mustRequest(t, "GET", srv.URL+"/b"))
	if ev := rec.last(t, "fallback"); ev.RouteKey != "$default" {
		t.Errorf("routeKey = %q", ev.RouteKey)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestAuthorizedRoutesRefuseRequestsWithoutAUsableTokenAndSayWhy(t *testing.T) {
	rec := &recorder{result: `{"statusCode":200}`}
	routes := append([]topology.Route{{RouteKey: "GET /reports", Function: "reports", Authorized: true,
		Issuer: "https://login.example.com/", Audience: []string{"web"}}}, personaRoutes...)
	srv, invs := serve(t, rec, routes)
	signedHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u"}`))
	expired, _ := DevToken(map[string]any{"sub": "u", "exp": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Unix()})
	early, _ := DevToken(map[string]any{"sub": "u", "nbf": time.Now().Add(time.Hour).Unix()})
	noSub, _ := DevToken(map[string]any{"email": "a@b"})
	otherIssuer, _ := DevToken(map[string]any{"sub": "u", "iss": "https://elsewhere.example.com"})
	slashless, _ := DevToken(map[string]any{"sub": "u", "iss": "https://login.example.com"})
	otherClient, _ := DevToken(map[string]any{"sub": "u", "iss": "https://login.example.com/", "client_id": "mobile"})
	otherAudiences, _ := DevToken(map[string]any{"sub": "u", "iss": "https://login.example.com/", "aud": []string{"mobile", "tv"}})
	tests := []struct {
		name, path, header, why string
	}{
		{"no header", "/personas", "", "no Authorization header"},
		{"not bearer", "/personas", "Basic dTpw", `not "Bearer <token>"`},
		{"garbage", "/personas", "Bearer not-a-token", "not a JWT"},
		{"a signed token", "/personas", "Bearer " + signedHeader + "." + payload + ".c2ln", "signed (alg RS256)"},
		{"an expired token", "/personas", "Bearer " + expired, "expired at 2026-01-02T03:04:05Z"},
		{"a token not yet valid", "/personas", "Bearer " + early, "not valid before"},
		{"no subject", "/personas", "Bearer " + noSub, "no sub claim"},
		{"another issuer", "/reports", "Bearer " + otherIssuer, "issuer is https://elsewhere.example.com; the API trusts https://login.example.com/"},
		{"an issuer that differs by its trailing slash", "/reports", "Bearer " + slashless, "issuer is https://login.example.com; the API trusts https://login.example.com/"},
		{"another client", "/reports", "Bearer " + otherClient, "the token is for mobile; the API trusts web"},
		{"audiences none of which is trusted", "/reports", "Bearer " + otherAudiences, "the token is for mobile, tv; the API trusts web"},
	}
	for _, tt := range tests {
		req := mustRequest(t, "GET", srv.URL+tt.path)
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		resp, body := do(t, req)
		if resp.StatusCode != 401 || body != `{"message":"Unauthorized"}` {
			t.Errorf("%s: got %d %s, want 401 Unauthorized", tt.name, resp.StatusCode, body)
		}
		inv := <-invs
		if !errors.Is(inv.Err, ErrUnauthorized) || !strings.Contains(inv.Err.Error(), tt.why) {
			t.Errorf("%s: reported %v, want it to say %q", tt.name, inv.Err, tt.why)
		}
	}
	if rec.count("list") != 0 || rec.count("reports") != 0 {
		t.Error("a function ran for an unauthorized request")
	}
	ok, _ := DevToken(map[string]any{"sub": "u", "iss": "https://login.example.com/", "aud": []string{"tv", "web"}})
	req := mustRequest(t, "GET", srv.URL+"/reports")
	req.Header.Set("Authorization", "Bearer "+ok)
	if resp, body := do(t, req); resp.StatusCode != 200 {
		t.Errorf("a token of the trusted issuer and client: got %d %s", resp.StatusCode, body)
	}
	resp, _ := do(t, mustRequest(t, "GET", srv.URL+"/health"))
	if resp.StatusCode != 200 {
		t.Errorf("a route without authorization needs a token: %d", resp.StatusCode)
	}
}

func TestFunctionResultsBecomeResponses(t *testing.T) {
	tests := []struct {
		name       string
		result     string
		err        error
		wantStatus int
		wantBody   string
		wantHeader map[string][]string
	}{
		{
			name:       "a response object sets status, headers, cookies and body",
			result:     `{"statusCode":201,"headers":{"content-type":"text/plain","x-one":"1"},"multiValueHeaders":{"x-many":["a","b"]},"cookies":["s=1; HttpOnly"],"body":"made"}`,
			wantStatus: 201, wantBody: "made",
			wantHeader: map[string][]string{"Content-Type": {"text/plain"}, "X-One": {"1"}, "X-Many": {"a", "b"}, "Set-Cookie": {"s=1; HttpOnly"}},
		},
		{
			name:       "a base64 body is decoded",
			result:     `{"statusCode":200,"isBase64Encoded":true,"headers":{"content-type":"application/octet-stream"},"body":"AAEC"}`,
			wantStatus: 200, wantBody: "\x00\x01\x02",
		},
		{
			name:       "an object without statusCode is a 200 JSON body",
			result:     `{"items":[]}`,
			wantStatus: 200, wantBody: `{"items":[]}`,
			wantHeader: map[string][]string{"Content-Type": {"application/json"}},
		},
		{
			name:       "a plain string result is a 200 JSON body",
			result:     `"hello"`,
			wantStatus: 200, wantBody: `"hello"`,
		},
		{
			name:       "a handler's 4xx passes through",
			result:     `{"statusCode":400,"body":"{\"message\":\"name is required\"}"}`,
			wantStatus: 400, wantBody: `{"message":"name is required"}`,
		},
		{
			name:       "a function error is a 500",
			err:        errors.New("boom"),
			wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := serve(t, &recorder{result: tt.result, err: tt.err}, []topology.Route{{RouteKey: "GET /x", Function: "x"}})
			resp, body := do(t, mustRequest(t, "GET", srv.URL+"/x"))
			if resp.StatusCode != tt.wantStatus || body != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			for name, want := range tt.wantHeader {
				if got := resp.Header.Values(name); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("header %s = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestEachRequestIsReported(t *testing.T) {
	srv, invs := serve(t, &recorder{result: `{"statusCode":202}`}, []topology.Route{{RouteKey: "POST /x", Function: "fn-x"}})
	do(t, mustRequest(t, "POST", srv.URL+"/x"))
	got := <-invs
	if got.RouteKey != "POST /x" || got.Function != "fn-x" || got.Status != 202 || got.Duration <= 0 {
		t.Errorf("reported %+v", got)
	}
}

func TestABodyOverTheAPIGatewayLimitIsRefused(t *testing.T) {
	rec := &recorder{result: `{"statusCode":200}`}
	srv, _ := serve(t, rec, []topology.Route{{RouteKey: "POST /x", Function: "x"}})
	req, _ := http.NewRequest("POST", srv.URL+"/x", strings.NewReader(strings.Repeat("a", maxBody+1)))
	req.Header.Set("Content-Type", "text/plain")
	resp, body := do(t, req)
	if resp.StatusCode != 413 || body != `{"message":"Request Entity Too Large"}` {
		t.Errorf("got %d %s, want 413", resp.StatusCode, body)
	}
	if rec.count("x") != 0 {
		t.Error("the function ran for a refused request")
	}
}
