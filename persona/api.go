package persona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/personabackend/app/internal/apiroute"
)

// Request limits.
const (
	// MaxBodyBytes bounds a POST /personas body; larger bodies get 413. It follows from
	// the character limits, not from the bytes of plain text: the longest valid persona
	// holds 8,600 characters of text (name, description, instructions), which raw UTF-8
	// writes in at most 4 bytes each (8,000 CJK characters: 24 KB), but which an encoder
	// writing ASCII only, as Python's json.dumps does by default, writes as \uXXXX:
	// 6 bytes, or 12 for a character outside the Basic Multilingual Plane (an emoji is
	// a surrogate pair). That is about 112 KB with an escaped model and tools; 128 KiB
	// leaves room for formatting.
	MaxBodyBytes = 128 << 10
	// DefaultLimit and MaxLimit bound a page of GET /personas.
	DefaultLimit = 20
	MaxLimit     = 100
	// MaxIdempotencyKeyLen bounds the Idempotency-Key header.
	MaxIdempotencyKeyLen = 255
)

// personaReader is what the reading routes need from the store.
type personaReader interface {
	Get(ctx context.Context, id string) (Persona, error)
	List(ctx context.Context, q ListQuery) (Page, error)
}

// personaStore is what the API needs from the store.
type personaStore interface {
	personaReader
	Create(ctx context.Context, p Persona) error
	SetTaskState(ctx context.Context, id string, state TaskState, taskErr string, now time.Time) error
	Transition(ctx context.Context, id string, t Transition) error
	CountInFlight(ctx context.Context, user string, limit int) (int, error)
}

// taskPublisher hands provisioning tasks to the worker.
type taskPublisher interface {
	Publish(ctx context.Context, t Task) error
}

// Reader serves the routes that only read the caller's personas, GET /personas (List)
// and GET /personas/{personaId} (Get), as API Gateway v2 (HTTP API) Lambda handlers.
// They need no settings.
type Reader struct {
	Store personaReader
	Log   *slog.Logger
}

// NewReader returns a Reader over store that logs to log.
func NewReader(store personaReader, log *slog.Logger) *Reader {
	return &Reader{Store: store, Log: log}
}

// API serves every persona route: those of Reader, and POST /personas (Request),
// which needs the stage's settings.
type API struct {
	Store personaStore
	Tasks taskPublisher
	Log   *slog.Logger
	Now   func() time.Time
	// Settings are the stage's: POST /personas refuses models and tools it does not
	// offer and users over its cap on personas in flight.
	Settings Settings
}

// NewAPI returns an API over store and tasks that logs to log, with the stage's
// settings; it refuses settings POST /personas cannot work with (no cap on personas
// in flight, say), naming them, so a function stops at init rather than answer every
// request 500.
func NewAPI(store personaStore, tasks taskPublisher, log *slog.Logger, settings Settings) (*API, error) {
	if err := settings.Validate(); err != nil {
		return nil, fmt.Errorf("the persona API's settings (%s): %w", SettingsEnv, err)
	}
	return &API{Store: store, Tasks: tasks, Log: log, Now: time.Now, Settings: settings}, nil
}

