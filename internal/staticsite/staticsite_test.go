package staticsite

import (
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEachFileOfASiteGetsTheContentTypeBrowsersNeed(t *testing.T) {
	for name, want := range map[string]string{
		"index.html":                         "text/html; charset=utf-8",
		"PAGE.HTM":                           "text/html; charset=utf-8",
		"_next/static/chunks/main-1a2b.js":   "text/javascript; charset=utf-8",
		"worker.mjs":                         "text/javascript; charset=utf-8",
		"_next/static/css/app-1a2b.css":      "text/css; charset=utf-8",
		"config.json":                        "application/json",
		"_next/static/chunks/main.js.map":    "application/json",
		"icon.svg":                           "image/svg+xml",
		"favicon.ico":                        "image/x-icon",
		"_next/static/media/font-1a2b.woff2": "font/woff2",
		"site.webmanifest":                   "application/manifest+json",
		"robots.txt":                         "text/plain; charset=utf-8",
		"index.txt":                          "text/plain; charset=utf-8",
		"engine.wasm":                        "application/wasm",
		"photo.webp":                         "image/webp",
		"LICENSE":                            "application/octet-stream",
		"archive.unknownext":                 "application/octet-stream",
	} {
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// writeSite writes files (path → content) into a new folder.
func writeSite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHashedAssetsAreImmutableAndEverythingElseIsRevalidated(t *testing.T) {
	dir := writeSite(t, map[string]string{
		"index.html":                     "<p>home</p>",
		"404.html":                       "<p>missing</p>",
		"personas.html":                  "<p>list</p>",
		"favicon.ico":                    "icon",
		"_next/static/chunks/a-1b.js":    "1",
		"_next/static/x/_ssgManifest.js": "2",
		"static/_next/static/b.js":       "3",
	})
	scan, err := Read(dir, []string{"_next/static/"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range scan.Files {
		got[f.Key] = f.CacheControl
	}
	want := map[string]string{
		"index.html":                     "no-cache",
		"404.html":                       "no-cache",
		"personas.html":                  "no-cache",
		"favicon.ico":                    "no-cache",
		"_next/static/chunks/a-1b.js":    "public, max-age=31536000, immutable",
		"_next/static/x/_ssgManifest.js": "public, max-age=31536000, immutable",
		"static/_next/static/b.js":       "no-cache",
	}
	if len(got) != len(want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	for key, cache := range want {
		if got[key] != cache {
			t.Errorf("%s: Cache-Control %q, want %q", key, got[key], cache)
		}
	}
	if scan.Bytes != int64(len("<p>home</p><p>missing</p><p>list</p>icon123")) {
		t.Errorf("bytes = %d", scan.Bytes)
	}
}

func TestASiteFolderMustHoldItsPagesAndNoConfigOfItsOwn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"a build without index.html", map[string]string{"404.html": "x"}, "no index.html"},
		{"a build without a 404 page", map[string]string{"index.html": "x"}, "no 404.html"},
		{"a build holding config.json", map[string]string{"index.html": "x", "404.html": "x", "config.json": "{}"}, "which the stack writes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Read(writeSite(t, tc.files), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := Read(filepath.Join(t.TempDir(), "out"), nil); err == nil || !strings.Contains(err.Error(), "build the site first") {
		t.Errorf("a missing folder: %v", err)
	}
	dir := writeSite(t, map[string]string{"index.html": "x", "404.html": "x"})
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a link in the build: %v", err)
	}
}

func hashOf(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func TestTheCSPAllowsExactlyThePagesInlineScriptsAndStyles(t *testing.T) {
	for _, tc := range []struct {
		name       string
		page       string
		scripts    []string
		styles     []string
		styleAttrs bool
	}{
		{"an inline script", `<script>go()</script>`, []string{"go()"}, nil, false},
		{"a module script", `<script type="module">go()</script>`, []string{"go()"}, nil, false},
		{"an external script is a file of the site", `<script src="/a.js"></script>`, nil, nil, false},
		{"a JSON data block is not run", `<script id="d" type="application/json">{"a":1}</script>`, nil, nil, false},
		{"an empty inline script", `<script></script>`, []string{""}, nil, false},
		{"script text is raw, as the browser hashes it", `<script>if (a &amp;&amp; b < c) go("</div>")</script>`, []string{`if (a &amp;&amp; b < c) go("</div>")`}, nil, false},
		{"newlines are normalized before hashing", "<script>a()\r\nb()</script>", []string{"a()\nb()"}, nil, false},
		{"a style element", `<style>body{margin:0}</style>`, nil, []string{"body{margin:0}"}, false},
		{"a style attribute", `<p style="color:#555">x</p>`, nil, []string{"color:#555"}, true},
		{"attribute entities are decoded", `<p style="content:&quot;x&quot;">x</p>`, nil, []string{`content:"x"`}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scripts, styles := map[string]bool{}, map[string]bool{}
			attrs, err := inlineHashes([]byte("<!DOCTYPE html><html><body>"+tc.page+"</body></html>"), scripts, styles)
			if err != nil {
				t.Fatal(err)
			}
			check := func(kind string, got map[string]bool, texts []string) {
				want := map[string]bool{}
				for _, text := range texts {
					want[hashOf(text)] = true
				}
				if strings.Join(slices.Sorted(maps.Keys(got)), " ") != strings.Join(slices.Sorted(maps.Keys(want)), " ") {
					t.Errorf("%s hashes = %v, want those of %q", kind, slices.Sorted(maps.Keys(got)), texts)
				}
			}
			check("script", scripts, tc.scripts)
			check("style", styles, tc.styles)
			if attrs != tc.styleAttrs {
				t.Errorf("style attributes = %v, want %v", attrs, tc.styleAttrs)
			}
		})
	}
}

func TestTheBaselinePolicyForbidsWhatTheSiteDoesNotNeed(t *testing.T) {
	csp := (&Scan{ScriptHashes: []string{"'sha256-a'"}, StyleHashes: []string{"'sha256-b'"}, StyleAttributes: true}).ContentSecurityPolicy()
	directives := map[string]string{}
	for _, d := range strings.Split(csp, "; ") {
		name, value, _ := strings.Cut(d, " ")
		directives[name] = value
	}
	for name, want := range map[string]string{
		"default-src":     "'self'",
		"script-src":      "'self' 'sha256-a'",
		"style-src":       "'self' 'sha256-b' 'unsafe-hashes'",
		"connect-src":     "'self'",
		"object-src":      "'none'",
		"base-uri":        "'none'",
		"frame-ancestors": "'none'",
	} {
		if directives[name] != want {
			t.Errorf("%s = %q, want %q (policy %s)", name, directives[name], want, csp)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("policy %s allows any inline code", csp)
	}
	if plain := (&Scan{}).ContentSecurityPolicy(); strings.Contains(plain, "unsafe-hashes") {
		t.Errorf("a site without style attributes needs no 'unsafe-hashes': %s", plain)
	}
}
