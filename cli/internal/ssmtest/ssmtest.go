// Package ssmtest serves a test double of SSM Parameter Store for tests: an in-memory
// fake that speaks SSM's JSON wire protocol (awsJson1_1), because no SSM emulator runs here.
//
// It implements what this project's secret store calls (PutParameter, GetParameters,
// DeleteParameter) and what functions call at run time (GetParameter), and records the type each parameter was written with,
// so tests can check that values are stored as SecureString.
package ssmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Parameter is a stored parameter.
type Parameter struct {
	Value string
	Type  string
}

// Server is the test double. Its URL is the endpoint to give the SDK.
type Server struct {
	URL string

	mu       sync.Mutex
	params   map[string]Parameter
	failPuts map[string]bool
}

// Start serves a test double on a loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{params: map[string]Parameter{}, failPuts: map[string]bool{}}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Parameters returns a copy of what is stored.
func (s *Server) Parameters() map[string]Parameter {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Parameter, len(s.params))
	for k, v := range s.params {
		out[k] = v
	}
	return out
}

// Set stores a parameter as a SecureString, as if written by another tool.
func (s *Server) Set(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.params[name] = Parameter{Value: value, Type: "SecureString"}
}

// FailPut makes every later PutParameter of name fail with AccessDeniedException, an error
// the SDK does not retry.
func (s *Server) FailPut(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPuts[name] = true
}

type wireParameter struct {
	Name    string
	Type    string
	Value   string
	Version int
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	var in struct {
		Name           string
		Names          []string
		Value          string
		Type           string
		Overwrite      bool
		WithDecryption bool
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fail(w, "ValidationException", "body is not JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch target {
	case "PutParameter":
		if s.failPuts[in.Name] {
			fail(w, "AccessDeniedException", "not allowed to write "+in.Name)
			return
		}
		if _, exists := s.params[in.Name]; exists && !in.Overwrite {
			fail(w, "ParameterAlreadyExists", "The parameter already exists.")
			return
		}
		s.params[in.Name] = Parameter{Value: in.Value, Type: in.Type}
		reply(w, map[string]any{"Version": 1, "Tier": "Standard"})
	case "GetParameter":
		p, ok := s.params[in.Name]
		if !ok {
			fail(w, "ParameterNotFound", "")
			return
		}
		reply(w, map[string]any{"Parameter": s.wire(in.Name, p, in.WithDecryption)})
	case "GetParameters":
		if len(in.Names) > 10 {
			fail(w, "ValidationException", fmt.Sprintf("names: %d is more than 10", len(in.Names)))
			return
		}
		found, invalid := []wireParameter{}, []string{}
		for _, name := range in.Names {
			if p, ok := s.params[name]; ok {
				found = append(found, s.wire(name, p, in.WithDecryption))
			} else {
				invalid = append(invalid, name)
			}
		}
		sort.Strings(invalid)
		reply(w, map[string]any{"Parameters": found, "InvalidParameters": invalid})
	case "DeleteParameter":
		if _, ok := s.params[in.Name]; !ok {
			fail(w, "ParameterNotFound", "")
			return
		}
		delete(s.params, in.Name)
		reply(w, map[string]any{})
	default:
		fail(w, "UnknownOperationException", "the test double does not implement "+target)
	}
}

func (s *Server) wire(name string, p Parameter, decrypt bool) wireParameter {
	value := p.Value
	if p.Type == "SecureString" && !decrypt {
		value = "encrypted:" + value
	}
	return wireParameter{Name: name, Type: p.Type, Value: value, Version: 1}
}

func reply(w http.ResponseWriter, body any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(body)
}

func fail(w http.ResponseWriter, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}
