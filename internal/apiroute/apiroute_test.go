package apiroute

import (
	"reflect"
	"strings"
	"testing"
)

func TestARequestGetsTheRouteAPIGatewaySelects(t *testing.T) {
	r, err := New(
		"GET /personas", "POST /personas", "GET /personas/{personaId}", "GET /personas/mine",
		"ANY /files/{path+}", "GET /files/{path+}", "ANY /things/{id}", "DELETE /things/special", "GET /",
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path string
		wantKey            string
		wantParams         map[string]string
	}{
		{"a literal path", "GET", "/personas", "GET /personas", map[string]string{}},
		{"the same path with another method", "POST", "/personas", "POST /personas", map[string]string{}},
		{"a parameter takes one segment", "GET", "/personas/p1", "GET /personas/{personaId}", map[string]string{"personaId": "p1"}},
		{"a literal segment wins over a parameter", "GET", "/personas/mine", "GET /personas/mine", map[string]string{}},
		{"a parameter is decoded", "GET", "/personas/a%2Fb", "GET /personas/{personaId}", map[string]string{"personaId": "a/b"}},
		{"a trailing slash is ignored", "GET", "/personas/p1/", "GET /personas/{personaId}", map[string]string{"personaId": "p1"}},
		{"a method wins over ANY on the same path", "GET", "/files/a/b", "GET /files/{path+}", map[string]string{"path": "a/b"}},
		{"ANY takes the methods no route names", "PATCH", "/files/a/b", "ANY /files/{path+}", map[string]string{"path": "a/b"}},
		{"ANY takes a named method whose own routes do not match", "DELETE", "/things/t1", "ANY /things/{id}", map[string]string{"id": "t1"}},
		{"a method's own literal route", "DELETE", "/things/special", "DELETE /things/special", map[string]string{}},
		{"HEAD is its own method, not GET", "HEAD", "/files/x", "ANY /files/{path+}", map[string]string{"path": "x"}},
		{"the root", "GET", "/", "GET /", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, params, ok := r.Match(tt.method, tt.path)
			if !ok || key != tt.wantKey || !reflect.DeepEqual(params, tt.wantParams) {
				t.Errorf("Match(%s %s) = %q %v %v, want %q %v", tt.method, tt.path, key, params, ok, tt.wantKey, tt.wantParams)
			}
		})
	}
}

func TestARequestNoRouteMatchesGetsDefaultOrNothing(t *testing.T) {
	unmatched := []struct{ method, path string }{
		{"DELETE", "/personas"},       // the path, not the method
		{"GET", "/nothing"},           // no such path
		{"GET", "/personas/p1/extra"}, // a parameter takes one segment only
		{"HEAD", "/personas"},         // GET routes do not take HEAD
		{"POST", "/files"},            // a greedy parameter needs a segment
		{"GET", "/personas//p1"},      // not a clean path
		{"GET", "relative"},           // not a path
	}
	without, err := New("GET /personas", "GET /personas/{personaId}", "ANY /files/{path+}")
	if err != nil {
		t.Fatal(err)
	}
	with, err := New("GET /personas", "GET /personas/{personaId}", "ANY /files/{path+}", Default)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range unmatched {
		if key, _, ok := without.Match(u.method, u.path); ok {
			t.Errorf("%s %s matched %q, want no route", u.method, u.path, key)
		}
		if key, params, ok := with.Match(u.method, u.path); !ok || key != Default || params != nil {
			t.Errorf("%s %s matched %q %v, want %s", u.method, u.path, key, params, Default)
		}
	}
}

func TestRoutesAPIGatewayCouldNotTellApartAreRefused(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want string
	}{
		{"the same path shape twice", []string{"GET /a/{x}", "GET /a/{y}"}, "match the same requests"},
		{"two paths neither more specific", []string{"GET /a/{x}", "GET /{y}/b"}, "overlaps another route"},
		{"no method", []string{"/personas"}, `want "METHOD /path"`},
		{"a greedy parameter before the end", []string{"GET /a/{rest+}/b"}, "must be the last segment"},
		{"a parameter inside a segment", []string{"GET /a/x{id}"}, "a parameter is a whole segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.keys...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%q) = %v, want an error containing %q", tt.keys, err, tt.want)
			}
		})
	}
}
