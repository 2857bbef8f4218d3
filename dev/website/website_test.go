package website

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/personabackend/app/internal/staticsite"
)

func serveSite(t *testing.T) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"index.html":                  "<p>home</p><script>boot()</script>",
		"sign-in.html":                "<p>sign in</p>",
		"404.html":                    "<p>missing</p>",
		"docs/index.html":             "<p>docs</p>",
		"_next/static/chunks/a-1b.js": "app()",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scan, err := staticsite.Read(dir, []string{"_next/static/"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(scan, []byte(`{"stage":"local"}`), "http://127.0.0.1:3000", "http://127.0.0.1:4566"))
	t.Cleanup(srv.Close)
	return srv
}

func TestTheSiteIsServedAsItsCloudFrontDistributionServesIt(t *testing.T) {
	srv := serveSite(t)
	for _, tt := range []struct {
		path, wantBody, wantType, wantCache string
		wantStatus                          int
		wantConnect                         bool
	}{
		{"/", "<p>home</p>", "text/html; charset=utf-8", "no-cache", 200, true},
		{"/sign-in?next=/new", "<p>sign in</p>", "text/html; charset=utf-8", "no-cache", 200, true},
		{"/docs/", "<p>docs</p>", "text/html; charset=utf-8", "no-cache", 200, true},
		{"/_next/static/chunks/a-1b.js", "app()", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", 200, true},
		{"/config.json", `{"stage":"local"}`, "application/json", "no-cache", 200, true},
		{"/nothing-here", "<p>missing</p>", "text/html; charset=utf-8", "no-cache", 404, false},
		{"/missing.js", "<p>missing</p>", "text/html; charset=utf-8", "no-cache", 404, false},
	} {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
			t.Errorf("%s: %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
		}
		if got := resp.Header.Get("Content-Type"); got != tt.wantType {
			t.Errorf("%s: Content-Type %q, want %q", tt.path, got, tt.wantType)
		}
		if got := resp.Header.Get("Cache-Control"); got != tt.wantCache {
			t.Errorf("%s: Cache-Control %q, want %q", tt.path, got, tt.wantCache)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		widened := strings.Contains(csp, "connect-src 'self' http://127.0.0.1:3000 http://127.0.0.1:4566;")
		if widened != tt.wantConnect || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q; want connect-src naming the API and Cognito: %v", tt.path, csp, tt.wantConnect)
		}
		for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin"} {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", tt.path, name, got, want)
			}
		}
	}
}

func TestAnUnchangedFileIsRevalidatedByItsETag(t *testing.T) {
	srv := serveSite(t)
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("If-None-Match", etag)
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if etag == "" || again.StatusCode != http.StatusNotModified {
		t.Errorf("ETag %q, revalidation status %d, want 304", etag, again.StatusCode)
	}
}

func TestTheSiteTakesOnlyReads(t *testing.T) {
	srv := serveSite(t)
	resp, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", resp.StatusCode)
	}
}
