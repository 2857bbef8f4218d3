// Package ssmlocal answers SSM GetParameter and GetParameters requests from local
// parameters, so handlers read their secrets through the SSM API unchanged in the local
// dev mode, with Parameter Store's types, limits, errors and permissions.
package ssmlocal

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/internal/iamaction"
)

// Parameter types, as Parameter Store names them.
const (
	String       = "String"
	StringList   = "StringList"
	SecureString = "SecureString"
)

// Parameter is a parameter as Parameter Store keeps it.
type Parameter struct {
	Name         string
	Type         string // String, StringList or SecureString
	Value        string
	Version      int64 // 0 is taken as 1
	LastModified time.Time
}

// Source answers parameters by name; missing parameters are absent from the result.
type Source interface {
	Parameters(ctx context.Context, names []string) (map[string]Parameter, error)
}

// Getter reads values by name; missing names are absent from the result.
type Getter interface {
	Get(ctx context.Context, names []string) (map[string]string, error)
}

// SecureStrings serves a secret store's values as the SecureString parameters the
// secrets commands write.
func SecureStrings(store Getter) Source { return secureStrings{store} }

type secureStrings struct{ store Getter }

func (s secureStrings) Parameters(ctx context.Context, names []string) (map[string]Parameter, error) {
	values, err := s.store.Get(ctx, names)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Parameter, len(values))
	for name, v := range values {
		out[name] = Parameter{Name: name, Type: SecureString, Value: v}
	}
	return out, nil
}

// Authorizer decides whether the caller of a request may make a call (nil: it may),
// and records the use of a grant for calls another policy allows anyway.
type Authorizer interface {
	Authorize(r *http.Request, call iam.Call) *iam.Denial
	Use(r *http.Request, call iam.Call)
}

// Server is an http.Handler for the SSM JSON protocol (awsJson1_1): GetParameter and GetParameters.
type Server struct {
	src     Source
	region  string
	authz   Authorizer
	started time.Time
	// sealKey makes the opaque stand-in for a SecureString's ciphertext.
	sealKey []byte
}

// Option configures a Server.
type Option func(*Server)

// WithAuthorizer makes the server ask a whether the caller may read each parameter.
func WithAuthorizer(a Authorizer) Option { return func(s *Server) { s.authz = a } }

