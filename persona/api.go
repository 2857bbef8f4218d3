package persona

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"
)

// Request limits.
const (
	// MaxBodyBytes bounds a POST /personas body; larger bodies get 413.
	MaxBodyBytes = 16 << 10
	// DefaultLimit and MaxLimit bound a page of GET /personas.
	DefaultLimit = 20
	MaxLimit     = 100
	// MaxIdempotencyKeyLen bounds the Idempotency-Key header.
	MaxIdempotencyKeyLen = 255
)

// personaStore is what the API needs from the store.
type personaStore interface {
	Create(ctx context.Context, p Persona) error
	Get(ctx context.Context, id string) (Persona, error)
	SetTaskState(ctx context.Context, id string, state TaskState, taskErr string, now time.Time) error
	Transition(ctx context.Context, id string, t Transition) error
	List(ctx context.Context, q ListQuery) (Page, error)
}

// taskPublisher hands provisioning tasks to the worker.
type taskPublisher interface {
	Publish(ctx context.Context, t Task) error
}

// API serves the persona routes as API Gateway v2 (HTTP API) Lambda handlers.
type API struct {
	Store personaStore
	Tasks taskPublisher
	Log   *slog.Logger
	Now   func() time.Time
}

// NewAPI returns an API over store and tasks that logs to log.
func NewAPI(store personaStore, tasks taskPublisher, log *slog.Logger) *API {
	return &API{Store: store, Tasks: tasks, Log: log, Now: time.Now}
}

// apiError is an error response.
type apiError struct {
	status  int
	code    string
	message string
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
func (a *API) List(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, RouteList, a.list), nil
}

// Request serves POST /personas: it stores a requested persona and queues its provisioning.
func (a *API) Request(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, RouteRequest, a.request), nil
}

// Get serves GET /personas/{personaId}: one of the caller's personas, read strongly
// consistent so that it reflects a POST answered just before.
func (a *API) Get(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.serve(ctx, req, RouteGet, a.get), nil
}

type handlerFunc func(ctx context.Context, log *slog.Logger, user string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// serve does what all routes share: it identifies the caller, turns errors into JSON
// error responses and logs one line per request.
func (a *API) serve(ctx context.Context, req events.APIGatewayV2HTTPRequest, route string, h handlerFunc) events.APIGatewayV2HTTPResponse {
	start := time.Now()
	log := a.Log.With("requestId", requestID(ctx), "apiRequestId", req.RequestContext.RequestID, "route", route)
	resp, err := a.dispatch(ctx, log, req, route, h)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			log.ErrorContext(ctx, "request failed", "error", err.Error())
			ae = errorf(http.StatusInternalServerError, CodeInternal, "something went wrong on our side; try again")
		}
		resp = errorResponse(ae)
	}
	log.InfoContext(ctx, "request served", "status", resp.StatusCode, "durationMs", time.Since(start).Milliseconds())
	return resp
}

func (a *API) dispatch(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, route string, h handlerFunc) (events.APIGatewayV2HTTPResponse, error) {
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
// against the route's pattern, each {name} segment matching one path segment.
func matchRoute(req events.APIGatewayV2HTTPRequest, route string) (map[string]string, bool) {
	if req.RouteKey != "" && req.RouteKey != "$default" {
		return req.PathParameters, req.RouteKey == route
	}
	method, pattern, _ := strings.Cut(route, " ")
	want := strings.Split(pattern, "/")
	got := strings.Split(strings.TrimSuffix(req.RawPath, "/"), "/")
	if req.RequestContext.HTTP.Method != method || len(got) != len(want) {
		return nil, false
	}
	params := map[string]string{}
	for i, seg := range want {
		name, isParam := strings.CutPrefix(seg, "{")
		if !isParam {
			if got[i] != seg {
				return nil, false
			}
			continue
		}
		v, err := url.PathUnescape(got[i])
		if err != nil || v == "" {
			return nil, false
		}
		params[strings.TrimSuffix(name, "}")] = v
	}
	return params, true
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

func (a *API) list(ctx context.Context, log *slog.Logger, user string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	q := ListQuery{UserID: user, Limit: DefaultLimit}
	params := req.QueryStringParameters
	if v, ok := params["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusBadRequest, CodeInvalidRequest, "limit must be a whole number from 1 to %d", MaxLimit)
		}
		q.Limit = n
	}
	if v, ok := params["status"]; ok {
		if !Status(v).Valid() {
			return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusBadRequest, CodeInvalidRequest, "status must be one of requested, provisioning, ready, failed")
		}
		q.Status = Status(v)
	}
	if v, ok := params["nextToken"]; ok {
		cur, err := decodeToken(v, user, q.Status)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusBadRequest, CodeInvalidNextToken, "nextToken is not one this API gave for this listing; start again without it")
		}
		q.After = &cur
	}
	page, err := a.Store.List(ctx, q)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	body := ListResponse{Personas: page.Personas}
	if body.Personas == nil {
		body.Personas = []Persona{}
	}
	if page.Next != nil {
		body.NextToken = encodeToken(*page.Next, user, q.Status)
	}
	return jsonResponse(http.StatusOK, body), nil
}

