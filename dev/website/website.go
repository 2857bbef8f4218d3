// Package website serves a built static site on this machine as a StaticSite's
// CloudFront distribution serves it: clean URLs, the 404 page with status 404, each
// file's content type and caching, config.json written by the host, and the same
// security headers with a Content-Security-Policy whose connect-src names exactly the
// origins the page calls.
package website

import (
	"bytes"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/personabackend/app/internal/staticsite"
)

// Handler serves the site scan read, with config as its config.json, letting its pages
// call the origins in connect.
func Handler(scan *staticsite.Scan, config []byte, connect ...string) http.Handler {
	files := make(map[string]staticsite.File, len(scan.Files))
	for _, f := range scan.Files {
		files[f.Key] = f
	}
	return &handler{
		scan: scan, files: files, config: config,
		// CloudFront's viewer-response function widens connect-src on the pages it
		// serves; error pages keep the headers policy's stricter one.
		pagePolicy:  scan.ContentSecurityPolicy(connect...),
		errorPolicy: scan.ContentSecurityPolicy(),
		started:     time.Now(),
	}
}

type handler struct {
	scan        *staticsite.Scan
	files       map[string]staticsite.File
	config      []byte
	pagePolicy  string
	errorPolicy string
	started     time.Time
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	head := w.Header()
	head.Set("X-Content-Type-Options", "nosniff")
	head.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	head.Set("X-Frame-Options", "DENY")
	// No Strict-Transport-Security: browsers ignore it over plain http.
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		head.Set("Allow", "GET, HEAD")
		head.Set("Content-Security-Policy", h.errorPolicy)
		http.Error(w, "This site takes GET and HEAD requests only.", http.StatusMethodNotAllowed)
		return
	}
	key := cleanKey(r.URL.Path)
	if key == staticsite.ConfigFile {
		head.Set("Content-Security-Policy", h.pagePolicy)
		head.Set("Content-Type", "application/json")
		head.Set("Cache-Control", staticsite.CacheRevalidate)
		http.ServeContent(w, r, key, h.started, bytes.NewReader(h.config))
		return
	}
	file, ok := h.files[key]
	status := http.StatusOK
	if !ok {
		file, status = h.files[staticsite.NotFoundPage], http.StatusNotFound
	}
	data, err := os.ReadFile(filepath.Join(h.scan.Dir, filepath.FromSlash(file.Key)))
	if err != nil {
		head.Set("Content-Security-Policy", h.errorPolicy)
		http.Error(w, "The site's build changed while serving it: "+err.Error(), http.StatusInternalServerError)
		return
	}
	head.Set("Content-Type", file.ContentType)
	head.Set("Cache-Control", file.CacheControl)
	if status != http.StatusOK {
		head.Set("Content-Security-Policy", h.errorPolicy)
		w.WriteHeader(status)
		if r.Method == http.MethodGet {
			w.Write(data)
		}
		return
	}
	head.Set("Content-Security-Policy", h.pagePolicy)
	head.Set("ETag", `"`+file.ETag+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// cleanKey maps a URL path to the file that serves it, as the site's CloudFront
// function does: "/" and "/folder/" to their index.html, a last segment without a dot
// to that name plus ".html", anything else as it is.
func cleanKey(urlPath string) string {
	p := path.Clean("/" + urlPath)
	if strings.HasSuffix(urlPath, "/") {
		return strings.TrimPrefix(path.Join(p, "index.html"), "/")
	}
	if !strings.Contains(path.Base(p), ".") {
		p += ".html"
	}
	return strings.TrimPrefix(p, "/")
}