// apiError is an error response.
type apiError struct {
	status  int
	code    string
	message string
	headers map[string]string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// Error codes, as sent in {"error": {"code": ...}}.
const (
	CodeInvalidRequest   = "invalid_request"
	CodeInvalidNextToken = "invalid_next_token"
	CodeUnauthorized     = "unauthorized"
	CodeNotFound         = "not_found"
	CodeIdempotencyReuse = "idempotency_key_reused"
	CodeBodyTooLarge     = "body_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeInternal         = "internal_error"
	CodeTaskNotQueued    = "task_not_queued"
	CodeTooManyInFlight  = "too_many_in_flight"
)

// ListResponse is the body of a GET /personas answer.
type ListResponse struct {
	Personas  []Persona `json:"personas"`
	NextToken string    `json:"nextToken,omitempty"`
}

// RequestResponse is the body of a POST /personas answer.
type RequestResponse struct {
	Persona Persona `json:"persona"`
	URL     string  `json:"url"`
}

// GetResponse is the body of a GET /personas/{personaId} answer.
type GetResponse struct {
	Persona Persona `json:"persona"`
}

// List serves GET /personas: the caller's personas, newest first.
// Query parameters: limit (1–100, default 20), status, nextToken.
func (r *Reader) List(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return serve(ctx, r.Log, req, RouteList, r.list), nil
}

// Get serves GET /personas/{personaId}: one of the caller's personas, read strongly
// consistent so that it reflects a POST answered just before.
func (r *Reader) Get(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return serve(ctx, r.Log, req, RouteGet, r.get), nil
}

// Request serves POST /personas: it stores a requested persona and queues its provisioning.
func (a *API) Request(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return serve(ctx, a.Log, req, RouteRequest, a.request), nil
}

// List serves GET /personas as Reader.List does.
func (a *API) List(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.reader().List(ctx, req)
}

// Get serves GET /personas/{personaId} as Reader.Get does.
func (a *API) Get(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.reader().Get(ctx, req)
}

func (a *API) reader() *Reader { return &Reader{Store: a.Store, Log: a.Log} }

type handlerFunc func(ctx context.Context, log *slog.Logger, user string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// serve does what all routes share: it identifies the caller, turns errors into JSON
// error responses and logs one line per request.
func serve(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, route string, h handlerFunc) events.APIGatewayV2HTTPResponse {
	start := time.Now()
	log = log.With("requestId", requestID(ctx), "apiRequestId", req.RequestContext.RequestID, "route", route)
	resp, err := dispatch(ctx, log, req, route, h)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			log.ErrorContext(ctx, "request failed", "error", err.Error())
			ae = errorf(http.StatusInternalServerError, CodeInternal, "something went wrong on our side; try again")
		}
		resp = errorResponse(ae)
	}
	if resp.Headers == nil {
		resp.Headers = map[string]string{}
	}
	// Every answer is about one signed-in caller (a refusal too): no cache, shared or
	// the browser's, may keep it for another request.
	resp.Headers["Cache-Control"] = "no-store"
	log.InfoContext(ctx, "request served", "status", resp.StatusCode, "durationMs", time.Since(start).Milliseconds())
	return resp
}

func dispatch(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, route string, h handlerFunc) (events.APIGatewayV2HTTPResponse, error) {
	params, ok := matchRoute(req, route)
	if !ok {
		return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusNotFound, CodeNotFound, "no route %s %s here; this function serves %s",
			req.RequestContext.HTTP.Method, req.RawPath, route)
	}
	req.PathParameters = params
	user := caller(req)
	if user == "" {
		return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusUnauthorized, CodeUnauthorized, "sign in: the request carries no authenticated user")
	}
	return h(ctx, log.With("user", user), user, req)
}

// matchRoute reports whether req is for route and returns the route's path parameters.
// API Gateway names the matched route in RouteKey and fills PathParameters; under a
// $default route, or from callers that set no route, the method and path are matched
// against route as API Gateway matches routes.
func matchRoute(req events.APIGatewayV2HTTPRequest, route string) (map[string]string, bool) {
	if req.RouteKey != "" && req.RouteKey != apiroute.Default {
		return req.PathParameters, req.RouteKey == route
	}
	router, err := apiroute.New(route)
	if err != nil {
		return nil, false
	}
	key, params, ok := router.Match(req.RequestContext.HTTP.Method, req.RawPath)
	return params, ok && key == route
}

// caller returns the authenticated user: the JWT authorizer's sub claim, and nothing else.
func caller(req events.APIGatewayV2HTTPRequest) string {
	auth := req.RequestContext.Authorizer
	if auth == nil || auth.JWT == nil {
		return ""
	}
	return strings.TrimSpace(auth.JWT.Claims["sub"])
}

func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

func header(req events.APIGatewayV2HTTPRequest, name string) string {
	v, _ := headerOK(req, name)
	return v
}

// headerOK finds a header by name in any case: API Gateway lowercases header names,
// other callers (tests, the local front door) may not.
func headerOK(req events.APIGatewayV2HTTPRequest, name string) (string, bool) {
	if v, ok := req.Headers[name]; ok {
		return v, true
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func jsonResponse(status int, body any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal_error","message":"encoding the response failed"}}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}

func errorResponse(e *apiError) events.APIGatewayV2HTTPResponse {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	resp := jsonResponse(e.status, struct {
		Error detail `json:"error"`
	}{detail{e.code, e.message}})
	for k, v := range e.headers {
		resp.Headers[k] = v
	}
	return resp
}
