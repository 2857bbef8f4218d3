// Package dynamoproxy serves the DynamoDB API in front of dynalite and adds what the
// local dev mode needs and dynalite lacks: AWS's refusal of empty strings in key
// attributes, and each caller's IAM policy, with DynamoDB's errors for both.
package dynamoproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/personabackend/app/dev/iam"
)

// targetPrefix starts the X-Amz-Target of every DynamoDB operation.
const targetPrefix = "DynamoDB_20120810."

// IsDynamoDB reports whether r is a DynamoDB request.
func IsDynamoDB(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
}

// Authorizer decides whether the caller of a request may make a call; it answers
// nil when it may.
type Authorizer interface {
	Authorize(r *http.Request, call iam.Call) *iam.Denial
}

// Proxy is an http.Handler that checks DynamoDB requests and passes them to dynalite.
type Proxy struct {
	target string // dynalite's base URL
	region string
	authz  Authorizer
	client *http.Client

	mu      sync.Mutex
	schemas map[string]*schema // by table name
}

// Option configures a Proxy.
type Option func(*Proxy)

// WithAuthorizer makes the proxy ask a whether the caller may make each call.
func WithAuthorizer(a Authorizer) Option { return func(p *Proxy) { p.authz = a } }

// New returns a proxy to the DynamoDB API dynalite serves at target.
func New(target, region string, opts ...Option) *Proxy {
	p := &Proxy{
		target:  strings.TrimRight(target, "/"),
		region:  region,
		client:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}},
		schemas: map[string]*schema{},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// maxRequest is larger than any request DynamoDB accepts (16 MB for a batch).
const maxRequest = 32 << 20

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
	if err != nil {
		writeError(w, http.StatusBadRequest, "com.amazon.coral.service#SerializationException", "reading the request: "+err.Error())
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	var req request
	// A request the proxy cannot read is refused here, as DynamoDB refuses it: passed
	// on, it would reach dynalite without the caller's policy being asked.
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "com.amazon.coral.service#SerializationException", "the request body is not a DynamoDB request: "+err.Error())
		return
	}
	if p.authz != nil {
		calls, err := req.calls(op, p.arn)
		if err != nil {
			writeError(w, http.StatusBadRequest, "com.amazon.coral.service#UnknownOperationException", "the local DynamoDB cannot authorize "+op+": "+err.Error())
			return
		}
		for _, call := range calls {
			if d := p.authz.Authorize(r, call); d != nil {
				writeError(w, http.StatusBadRequest, "com.amazon.coral.service#AccessDeniedException", d.Message(call.Action))
				return
			}
		}
	}
	if msg := p.checkKeys(r, op, &req); msg != "" {
		writeError(w, http.StatusBadRequest, "com.amazon.coral.validate#ValidationException", msg)
		return
	}
	status := p.forward(w, r, body)
	if status == http.StatusOK && (op == "CreateTable" || op == "DeleteTable" || op == "UpdateTable") {
		p.forget(req.TableName)
	}
}

// arn is the local ARN of a table, or of one of its indexes.
func (p *Proxy) arn(table, index string) string {
	arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", p.region, iam.LocalAccount, table)
	if index != "" {
		arn += "/index/" + index
	}
	return arn
}

// forward passes the request to dynalite and its answer back, unchanged; it answers
// the status it passed back.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, body []byte) int {
	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "com.amazon.coral.service#InternalFailure", err.Error())
		return http.StatusInternalServerError
	}
	out.Header = r.Header.Clone()
	resp, err := p.client.Do(out)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "com.amazon.coral.service#ServiceUnavailableException", "the local DynamoDB (dynalite) does not answer: "+err.Error())
		return http.StatusServiceUnavailable
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
	return resp.StatusCode
}

// writeError answers a DynamoDB error, shaped as DynamoDB shapes it, with the CRC32
// checksum of the body that DynamoDB sends and the SDK checks.
func writeError(w http.ResponseWriter, status int, typ, message string) {
	key := "message"
	if strings.HasSuffix(typ, "#AccessDeniedException") {
		// DynamoDB's IAM denials spell the key with a capital.
		key = "Message"
	}
	body, _ := json.Marshal(map[string]string{"__type": typ, key: message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.WriteHeader(status)
	w.Write(body)
}
