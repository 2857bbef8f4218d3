package apigw

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// CORS is an HTTP API's cross-origin configuration, which API Gateway applies in front
// of the routes: it answers preflight requests itself and adds the CORS headers to the
// answers of allowed origins, ignoring any the function sets.
type CORS struct {
	AllowOrigins  []string // origins (scheme://host[:port]), or "*"
	AllowMethods  []string
	AllowHeaders  []string
	ExposeHeaders []string
	MaxAgeSeconds int
}

// Handler serves h behind the CORS configuration.
func (c CORS) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := c.allowed(origin)
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			if allowed != "" {
				head := w.Header()
				head.Set("Access-Control-Allow-Origin", allowed)
				head.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
				head.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
				head.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAgeSeconds))
				head.Add("Vary", "Origin")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(&corsWriter{ResponseWriter: w, cors: c, allowed: allowed}, r)
	})
}

// allowed is the Access-Control-Allow-Origin for a request from origin, or "".
func (c CORS) allowed(origin string) string {
	switch {
	case origin == "":
		return ""
	case slices.Contains(c.AllowOrigins, "*"):
		return "*"
	case slices.Contains(c.AllowOrigins, origin):
		return origin
	}
	return ""
}

// corsWriter replaces the function's CORS headers with the API's.
type corsWriter struct {
	http.ResponseWriter
	cors    CORS
	allowed string
	wrote   bool
}

func (w *corsWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		head := w.Header()
		for name := range head {
			if strings.HasPrefix(strings.ToLower(name), "access-control-") {
				head.Del(name)
			}
		}
		if w.allowed != "" {
			head.Set("Access-Control-Allow-Origin", w.allowed)
			if len(w.cors.ExposeHeaders) > 0 {
				head.Set("Access-Control-Expose-Headers", strings.Join(w.cors.ExposeHeaders, ","))
			}
			head.Add("Vary", "Origin")
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *corsWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}
