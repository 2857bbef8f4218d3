// Package staticsite reads a built static site as its hosts serve it: each file with
// its content type, caching and content hash, and the Content-Security-Policy that
// allows exactly the pages' inline scripts and styles. The StaticSite construct
// uploads what it reads, and the dev mode serves it, with the same headers.
package staticsite

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"mime"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/net/html"
)

// ConfigFile is the object a site's host writes beside its files from the stage's
// values, and that the page reads at start: one build serves every stage.
const ConfigFile = "config.json"

// NotFoundPage is served, with status 404, for a path the site does not have.
const NotFoundPage = "404.html"

// Cache-Control of the site's objects. Content-hashed files never change, so browsers
// and CloudFront keep them for a year; everything else is revalidated on each use (a
// cheap 304 while unchanged), so a deploy is live at once without an invalidation.
const (
	CacheImmutable  = "public, max-age=31536000, immutable"
	CacheRevalidate = "no-cache"
)

// contentTypes are the web's types, fixed here rather than read from the machine's
// mime tables (which Go's mime package consults), so every machine synthesizes the
// same objects; Go's mime package answers only for extensions not listed.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".htm":         "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".txt":         "text/plain; charset=utf-8",
	".xml":         "application/xml",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".wasm":        "application/wasm",
	".pdf":         "application/pdf",
}

// ContentType is the Content-Type a browser needs for a file of the site.
func ContentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// File is one file of a built site, as it becomes an S3 object.
type File struct {
	Key          string // slash-separated path in the build, and the object key
	ETag         string // hex MD5 of the content: the ETag S3 gives an SSE-S3 object
	ContentType  string
	CacheControl string
	Bytes        int64
}

// Scan is what a host needs to know of a built site folder.
type Scan struct {
	Dir   string
	Files []File // by key
	Bytes int64
	// ScriptHashes and StyleHashes are the CSP sources ('sha256-…') of the inline
	// scripts and styles of the site's pages, so the policy allows exactly those.
	ScriptHashes []string
	StyleHashes  []string
	// StyleAttributes says some page has style="…" attributes, whose hashes are in
	// StyleHashes and need 'unsafe-hashes' to apply.
	StyleAttributes bool
}

// Read reads a built site: every regular file with its hash, type and caching,
// and the hashes of the pages' inline scripts and styles. Files under one of the
// immutable folders are cached for a year; the others are revalidated.
func Read(dir string, immutable []string) (*Scan, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the site folder: %w (build the site first, or check Path)", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("the site folder %s is a file: give the folder holding index.html", dir)
	}
	scan := &Scan{Dir: dir}
	scripts, styles := map[string]bool{}, map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file (a link?): copy the file itself into the build", key)
		}
		if key == ConfigFile {
			return fmt.Errorf("the build holds %s, which the stack writes from its own values: remove it from the build (serve a local one from the dev server instead)", key)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := md5.Sum(data)
		file := File{
			Key:          key,
			ETag:         hex.EncodeToString(sum[:]),
			ContentType:  ContentType(key),
			CacheControl: CacheRevalidate,
			Bytes:        int64(len(data)),
		}
		for _, prefix := range immutable {
			if strings.HasPrefix(key, prefix) {
				file.CacheControl = CacheImmutable
			}
		}
		if ext := strings.ToLower(path.Ext(key)); ext == ".html" || ext == ".htm" {
			attrs, err := inlineHashes(data, scripts, styles)
			if err != nil {
				return fmt.Errorf("reading %s: %w", key, err)
			}
			scan.StyleAttributes = scan.StyleAttributes || attrs
		}
		scan.Files = append(scan.Files, file)
		scan.Bytes += file.Bytes
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the site folder %s: %w", dir, err)
	}
	present := map[string]bool{}
	for _, f := range scan.Files {
		present[f.Key] = true
	}
	for _, page := range []struct{ key, why string }{
		{"index.html", "the page served at /"},
		{NotFoundPage, "the page served for a missing path (Next.js exports app/not-found.tsx as 404.html)"},
	} {
		if !present[page.key] {
			return nil, fmt.Errorf("the site folder %s has no %s, %s: build the site, or point Path at the build output", dir, page.key, page.why)
		}
	}
	sort.Slice(scan.Files, func(i, j int) bool { return scan.Files[i].Key < scan.Files[j].Key })
	scan.ScriptHashes = slices.Sorted(maps.Keys(scripts))
	scan.StyleHashes = slices.Sorted(maps.Keys(styles))
	return scan, nil
}

// executableScriptTypes are the <script type> values a browser runs, and so the
// ones a Content-Security-Policy governs; other types (application/json) are data.
var executableScriptTypes = map[string]bool{"": true, "text/javascript": true, "application/javascript": true, "module": true}

// inlineHashes adds the CSP hashes of a page's inline <script> and <style> elements
// and style attributes to scripts and styles, and says whether it saw style attributes.
// The tokenizer hands back the element text as the browser hashes it (raw, with
// newlines normalized), so the hashes match what the browser computes.
func inlineHashes(page []byte, scripts, styles map[string]bool) (styleAttrs bool, err error) {
	z := html.NewTokenizer(bytes.NewReader(page))
	var inside map[string]bool // the set the current element's text goes to
	sawText := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return styleAttrs, nil
			}
			return styleAttrs, z.Err()
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			if style, ok := attrs["style"]; ok && style != "" {
				styles[cspHash(style)] = true
				styleAttrs = true
			}
			inside, sawText = nil, false
			if tt == html.SelfClosingTagToken {
				continue
			}
			switch string(name) {
			case "script":
				_, external := attrs["src"]
				if !external && executableScriptTypes[strings.ToLower(strings.TrimSpace(attrs["type"]))] {
					inside = scripts
				}
			case "style":
				inside = styles
			}
		case html.TextToken:
			if inside != nil {
				inside[cspHash(string(z.Text()))] = true
				sawText = true
			}
		case html.EndTagToken:
			if inside != nil && !sawText {
				inside[cspHash("")] = true
			}
			inside = nil
		}
	}
}

// cspHash is the CSP source allowing exactly this inline text.
func cspHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// ContentSecurityPolicy allows the site's own files, exactly its pages' inline scripts
// and styles, and nothing else: no plugins, no framing, and no other origin to call
// than those of connect (the API, the sign-in service).
func (s *Scan) ContentSecurityPolicy(connect ...string) string {
	styles := append([]string{"'self'"}, s.StyleHashes...)
	if s.StyleAttributes {
		styles = append(styles, "'unsafe-hashes'")
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src " + strings.Join(append([]string{"'self'"}, s.ScriptHashes...), " "),
		"style-src " + strings.Join(styles, " "),
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src " + strings.Join(append([]string{"'self'"}, connect...), " "),
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
		"upgrade-insecure-requests",
	}, "; ")
}
