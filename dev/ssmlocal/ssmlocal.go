// Package ssmlocal answers SSM GetParameter requests from a local secret store, so
// handlers read their secrets through the SSM API unchanged in the local dev mode.
package ssmlocal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Getter reads parameter values; missing parameters are absent from the result.
type Getter interface {
	Get(ctx context.Context, parameters []string) (map[string]string, error)
}

// Server is an http.Handler for the SSM JSON protocol (awsJson1_1): GetParameter and GetParameters.
type Server struct {
	store  Getter
	region string
}

// New returns a server that reads values from store.
func New(store Getter, region string) *Server { return &Server{store: store, region: region} }

type parameter struct {
	Name             string  `json:"Name"`
	Type             string  `json:"Type"`
	Value            string  `json:"Value"`
	Version          int     `json:"Version"`
	ARN              string  `json:"ARN"`
	DataType         string  `json:"DataType"`
	LastModifiedDate float64 `json:"LastModifiedDate"`
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	var in struct {
		Name  string
		Names []string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "ValidationException", "malformed request body")
		return
	}
	switch op {
	case "GetParameter":
		values, err := s.store.Get(r.Context(), []string{in.Name})
		if err != nil {
			writeError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
			return
		}
		v, ok := values[in.Name]
		if !ok {
			writeError(w, http.StatusBadRequest, "ParameterNotFound", "")
			return
		}
		json.NewEncoder(w).Encode(map[string]parameter{"Parameter": s.parameter(in.Name, v)})
	case "GetParameters":
		values, err := s.store.Get(r.Context(), in.Names)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
			return
		}
		params, invalid := []parameter{}, []string{}
		for _, n := range in.Names {
			if v, ok := values[n]; ok {
				params = append(params, s.parameter(n, v))
			} else {
				invalid = append(invalid, n)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"Parameters": params, "InvalidParameters": invalid})
	default:
		writeError(w, http.StatusBadRequest, "InvalidAction", fmt.Sprintf("the local SSM does not implement %q", op))
	}
}

func (s *Server) parameter(name, value string) parameter {
	return parameter{
		Name:             name,
		Type:             "SecureString",
		Value:            value,
		Version:          1,
		ARN:              fmt.Sprintf("arn:aws:ssm:%s:000000000000:parameter%s", s.region, name),
		DataType:         "text",
		LastModifiedDate: float64(time.Now().Unix()),
	}
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}