// New returns a server that reads parameters from src.
func New(src Source, region string, opts ...Option) *Server {
	key := make([]byte, 32)
	rand.Read(key)
	s := &Server{src: src, region: region, started: time.Now(), sealKey: key}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ssmManagedKeyID names the local stand-in for the aws/ssm key, which encrypts SecureStrings.
const ssmManagedKeyID = "00000000-0000-0000-0000-000000000001"

// maxNames is the most names one GetParameters call takes.
const maxNames = 10

// apiError is an SSM error: its __type, message and HTTP status.
type apiError struct {
	code, message string
	status        int
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

type parameter struct {
	Name             string  `json:"Name"`
	Type             string  `json:"Type"`
	Value            string  `json:"Value"`
	Version          int64   `json:"Version"`
	ARN              string  `json:"ARN"`
	DataType         string  `json:"DataType"`
	LastModifiedDate float64 `json:"LastModifiedDate"`
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
	var in struct {
		Name           string
		Names          []string
		WithDecryption bool
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, &apiError{code: "SerializationException", message: "malformed request body", status: http.StatusBadRequest})
		return
	}
	var res any
	action, err := iamaction.For("ssm", op)
	switch {
	case err != nil:
		err = &apiError{code: "UnknownOperationException", message: err.Error(), status: http.StatusBadRequest}
	case op == "GetParameter":
		res, err = s.getParameter(r, action, in.Name, in.WithDecryption)
	case op == "GetParameters":
		res, err = s.getParameters(r, action, in.Names, in.WithDecryption)
	default:
		err = &apiError{code: "UnknownOperationException", message: fmt.Sprintf("the local SSM does not implement %q", op), status: http.StatusBadRequest}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	json.NewEncoder(w).Encode(res)
}

func (s *Server) getParameter(r *http.Request, action, name string, decrypt bool) (any, error) {
	if err := s.authorize(r, action, name); err != nil {
		return nil, err
	}
	found, err := s.lookup(r.Context(), []string{name})
	if err != nil {
		return nil, err
	}
	p, ok := found[name]
	if !ok {
		// Parameter Store answers this with an empty message.
		return nil, &apiError{code: "ParameterNotFound", status: http.StatusBadRequest}
	}
	return map[string]parameter{"Parameter": s.answer(r, p, decrypt)}, nil
}

func (s *Server) getParameters(r *http.Request, action string, names []string, decrypt bool) (any, error) {
	if len(names) > maxNames {
		return nil, &apiError{code: "ValidationException", status: http.StatusBadRequest, message: fmt.Sprintf(
			"1 validation error detected: Value '[%s]' at 'names' failed to satisfy constraint: Member must have length less than or equal to %d",
			strings.Join(names, ", "), maxNames)}
	}
	for _, n := range names {
		if err := s.authorize(r, action, n); err != nil {
			return nil, err
		}
	}
	found, err := s.lookup(r.Context(), names)
	if err != nil {
		return nil, err
	}
	params, invalid := []parameter{}, []string{}
	for _, n := range names {
		if p, ok := found[n]; ok {
			params = append(params, s.answer(r, p, decrypt))
		} else {
			invalid = append(invalid, n)
		}
	}
	return map[string]any{"Parameters": params, "InvalidParameters": invalid}, nil
}

func (s *Server) lookup(ctx context.Context, names []string) (map[string]Parameter, error) {
	found, err := s.src.Parameters(ctx, names)
	if err != nil {
		return nil, &apiError{code: "InternalServerError", message: err.Error(), status: http.StatusInternalServerError}
	}
	return found, nil
}

// ARN is the local ARN of the parameter named name.
func (s *Server) ARN(name string) string {
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", s.region, iam.LocalAccount, strings.TrimPrefix(name, "/"))
}

// authorize asks whether the caller may make action on the parameter named name; as
// Parameter Store does, it answers AccessDeniedException before saying whether the
// parameter exists.
func (s *Server) authorize(r *http.Request, action, name string) error {
	if s.authz == nil {
		return nil
	}
	if d := s.authz.Authorize(r, iam.Call{Action: action, Resource: s.ARN(name)}); d != nil {
		return &apiError{code: "AccessDeniedException", message: d.Message(action), status: http.StatusBadRequest}
	}
	return nil
}

// answer is p as GetParameter answers it. A SecureString's value is its plaintext
// only with decryption; otherwise it is an opaque stand-in for the ciphertext.
// Decryption goes through KMS with Parameter Store's own AWS-managed key, whose key
// policy lets every principal of the account decrypt through SSM: the identity
// policy's kms:Decrypt grant is recorded as used when it covers the call, and
// decides nothing.
func (s *Server) answer(r *http.Request, p Parameter, decrypt bool) parameter {
	value := p.Value
	if p.Type == SecureString {
		if decrypt && s.authz != nil {
			s.authz.Use(r, iam.Call{
				Action:   "kms:Decrypt",
				Resource: fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", s.region, iam.LocalAccount, ssmManagedKeyID),
				Context: map[string][]string{
					"kms:ViaService":                      {"ssm." + s.region + ".amazonaws.com"},
					"kms:EncryptionContext:PARAMETER_ARN": {s.ARN(p.Name)},
				},
			})
		}
		if !decrypt {
			value = s.seal(p)
		}
	}
	version := p.Version
	if version == 0 {
		version = 1
	}
	modified := p.LastModified
	if modified.IsZero() {
		modified = s.started
	}
	return parameter{
		Name: p.Name, Type: p.Type, Value: value, Version: version, ARN: s.ARN(p.Name),
		DataType: "text", LastModifiedDate: float64(modified.UnixMilli()) / 1000,
	}
}

// seal is an opaque stand-in for a SecureString's ciphertext: the same for the same
// parameter and value while the server runs, and never the plaintext.
func (s *Server) seal(p Parameter) string {
	mac := hmac.New(sha256.New, s.sealKey)
	mac.Write([]byte(p.Name + "\x00" + strconv.FormatInt(p.Version, 10) + "\x00" + p.Value))
	return base64.StdEncoding.EncodeToString(append([]byte("local-ciphertext:"), mac.Sum(nil)...))
}

func writeError(w http.ResponseWriter, err error) {
	ae, ok := err.(*apiError)
	if !ok {
		ae = &apiError{code: "InternalServerError", message: err.Error(), status: http.StatusInternalServerError}
	}
	w.WriteHeader(ae.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": ae.code, "message": ae.message})
}
