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
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// request answers POST /personas (API.Request): it validates the body, stores the
// persona (once per Idempotency-Key) and queues its provisioning.
func (a *API) request(ctx context.Context, log *slog.Logger, user string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	spec, err := decodeSpec(req)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := a.Settings.Allows(spec); err != nil {
		return events.APIGatewayV2HTTPResponse{}, errorf(http.StatusBadRequest, CodeInvalidRequest, "%s", err.Error())
	}
	idemKey, err := idempotencyKey(req)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	now := a.Now()
	p := Persona{
		ID:            uuid.NewString(),
		UserID:        user,
		Spec:          spec,
		Status:        StatusRequested,
		CreatedAt:     FormatTime(now),
		UpdatedAt:     FormatTime(now),
		RequestHash:   specHash(spec),
		TaskState:     TaskPending,
		InFlightSince: FormatTime(now),
	}
	if idemKey != "" {
		p.ID = IDFor(user, idemKey)
	}
	log = log.With("personaId", p.ID)
	if err := a.admit(ctx, log, user, p.ID, idemKey != ""); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}

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

// RetryAfterInFlight is the Retry-After of a 429 for too many personas in flight:
// provisioning takes seconds, so a slot is usually free by then.
const RetryAfterInFlight = 10 * time.Second

// admit refuses a new persona to a user who has Settings.MaxInFlight of them in flight
// already. A retry of a request that is stored already (same Idempotency-Key) creates
// nothing, so it passes and is answered as before. The count is one Query of the
// index; requests racing each other may together pass the cap by their number.
func (a *API) admit(ctx context.Context, log *slog.Logger, user, id string, hasKey bool) error {
	n, err := a.Store.CountInFlight(ctx, user, a.Settings.MaxInFlight)
	if err != nil {
		return err
	}
	if n < a.Settings.MaxInFlight {
		return nil
	}
	if hasKey {
		_, err := a.Store.Get(ctx, id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	log.WarnContext(ctx, "too many personas in flight", "inFlight", n)
	e := errorf(http.StatusTooManyRequests, CodeTooManyInFlight,
		"you have %d personas being provisioned, as many as this service takes at once; request this one again once one of them is ready or failed", n)
	e.headers = map[string]string{"Retry-After": strconv.Itoa(int(RetryAfterInFlight.Seconds()))}
	return e
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
	if err := checkFieldNames(body); err != nil {
		return Spec{}, errorf(http.StatusBadRequest, CodeInvalidRequest, "the body is not a valid persona: %s", err.Error())
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

// specFields are the JSON names of Spec's fields, as the contract spells them.
var specFields = func() []string {
	var names []string
	t := reflect.TypeFor[Spec]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	return names
}()

// checkFieldNames refuses a body whose objects name a field twice, or a persona field in
// another case. Go's decoder takes field names in any case and keeps the last of two,
// so {"name":"a","Name":"b"} would be read as a persona named b, while a proxy, a log
// or a client reading the same body strictly sees a. A body that is not JSON passes
// here, for the decoder to say where it breaks.
func checkFieldNames(body string) error {
	type object struct {
		keys    []string
		wantKey bool
	}
	var stack []*object // nil entries are arrays
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if top != nil {
				top.wantKey = true
			}
			if tok == json.Delim('{') {
				stack = append(stack, &object{wantKey: true})
			} else {
				stack = append(stack, nil)
			}
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			continue
		}
		if top == nil {
			continue
		}
		if !top.wantKey {
			top.wantKey = true
			continue
		}
		key, _ := tok.(string)
		for _, seen := range top.keys {
			if seen == key {
				return fmt.Errorf("field %q appears twice", key)
			}
			if strings.EqualFold(seen, key) {
				return fmt.Errorf("fields %q and %q differ only in case; send one, spelled as the contract does", seen, key)
			}
		}
		if len(stack) == 1 {
			for _, field := range specFields {
				if strings.EqualFold(field, key) && field != key {
					return fmt.Errorf("field %q must be written %q: field names are case-sensitive", key, field)
				}
			}
		}
		top.keys = append(top.keys, key)
		top.wantKey = false
	}
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