func (a *API) get(ctx context.Context, log *slog.Logger, user string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	// A missing persona, another user's and a malformed id get the same answer,
	// so that the ids of other users' personas cannot be probed.
	notFound := errorf(http.StatusNotFound, CodeNotFound, "you have no persona with this id; GET /personas lists yours")
	id := req.PathParameters["personaId"]
	if !validID(id) {
		log.InfoContext(ctx, "persona id is malformed")
		return events.APIGatewayV2HTTPResponse{}, notFound
	}
	log = log.With("personaId", id)
	p, err := a.Store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return events.APIGatewayV2HTTPResponse{}, notFound
	}
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if p.UserID != user {
		log.WarnContext(ctx, "persona of another user asked for")
		return events.APIGatewayV2HTTPResponse{}, notFound
	}
	return jsonResponse(http.StatusOK, GetResponse{Persona: p}), nil
}

// validID reports whether id has the form of the ids this API gives: a UUID in
// lowercase canonical form. Other forms name no persona and are not looked up.
func validID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

func (a *API) request(ctx context.Context, log *slog.Logger, user string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	spec, err := decodeSpec(req)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	idemKey, err := idempotencyKey(req)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	now := a.Now()
	p := Persona{
		ID:          uuid.NewString(),
		UserID:      user,
		Spec:        spec,
		Status:      StatusRequested,
		CreatedAt:   FormatTime(now),
		UpdatedAt:   FormatTime(now),
		RequestHash: specHash(spec),
		TaskState:   TaskPending,
	}
	if idemKey != "" {
		p.ID = IDFor(user, idemKey)
	}
	log = log.With("personaId", p.ID)

	err = a.Store.Create(ctx, p)
	replay := false
	switch {
	case errors.Is(err, ErrExists) && idemKey != "":
		stored, err := a.Store.Get(ctx, p.ID)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		if stored.UserID != user || stored.RequestHash != p.RequestHash {
			return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusConflict, CodeIdempotencyReuse,
				"this Idempotency-Key was already used for a different persona; use a new key for a new request")
		}
		p, replay = stored, true
	case err != nil:
		return events.APIGatewayV2HTTPResponse{}, err
	}

	if p.TaskState != TaskPublished {
		if resp, err := a.publish(ctx, log, p, idemKey != ""); err != nil {
			return resp, err
		}
		p.TaskState = TaskPublished
	}
	log.InfoContext(ctx, "persona requested", "replay", replay)
	resp := jsonResponse(http.StatusAccepted, RequestResponse{Persona: p, URL: personaURL(req, p.ID)})
	resp.Headers[HeaderLocation] = personaURL(req, p.ID)
	if replay {
		resp.Headers[HeaderIdempotentReplayed] = "true"
	}
	return resp, nil
}

// publish queues p's provisioning task and records the outcome on p. When the publish
// fails, the persona gets task state publish_failed and the client is told to retry.
// With an Idempotency-Key the persona stays requested, and a retry with the same key
// publishes again; without one no retry can reach this persona, so it is marked failed.
func (a *API) publish(ctx context.Context, log *slog.Logger, p Persona, hasKey bool) (events.APIGatewayV2HTTPResponse, error) {
	err := a.Tasks.Publish(ctx, Task{Type: TaskTypeProvision, PersonaID: p.ID, UserID: p.UserID, RequestedAt: p.CreatedAt})
	if err != nil {
		log.ErrorContext(ctx, "provisioning task not queued", "error", err.Error())
		if recErr := a.Store.SetTaskState(ctx, p.ID, TaskPublishFailed, err.Error(), a.Now()); recErr != nil {
			log.ErrorContext(ctx, "recording the failed publish", "error", recErr.Error())
		}
		retry := "retry the request with the same Idempotency-Key"
		if !hasKey {
			retry = "send the request again, with an Idempotency-Key header so that retries are safe"
			if recErr := a.Store.Transition(ctx, p.ID, Transition{From: StatusRequested, To: StatusFailed,
				Reason: "its provisioning could not be queued; request the persona again", Now: a.Now()}); recErr != nil {
				log.ErrorContext(ctx, "marking the persona failed", "error", recErr.Error())
			}
		}
		return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusServiceUnavailable, CodeTaskNotQueued,
			"persona %s was saved but its provisioning could not be queued; %s", p.ID, retry)
	}
	if err := a.Store.SetTaskState(ctx, p.ID, TaskPublished, "", a.Now()); err != nil {
		// The task is queued and the worker does not read the task state: a warning, not a failure.
		log.WarnContext(ctx, "recording the publish", "error", err.Error())
	}
	return events.APIGatewayV2HTTPResponse{}, nil
}

