package apigw

import (
	"net/http/httptest"
	"testing"

	"github.com/personabackend/app/topology"
)

func TestTheAPIAnswersBrowsersOnOtherOriginsAsItsCORSConfigurationSays(t *testing.T) {
	rec := &recorder{result: `{"statusCode":201,"headers":{"Location":"/personas/p1","Access-Control-Allow-Origin":"https://evil.example"}}`}
	s, err := New([]topology.Route{{RouteKey: "POST /personas", Function: "request"}}, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	cors := CORS{
		AllowOrigins: []string{"http://127.0.0.1:3002"}, AllowMethods: []string{"GET", "OPTIONS", "POST"},
		AllowHeaders: []string{"authorization", "content-type"}, ExposeHeaders: []string{"Location"}, MaxAgeSeconds: 3600,
	}
	srv := httptest.NewServer(cors.Handler(s))
	defer srv.Close()

	for _, tt := range []struct {
		name, method, origin string
		preflight            bool
		wantStatus           int
		want                 map[string]string
	}{
		{"a preflight from the site", "OPTIONS", "http://127.0.0.1:3002", true, 204, map[string]string{
			"Access-Control-Allow-Origin": "http://127.0.0.1:3002", "Access-Control-Allow-Methods": "GET,OPTIONS,POST",
			"Access-Control-Allow-Headers": "authorization,content-type", "Access-Control-Max-Age": "3600",
		}},
		{"a preflight from another origin", "OPTIONS", "https://evil.example", true, 204, map[string]string{"Access-Control-Allow-Origin": ""}},
		{"a request from the site", "POST", "http://127.0.0.1:3002", false, 201, map[string]string{
			"Access-Control-Allow-Origin": "http://127.0.0.1:3002", "Access-Control-Expose-Headers": "Location", "Location": "/personas/p1",
		}},
		{"a request from another origin, whatever the function says", "POST", "https://evil.example", false, 201, map[string]string{"Access-Control-Allow-Origin": ""}},
		{"a request from no browser", "POST", "", false, 201, map[string]string{"Access-Control-Allow-Origin": ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := mustRequest(t, tt.method, srv.URL+"/personas")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			resp, _ := do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			for name, want := range tt.want {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
	if n := rec.count("request"); n != 3 {
		t.Errorf("the function ran %d times, want once per request and never for a preflight", n)
	}
}
