// Package apiroute selects the API Gateway HTTP API route of a request ("GET /personas",
// "GET /personas/{personaId}", "ANY /files/{path+}", "$default") as API Gateway does:
// among the routes whose method is the request's or ANY, the most specific path
// (literal segments before parameters before a greedy parameter), a method before ANY,
// and $default when nothing else matches.
//
// Paths are matched by Go's ServeMux patterns, one mux per method: the local API
// (dev/apigw) and a handler under a $default route (persona) match the same way.
package apiroute

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Default is the route key that catches requests no other route matches.
const Default = "$default"

// Router selects the route of a request among a set of route keys.
type Router struct {
	// byMethod holds, for each method some route names, the routes that method
	// reaches (its own and ANY); anyOnly holds the ANY routes, for every other method.
	byMethod   map[string]*http.ServeMux
	anyOnly    *http.ServeMux
	hasDefault bool
}

type route struct {
	key    string
	params []string // API Gateway's parameter names, by wildcard position
}

// matchKey carries the result of a match out of the ServeMux.
type matchKey struct{}

type match struct {
	key    string
	params map[string]string
}

var parameter = regexp.MustCompile(`^\{([^{}+]+)(\+?)\}$`)

// New returns a router over keys. It fails on a key that is not "METHOD /path" or
// $default, and on two routes no request could tell apart the way API Gateway does.
func New(keys ...string) (*Router, error) {
	r := &Router{byMethod: map[string]*http.ServeMux{}, anyOnly: http.NewServeMux()}
	type parsed struct {
		method, pattern string
		route           route
	}
	var routes []parsed
	for _, key := range keys {
		if key == Default {
			r.hasDefault = true
			continue
		}
		method, path, ok := strings.Cut(key, " ")
		if !ok || method == "" || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("route %q: want \"METHOD /path\" or %q", key, Default)
		}
		pattern, params, err := muxPattern(path)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", key, err)
		}
		routes = append(routes, parsed{method: method, pattern: pattern, route: route{key: key, params: params}})
		if method != "ANY" && r.byMethod[method] == nil {
			r.byMethod[method] = http.NewServeMux()
		}
	}
	// Each mux gets, per path, the route of its own method, else the ANY route.
	for method, mux := range r.byMethod {
		chosen := map[string]parsed{}
		for _, p := range routes {
			if p.method != method && p.method != "ANY" {
				continue
			}
			prev, taken := chosen[p.pattern]
			if taken && prev.method == p.method {
				return nil, fmt.Errorf("routes %q and %q match the same requests", prev.route.key, p.route.key)
			}
			if taken && prev.method == method {
				continue // the method's own route wins over ANY on the same path
			}
			chosen[p.pattern] = p
		}
		for _, p := range chosen {
			if err := handle(mux, p.pattern, p.route); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range routes {
		if p.method == "ANY" {
			if err := handle(r.anyOnly, p.pattern, p.route); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// muxPattern turns an API Gateway path into a ServeMux pattern without a method:
// {name} becomes a wildcard for one segment, {name+} one for the rest of the path.
// Wildcards are named by position, since ServeMux accepts fewer names than API Gateway.
func muxPattern(path string) (string, []string, error) {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	if segments[0] == "" {
		return "/{$}", nil, nil
	}
	var params []string
	for i, seg := range segments {
		m := parameter.FindStringSubmatch(seg)
		if m == nil {
			if strings.ContainsAny(seg, "{}+") {
				return "", nil, fmt.Errorf("segment %q: a parameter is a whole segment, {name} or {name+}", seg)
			}
			continue
		}
		greedy := m[2] == "+"
		if greedy && i != len(segments)-1 {
			return "", nil, fmt.Errorf("the greedy parameter {%s+} must be the last segment", m[1])
		}
		wildcard := fmt.Sprintf("{p%d}", len(params))
		if greedy {
			wildcard = fmt.Sprintf("{p%d...}", len(params))
		}
		segments[i] = wildcard
		params = append(params, m[1])
	}
	return "/" + strings.Join(segments, "/"), params, nil
}

// handle registers rt under pattern; ServeMux panics on patterns it cannot order.
func handle(mux *http.ServeMux, pattern string, rt route) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("route %q overlaps another route without either being more specific: %v", rt.key, p)
		}
	}()
	mux.HandleFunc(pattern, func(_ http.ResponseWriter, req *http.Request) {
		m := req.Context().Value(matchKey{}).(*match)
		m.key = rt.key
		for i, name := range rt.params {
			m.params[name] = req.PathValue(fmt.Sprintf("p%d", i))
		}
	})
	return nil
}

// Match returns the route key API Gateway selects for a request with method and
// escapedPath (the path as sent, percent-encoded), and the values of its path
// parameters, decoded; ok is false when no route, not even $default, matches.
// A trailing slash is ignored, as API Gateway ignores it.
func (r *Router) Match(method, escapedPath string) (key string, params map[string]string, ok bool) {
	if trimmed := strings.TrimRight(escapedPath, "/"); trimmed != "" {
		escapedPath = trimmed
	}
	if u, err := url.Parse(escapedPath); err == nil && strings.HasPrefix(escapedPath, "/") {
		mux := r.byMethod[method]
		if mux == nil {
			mux = r.anyOnly
		}
		m := &match{params: map[string]string{}}
		req := (&http.Request{Method: method, URL: u, Host: "local"}).WithContext(context.WithValue(context.Background(), matchKey{}, m))
		mux.ServeHTTP(discard{}, req)
		if m.key != "" {
			return m.key, m.params, true
		}
	}
	if r.hasDefault {
		return Default, nil, true
	}
	return "", nil, false
}

// discard is where ServeMux writes its own answers (not found, redirects), unused.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