func decodeSpec(req events.APIGatewayV2HTTPRequest) (Spec, error) {
	ct := header(req, "content-type")
	mediaType, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mediaType != "application/json" ||
		(params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return Spec{}, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send the persona as JSON with Content-Type: application/json")
	}
	body := req.Body
	if req.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(body)) > MaxBodyBytes+3 {
			return Spec{}, tooLarge()
		}
		raw, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return Spec{}, errorf(http.StatusBadRequest, CodeInvalidRequest, "the body is not valid base64")
		}
		body = string(raw)
	}
	if len(body) > MaxBodyBytes {
		return Spec{}, tooLarge()
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var spec Spec
	if err := dec.Decode(&spec); err != nil {
		return Spec{}, errorf(http.StatusBadRequest, CodeInvalidRequest, "%s", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Spec{}, errorf(http.StatusBadRequest, CodeInvalidRequest, "the body must hold a single JSON object")
	}
	if err := spec.Validate(); err != nil {
		return Spec{}, errorf(http.StatusBadRequest, CodeInvalidRequest, "%s", err.Error())
	}
	return spec, nil
}

func tooLarge() error {
	return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the body is larger than %d bytes", MaxBodyBytes)
}

// jsonProblem says what is wrong with a body without echoing its content.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ) && typ.Field == "":
		return "the body must be a JSON object"
	case errors.As(err, &syntax):
		return fmt.Sprintf("the body is not a valid persona: malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("the body is not a valid persona: %s: found %s where %s is expected", typ.Field, jsonValueWord(typ.Value), jsonTypeWord(typ.Type))
	case errors.Is(err, io.EOF):
		return "the body is not a valid persona: the body is empty"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return "the body is not a valid persona: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	return "the body is not a valid persona: malformed JSON"
}

// jsonValueWord names the kind of JSON value the decoder found, with its article.
func jsonValueWord(value string) string {
	switch {
	case value == "array" || value == "object":
		return "an " + value
	case value == "bool":
		return "a boolean"
	case strings.HasPrefix(value, "number"):
		return "a number"
	}
	return "a " + value
}

// jsonTypeWord names, in JSON terms and with its article, the value a Go type decodes from.
func jsonTypeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonTypeWord(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.Kind().String()
}

func idempotencyKey(req events.APIGatewayV2HTTPRequest) (string, error) {
	key, ok := headerOK(req, HeaderIdempotencyKey)
	if !ok {
		return "", nil
	}
	if key == "" || len(key) > MaxIdempotencyKeyLen || strings.IndexFunc(key, func(r rune) bool { return r < '!' || r > '~' }) >= 0 {
		return "", errorf(http.StatusBadRequest, CodeInvalidRequest, "Idempotency-Key must be 1 to %d visible ASCII characters", MaxIdempotencyKeyLen)
	}
	return key, nil
}

// idempotencyNamespace scopes the ids derived from idempotency keys.
var idempotencyNamespace = uuid.MustParse("6f1d3c2e-8a4b-5c7d-9e0f-1a2b3c4d5e6f")

// IDFor returns the persona id for a request of user carrying an Idempotency-Key:
// the same key from the same user always names the same persona, and no other.
func IDFor(user, idempotencyKey string) string {
	return uuid.NewSHA1(idempotencyNamespace, []byte(user+"\x00"+idempotencyKey)).String()
}

func specHash(s Spec) string {
	body, _ := json.Marshal(s) // a Spec always encodes
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:16])
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

func personaURL(req events.APIGatewayV2HTTPRequest, id string) string {
	path := "/personas/" + id
	if stage := req.RequestContext.Stage; stage != "" && stage != "$default" {
		path = "/" + stage + path
	}
	if domain := req.RequestContext.DomainName; domain != "" {
		// API Gateway sets X-Forwarded-Proto to https; the local dev API to http.
		scheme, ok := headerOK(req, "x-forwarded-proto")
		if !ok || (scheme != "http" && scheme != "https") {
			scheme = "https"
		}
		return scheme + "://" + domain + path
	}
	return path
}

// token is the decoded form of a nextToken. It is not a secret: the listing always
// reads the caller's own partition, so a forged position can only move within the
// caller's own personas. The checksum makes an altered or truncated token, or one
// from another user or status filter, a 400 rather than a silently wrong page.
type token struct {
	PersonaID string `json:"p"`
	CreatedAt string `json:"c"`
	Sum       string `json:"s"`
}

func tokenSum(c Cursor, user string, status Status) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{user, string(status), c.PersonaID, c.CreatedAt}, "\x00")))
	return hex.EncodeToString(sum[:12])
}

func encodeToken(c Cursor, user string, status Status) string {
	body, _ := json.Marshal(token{PersonaID: c.PersonaID, CreatedAt: c.CreatedAt, Sum: tokenSum(c, user, status)})
	return base64.RawURLEncoding.EncodeToString(body)
}

func decodeToken(s, user string, status Status) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var t token
	if err := dec.Decode(&t); err != nil {
		return Cursor{}, err
	}
	c := Cursor{PersonaID: t.PersonaID, CreatedAt: t.CreatedAt}
	if t.Sum != tokenSum(c, user, status) {
		return Cursor{}, errors.New("checksum mismatch")
	}
	if _, err := time.Parse(TimeLayout, c.CreatedAt); err != nil || c.PersonaID == "" {
		return Cursor{}, errors.New("not a listing position")
	}
	return c, nil
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
	return jsonResponse(e.status, struct {
		Error detail `json:"error"`
	}{detail{e.code, e.message}})
}
