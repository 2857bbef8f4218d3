package constructs

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

// PublicConfigFile is the object a StaticSite writes beside its files from the stack's
// values, and that the page reads at start: one build serves every stage.
const PublicConfigFile = "config.json"

// Cache-Control of the site's objects. Content-hashed files never change, so browsers
// and CloudFront keep them for a year; everything else is revalidated on each use (a
// cheap 304 while unchanged), so a deploy is live at once without an invalidation.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
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

// contentType is the Content-Type a browser needs for a file of the site.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// siteFile is one file of a built site, as it becomes an S3 object.
type siteFile struct {
	Key          string // slash-separated path in the build, and the object key
	ETag         string // hex MD5 of the content: the ETag S3 gives an SSE-S3 object
	ContentType  string
	CacheControl string
	Bytes        int64
}

// siteScan is what synth needs to know of a built site folder.
type siteScan struct {
	Dir   string
	Files []siteFile // by key
	Bytes int64
	// ScriptHashes and StyleHashes are the CSP sources ('sha256-…') of the inline
	// scripts and styles of the site's pages, so the policy allows exactly those.
	ScriptHashes []string
	StyleHashes  []string
	// StyleAttributes says some page has style="…" attributes, whose hashes are in
	// StyleHashes and need 'unsafe-hashes' to apply.
	StyleAttributes bool
}

// scanSite reads a built site: every regular file with its hash, type and caching,
// and the hashes of the pages' inline scripts and styles. Files under one of the
// immutable folders are cached for a year; the others are revalidated.
func scanSite(dir string, immutable []string) (*siteScan, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the site folder: %w (build the site first, or check Path)", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("the site folder %s is a file: give the folder holding index.html", dir)
	}
	scan := &siteScan{Dir: dir}
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
		if key == PublicConfigFile {
			return fmt.Errorf("the build holds %s, which the stack writes from its own values: remove it from the build (serve a local one from the dev server instead)", key)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := md5.Sum(data)
		file := siteFile{
			Key:          key,
			ETag:         hex.EncodeToString(sum[:]),
			ContentType:  contentType(key),
			CacheControl: cacheRevalidate,
			Bytes:        int64(len(data)),
		}
		for _, prefix := range immutable {
			if strings.HasPrefix(key, prefix) {
				file.CacheControl = cacheImmutable
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
		{notFoundPage, "the page served for a missing path (Next.js exports app/not-found.tsx as 404.html)"},
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
