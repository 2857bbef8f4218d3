package persona

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/personabackend/app/internal/localaws"
)

// fakeTasks records published tasks; while err is set, publishing fails with it.
type fakeTasks struct {
	mu        sync.Mutex
	published []Task
	attempts  int
	err       error
}

func (f *fakeTasks) Publish(_ context.Context, t Task) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.err != nil {
		return f.err
	}
	f.published = append(f.published, t)
	return nil
}

type testAPI struct {
	api   *API
	tasks *fakeTasks
	store *Store
	logs  *localaws.Buffer
}

func newTestAPI(t testing.TB) testAPI {
	t.Helper()
	store, _ := newTestStore(t)
	tasks := &fakeTasks{}
	log, logs := newLogger()
	api, err := NewAPI(store, tasks, log, testSettings)
	if err != nil {
		t.Fatal(err)
	}
	api.Now = newClock().Now
	return testAPI{api: api, tasks: tasks, store: store, logs: logs}
}

func lambdaContext() context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
}

// httpEvent builds the event API Gateway sends for a route with a JWT authorizer.
func httpEvent(route, user, body string) events.APIGatewayV2HTTPRequest {
	method, path, _ := strings.Cut(route, " ")
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: route,
		RawPath:  path,
		Headers:  map[string]string{},
		Body:     body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID:  "api-req-1",
			Stage:      "$default",
			DomainName: "api.example.com",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
	if method == http.MethodPost {
		ev.Headers["content-type"] = "application/json"
	}
	if user != "" {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": user}},
		}
	}
	return ev
}

const validBody = `{"name":"Trip Planner","description":"Plans trips.","instructions":"Ask for dates first.","model":"gpt-x","temperature":0.3,"tools":["search","calendar"]}`

func (ta testAPI) post(t *testing.T, user, body string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := httpEvent(RouteRequest, user, body)
	for k, v := range headers {
		ev.Headers[k] = v
	}
	resp, err := ta.api.Request(lambdaContext(), ev)
	if err != nil {
		t.Fatalf("handler returned an error instead of a response: %v", err)
	}
	return resp
}

func (ta testAPI) list(t *testing.T, user string, query map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev := httpEvent(RouteList, user, "")
	ev.QueryStringParameters = query
	resp, err := ta.api.List(lambdaContext(), ev)
	if err != nil {
		t.Fatalf("handler returned an error instead of a response: %v", err)
	}
	return resp
}

// getEvent builds the event API Gateway sends for GET /personas/{personaId}:
// the route key names the route, and the id is in PathParameters.
func getEvent(user, id string) events.APIGatewayV2HTTPRequest {
	ev := httpEvent(RouteGet, user, "")
	ev.RawPath = "/personas/" + id
	ev.RequestContext.HTTP.Path = ev.RawPath
	ev.PathParameters = map[string]string{"personaId": id}
	return ev
}

func (ta testAPI) get(t *testing.T, user, id string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := ta.api.Get(lambdaContext(), getEvent(user, id))
	if err != nil {
		t.Fatalf("handler returned an error instead of a response: %v", err)
	}
	return resp
}

// decodeGetResponse checks that resp is a 200 with a persona and returns it.
func decodeGetResponse(t *testing.T, resp events.APIGatewayV2HTTPResponse) Persona {
	t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("answer %d (%q) %s, want 200 JSON", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
	}
	var out GetResponse
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Persona
}

// errorCode checks that resp is a JSON error with the given status and returns its code.
func errorCode(t *testing.T, resp events.APIGatewayV2HTTPResponse, wantStatus int) string {
	t.Helper()
	if resp.StatusCode != wantStatus {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, wantStatus, resp.Body)
	}
	if resp.Headers["Content-Type"] != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", resp.Headers["Content-Type"])
	}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("body %s is not {\"error\": {\"code\", \"message\"}}", resp.Body)
	}
	return body.Error.Code
}

func decodeRequestResponse(t *testing.T, resp events.APIGatewayV2HTTPResponse) RequestResponse {
	t.Helper()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %s", resp.StatusCode, resp.Body)
	}
	var out RequestResponse
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestThePersonaURLKeepsTheSchemeTheCallerUsed(t *testing.T) {
	ta := newTestAPI(t)
	out := decodeRequestResponse(t, ta.post(t, "user-a", validBody, map[string]string{"x-forwarded-proto": "http"}))
	if want := "http://api.example.com/personas/" + out.Persona.ID; out.URL != want {
		t.Errorf("url %q, want %q", out.URL, want)
	}
}

func TestRequestStoresARequestedPersonaAndQueuesItsTask(t *testing.T) {
	ta := newTestAPI(t)
	out := decodeRequestResponse(t, ta.post(t, "user-a", validBody, nil))

	p := out.Persona
	if p.ID == "" || p.Status != StatusRequested || p.Name != "Trip Planner" || p.CreatedAt == "" || len(p.Tools) != 2 {
		t.Fatalf("answered persona %+v", p)
	}
	if want := "https://api.example.com/personas/" + p.ID; out.URL != want {
		t.Errorf("url %q, want %q", out.URL, want)
	}
	stored, err := ta.store.Get(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.UserID != "user-a" || stored.Status != StatusRequested || stored.TaskState != TaskPublished {
		t.Fatalf("stored %+v, want user-a's requested persona with its task published", stored)
	}
	want := []Task{{Type: TaskTypeProvision, PersonaID: p.ID, UserID: "user-a", RequestedAt: p.CreatedAt}}
	if len(ta.tasks.published) != 1 || ta.tasks.published[0] != want[0] {
		t.Fatalf("published %+v, want %+v", ta.tasks.published, want)
	}
}

func TestRequestRejects(t *testing.T) {
	long := strings.Repeat("a", MaxInstructionsLen+1)
	tests := []struct {
		name       string
		user       string
		body       string
		headers    map[string]string
		route      string
		wantStatus int
		wantCode   string
	}{
		{"a caller without a token", "", validBody, nil, "", 401, CodeUnauthorized},
		{"a route this function does not serve", "user-a", validBody, nil, "DELETE /personas", 404, CodeNotFound},
		{"a body without a content type", "user-a", validBody, map[string]string{"content-type": ""}, "", 415, CodeUnsupportedMedia},
		{"a form instead of JSON", "user-a", "name=x", map[string]string{"content-type": "application/x-www-form-urlencoded"}, "", 415, CodeUnsupportedMedia},
		{"JSON in another charset", "user-a", validBody, map[string]string{"content-type": "application/json; charset=latin1"}, "", 415, CodeUnsupportedMedia},
		{"a body over the cap", "user-a", `{"name":"x","instructions":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, nil, "", 413, CodeBodyTooLarge},
		{"malformed JSON", "user-a", `{"name":`, nil, "", 400, CodeInvalidRequest},
		{"an empty body", "user-a", ``, nil, "", 400, CodeInvalidRequest},
		{"two JSON objects", "user-a", validBody + validBody, nil, "", 400, CodeInvalidRequest},
		{"an unknown field", "user-a", `{"name":"x","instructions":"y","colour":"red"}`, nil, "", 400, CodeInvalidRequest},
		{"a user id in the body", "user-a", `{"name":"x","instructions":"y","userId":"user-b"}`, nil, "", 400, CodeInvalidRequest},
		{"a field of the wrong type", "user-a", `{"name":"x","instructions":"y","temperature":"hot"}`, nil, "", 400, CodeInvalidRequest},
		{"a missing name", "user-a", `{"instructions":"y"}`, nil, "", 400, CodeInvalidRequest},
		{"missing instructions", "user-a", `{"name":"x"}`, nil, "", 400, CodeInvalidRequest},
		{"instructions over the limit", "user-a", `{"name":"x","instructions":"` + long + `"}`, nil, "", 400, CodeInvalidRequest},
		{"a temperature out of range", "user-a", `{"name":"x","instructions":"y","temperature":3}`, nil, "", 400, CodeInvalidRequest},
		{"a tool named twice", "user-a", `{"name":"x","instructions":"y","tools":["a","a"]}`, nil, "", 400, CodeInvalidRequest},
		{"an Idempotency-Key with spaces", "user-a", validBody, map[string]string{"idempotency-key": "a b"}, "", 400, CodeInvalidRequest},
		{"an empty Idempotency-Key", "user-a", validBody, map[string]string{"idempotency-key": ""}, "", 400, CodeInvalidRequest},
		{"a field named twice", "user-a", `{"name":"x","instructions":"y","name":"z"}`, nil, "", 400, CodeInvalidRequest},
		{"a field in another case", "user-a", `{"Name":"x","instructions":"y"}`, nil, "", 400, CodeInvalidRequest},
		{"a field twice in two cases", "user-a", `{"name":"x","instructions":"y","NAME":"z"}`, nil, "", 400, CodeInvalidRequest},
		{"a name of white space", "user-a", `{"name":" \t\u3000 ","instructions":"y"}`, nil, "", 400, CodeInvalidRequest},
		{"instructions of line breaks", "user-a", `{"name":"x","instructions":"\n\r\n"}`, nil, "", 400, CodeInvalidRequest},
		{"a line break in the name", "user-a", `{"name":"Ada\nLovelace","instructions":"y"}`, nil, "", 400, CodeInvalidRequest},
		{"a NUL in the instructions", "user-a", `{"name":"x","instructions":"be\u0000 brief"}`, nil, "", 400, CodeInvalidRequest},
		{"a C1 control in the description", "user-a", `{"name":"x","instructions":"y","description":"a\u0085"}`, nil, "", 400, CodeInvalidRequest},
		{"a right-to-left override in the name", "user-a", `{"name":"Ada\u202Egnp.exe","instructions":"y"}`, nil, "", 400, CodeInvalidRequest},
		{"an isolate in the instructions", "user-a", `{"name":"x","instructions":"\u2066y"}`, nil, "", 400, CodeInvalidRequest},
		{"a model the stage does not offer", "user-a", `{"name":"x","instructions":"y","model":"gpt-retired"}`, nil, "", 400, CodeInvalidRequest},
		{"a tool the stage does not offer", "user-a", `{"name":"x","instructions":"y","tools":["search","shell"]}`, nil, "", 400, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta := newTestAPI(t)
			ev := httpEvent(RouteRequest, tt.user, tt.body)
			for k, v := range tt.headers {
				ev.Headers[k] = v
			}
			if tt.route != "" {
				ev.RouteKey = tt.route
			}
			resp, err := ta.api.Request(lambdaContext(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if code := errorCode(t, resp, tt.wantStatus); code != tt.wantCode {
				t.Fatalf("code %q, want %q", code, tt.wantCode)
			}
			if len(ta.tasks.published) != 0 {
				t.Fatalf("a rejected request published %+v", ta.tasks.published)
			}
			if page, _ := ta.store.List(context.Background(), ListQuery{UserID: "user-a", Limit: 10}); len(page.Personas) != 0 {
				t.Fatalf("a rejected request stored %+v", page.Personas)
			}
		})
	}
}

func TestARefusedFieldIsNamedWithWhatToDo(t *testing.T) {
	ta := newTestAPI(t)
	for body, want := range map[string]string{
		`{"name":"x","instructions":"y","name":"z"}`:                     `the body is not a valid persona: field "name" appears twice`,
		`{"Name":"x","instructions":"y"}`:                                `the body is not a valid persona: field "Name" must be written "name": field names are case-sensitive`,
		`{"name":"x","instructions":"y","tools":[],"Tools":[]}`:          `the body is not a valid persona: fields "tools" and "Tools" differ only in case; send one, spelled as the contract does`,
		`{"name":"Ada‮gnp","instructions":"y"}`:                          `name: holds U+202E at character 4, a control or text-direction character; remove it`,
		`{"name":"　","instructions":"y"}`:                                `name: must not be only white space`,
		`{"name":"x","instructions":"y","model":"gpt-retired"}`:          `model: "gpt-retired" is not offered here: choose one of gpt-x, or leave it out for the runtime's default`,
		`{"name":"x","instructions":"y","tools":["calendar","browser"]}`: `tools[1]: "browser" is not offered here: the tools offered are search, calendar`,
	} {
		resp := ta.post(t, "user-a", body, nil)
		errorCode(t, resp, http.StatusBadRequest)
		if !strings.Contains(resp.Body, strings.ReplaceAll(want, `"`, `\"`)) {
			t.Errorf("%s: answer %s, want it to say %q", body, resp.Body, want)
		}
	}
}

func TestTextInAnyScriptWithLineBreaksIsAccepted(t *testing.T) {
	ta := newTestAPI(t)
	body := `{"name":"Ада Лавлейс 😀","description":"Line one\r\nLine two\twith a tab","instructions":"שלום, مرحبا\u200f\nStep 1: ask."}`
	if resp := ta.post(t, "user-a", body, nil); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
}

func TestTheBodyCapFitsTheLongestValidPersonaHoweverItIsEncoded(t *testing.T) {
	settings := testSettings
	settings.Models = []string{strings.Repeat("m", MaxModelLen)}
	settings.Tools = nil
	for i := range MaxTools {
		settings.Tools = append(settings.Tools, fmt.Sprintf("t%063d", i))
	}
	longest := Spec{
		Name:         strings.Repeat("😀", MaxNameLen),
		Description:  strings.Repeat("😀", MaxDescriptionLen),
		Instructions: strings.Repeat("😀", MaxInstructionsLen),
		Model:        settings.Models[0],
		Tools:        settings.Tools,
	}
	for _, tc := range []struct {
		name string
		body string
	}{
		{"8000 CJK characters of instructions in UTF-8", `{"name":"x","instructions":"` + strings.Repeat("漢", MaxInstructionsLen) + `"}`},
		{"every character escaped, as encoders writing ASCII only do", asciiOnlyJSON(t, longest)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.body) > MaxBodyBytes {
				t.Fatalf("the body is %d bytes, over the cap of %d", len(tc.body), MaxBodyBytes)
			}
			ta := newTestAPI(t)
			ta.api.Settings = settings
			if resp := ta.post(t, "user-a", tc.body, nil); resp.StatusCode != http.StatusAccepted {
				t.Fatalf("a body of %d bytes: status %d: %.300s", len(tc.body), resp.StatusCode, resp.Body)
			}
		})
	}
}

// asciiOnlyJSON encodes v as Python's json.dumps does by default: every character
// outside ASCII as \uXXXX, a surrogate pair for those beyond the Basic Multilingual
// Plane, and every ASCII letter of the model and tools escaped too, as a client may.
func asciiOnlyJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	inString := false
	for _, r := range string(data) {
		switch {
		case r == '"':
			inString = !inString
			b.WriteRune(r)
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u%04x\\u%04x", hi, lo)
		case r > 0x7F || (inString && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9')):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestEveryAnswerIsKeptOutOfCaches(t *testing.T) {
	ta := newTestAPI(t)
	created := decodeRequestResponse(t, ta.post(t, "user-a", validBody, nil))
	for name, resp := range map[string]events.APIGatewayV2HTTPResponse{
		"a request":           ta.post(t, "user-a", validBody, nil),
		"a refused request":   ta.post(t, "user-a", `{"name":""}`, nil),
		"a caller signed out": ta.post(t, "", validBody, nil),
		"a listing":           ta.list(t, "user-a", nil),
		"a persona":           ta.get(t, "user-a", created.Persona.ID),
		"a persona not found": ta.get(t, "user-b", created.Persona.ID),
	} {
		if got := resp.Headers["Cache-Control"]; got != "no-store" {
			t.Errorf("%s (status %d): Cache-Control %q, want no-store", name, resp.StatusCode, got)
		}
	}
}

func TestAnAPIWithoutUsableSettingsIsRefusedNamingTheSetting(t *testing.T) {
	log, _ := newLogger()
	noCap := testSettings
	noCap.MaxInFlight = 0
	badTool := testSettings
	badTool.Tools = []string{"Web Search"}
	for name, tc := range map[string]struct {
		settings Settings
		want     string
	}{
		"no settings at all":           {Settings{}, "maxInFlight is 0"},
		"no cap on personas in flight": {noCap, "maxInFlight is 0"},
		"a tool no persona could name": {badTool, `tools[0] "Web Search"`},
	} {
		t.Run(name, func(t *testing.T) {
			api, err := NewAPI(nil, nil, log, tc.settings)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), SettingsEnv) {
				t.Fatalf("NewAPI = %v, %v; want an error naming %s in %s", api, err, tc.want, SettingsEnv)
			}
		})
	}
}

func TestTheReadingRoutesServeWithoutSettings(t *testing.T) {
	ta := newTestAPI(t)
	created := decodeRequestResponse(t, ta.post(t, "user-a", validBody, nil))
	log, _ := newLogger()
	reader := NewReader(ta.store, log)
	list, err := reader.List(lambdaContext(), httpEvent(RouteList, "user-a", ""))
	if err != nil || list.StatusCode != http.StatusOK || !strings.Contains(list.Body, created.Persona.ID) {
		t.Fatalf("List = %d %s (%v), want the persona requested", list.StatusCode, list.Body, err)
	}
	get, err := reader.Get(lambdaContext(), getEvent("user-a", created.Persona.ID))
	if err != nil || get.StatusCode != http.StatusOK {
		t.Fatalf("Get = %d %s (%v)", get.StatusCode, get.Body, err)
	}
}

func TestAUserWithTooManyPersonasInFlightIsToldToRetryLater(t *testing.T) {
	ta := newTestAPI(t)
	ta.api.Settings.MaxInFlight = 2
	first := decodeRequestResponse(t, ta.post(t, "user-a", validBody, map[string]string{"idempotency-key": "k1"}))
	decodeRequestResponse(t, ta.post(t, "user-a", validBody, nil))

	resp := ta.post(t, "user-a", validBody, nil)
	if code := errorCode(t, resp, http.StatusTooManyRequests); code != CodeTooManyInFlight {
		t.Fatalf("code %q", code)
	}
	if resp.Headers["Retry-After"] != "10" || !strings.Contains(resp.Body, "you have 2 personas being provisioned") {
		t.Fatalf("Retry-After %q, body %s", resp.Headers["Retry-After"], resp.Body)
	}
	if page, _ := ta.store.List(context.Background(), ListQuery{UserID: "user-a", Limit: 10}); len(page.Personas) != 2 {
		t.Fatalf("stored %d personas, want the 2 admitted", len(page.Personas))
	}

	// A retry of a request already stored creates nothing: it is answered as before.
	replay := ta.post(t, "user-a", validBody, map[string]string{"idempotency-key": "k1"})
	if replay.StatusCode != http.StatusAccepted || replay.Headers[HeaderIdempotentReplayed] != "true" {
		t.Fatalf("replay: status %d, headers %v", replay.StatusCode, replay.Headers)
	}
	// Another user is not held back.
	if other := ta.post(t, "user-b", validBody, nil); other.StatusCode != http.StatusAccepted {
		t.Fatalf("another user: status %d: %s", other.StatusCode, other.Body)
	}
	// Once one is ready, the user may request again.
	if err := ta.store.Transition(context.Background(), first.Persona.ID, Transition{From: StatusRequested, To: StatusReady, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if again := ta.post(t, "user-a", validBody, nil); again.StatusCode != http.StatusAccepted {
		t.Fatalf("after one became ready: status %d: %s", again.StatusCode, again.Body)
	}
}

func TestABodyOfTheWrongShapeIsExplainedInJSONTerms(t *testing.T) {
	tests := []struct {
		name, body, wantMessage string
	}{
		{"an array", `[]`, "the body must be a JSON object"},
		{"a string", `"x"`, "the body must be a JSON object"},
		{"a number", `42`, "the body must be a JSON object"},
		{"a number among the tools", `{"name":"x","instructions":"y","tools":[1]}`, "the body is not a valid persona: tools: found a number where a string is expected"},
		{"a string for the tools", `{"name":"x","instructions":"y","tools":"search"}`, "the body is not a valid persona: tools: found a string where an array is expected"},
		{"a string for the temperature", `{"name":"x","instructions":"y","temperature":"hot"}`, "the body is not a valid persona: temperature: found a string where a number is expected"},
		{"an object for the name", `{"name":{},"instructions":"y"}`, "the body is not a valid persona: name: found an object where a string is expected"},
		{"a boolean for the name", `{"name":true,"instructions":"y"}`, "the body is not a valid persona: name: found a boolean where a string is expected"},
	}
	ta := newTestAPI(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ta.post(t, "user-a", tt.body, nil)
			errorCode(t, resp, http.StatusBadRequest)
			var body struct {
				Error struct {
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatal(err)
			}
			if body.Error.Message != tt.wantMessage {
				t.Fatalf("message %q, want %q", body.Error.Message, tt.wantMessage)
			}
		})
	}
}

func TestRequestAcceptsABase64EncodedBody(t *testing.T) {
	ta := newTestAPI(t)
	ev := httpEvent(RouteRequest, "user-a", base64.StdEncoding.EncodeToString([]byte(validBody)))
	ev.IsBase64Encoded = true
	resp, err := ta.api.Request(lambdaContext(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if out := decodeRequestResponse(t, resp); out.Persona.Name != "Trip Planner" {
		t.Fatalf("persona %+v", out.Persona)
	}
}

func TestARetryWithTheSameIdempotencyKeyReturnsTheSamePersonaAndPublishesNothingNew(t *testing.T) {
	ta := newTestAPI(t)
	key := map[string]string{"Idempotency-Key": "order-42"}
	first := decodeRequestResponse(t, ta.post(t, "user-a", validBody, key))
	again := ta.post(t, "user-a", validBody, key)
	second := decodeRequestResponse(t, again)

	if second.Persona.ID != first.Persona.ID || second.Persona.CreatedAt != first.Persona.CreatedAt {
		t.Fatalf("retry answered %+v, want the first persona %+v", second.Persona, first.Persona)
	}
	if again.Headers["Idempotent-Replayed"] != "true" {
		t.Errorf("retry headers %v lack Idempotent-Replayed: true", again.Headers)
	}
	if len(ta.tasks.published) != 1 {
		t.Fatalf("published %d tasks, want 1", len(ta.tasks.published))
	}
	if page, _ := ta.store.List(context.Background(), ListQuery{UserID: "user-a", Limit: 10}); len(page.Personas) != 1 {
		t.Fatalf("stored %d personas, want 1", len(page.Personas))
	}
}

func TestTheSameIdempotencyKeyFromAnotherUserMakesAnotherPersona(t *testing.T) {
	ta := newTestAPI(t)
	key := map[string]string{"idempotency-key": "shared-key"}
	a := decodeRequestResponse(t, ta.post(t, "user-a", validBody, key))
	b := decodeRequestResponse(t, ta.post(t, "user-b", validBody, key))
	if a.Persona.ID == b.Persona.ID {
		t.Fatalf("two users got persona %s", a.Persona.ID)
	}
	if len(ta.tasks.published) != 2 {
		t.Fatalf("published %d tasks, want 2", len(ta.tasks.published))
	}
}

func TestReusingAnIdempotencyKeyForADifferentBodyIsAConflict(t *testing.T) {
	ta := newTestAPI(t)
	key := map[string]string{"idempotency-key": "k1"}
	decodeRequestResponse(t, ta.post(t, "user-a", validBody, key))
	resp := ta.post(t, "user-a", `{"name":"Other","instructions":"Something else."}`, key)
	if code := errorCode(t, resp, http.StatusConflict); code != CodeIdempotencyReuse {
		t.Fatalf("code %q, want %q", code, CodeIdempotencyReuse)
	}
	if len(ta.tasks.published) != 1 {
		t.Fatalf("published %d tasks, want 1", len(ta.tasks.published))
	}
}

func TestAFailedPublishIsRecordedAndARetryWithTheSameKeyQueuesTheTaskOnce(t *testing.T) {
	ta := newTestAPI(t)
	key := map[string]string{"idempotency-key": "k1"}
	ta.tasks.err = errors.New("topic unreachable")

	resp := ta.post(t, "user-a", validBody, key)
	if code := errorCode(t, resp, http.StatusServiceUnavailable); code != CodeTaskNotQueued {
		t.Fatalf("code %q, want %q", code, CodeTaskNotQueued)
	}
	if !strings.Contains(resp.Body, "same Idempotency-Key") {
		t.Errorf("message %s does not tell the client how to retry", resp.Body)
	}
	id := IDFor("user-a", "k1")
	stored, err := ta.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != StatusRequested || stored.TaskState != TaskPublishFailed || stored.TaskError == "" {
		t.Fatalf("stored %s/%s (%q), want requested with publish_failed and the reason", stored.Status, stored.TaskState, stored.TaskError)
	}

	ta.tasks.err = nil
	out := decodeRequestResponse(t, ta.post(t, "user-a", validBody, key))
	if out.Persona.ID != id {
		t.Fatalf("retry answered persona %s, want %s", out.Persona.ID, id)
	}
	decodeRequestResponse(t, ta.post(t, "user-a", validBody, key))
	if len(ta.tasks.published) != 1 || ta.tasks.published[0].PersonaID != id {
		t.Fatalf("published %+v, want one task for %s", ta.tasks.published, id)
	}
	if stored, _ = ta.store.Get(context.Background(), id); stored.TaskState != TaskPublished || stored.TaskError != "" {
		t.Fatalf("after the retry the task state is %s (%q), want published", stored.TaskState, stored.TaskError)
	}
}

func TestAFailedPublishWithoutAKeyFailsThePersonaAndTellsTheClientToSendAKey(t *testing.T) {
	ta := newTestAPI(t)
	ta.tasks.err = errors.New("topic unreachable")
	resp := ta.post(t, "user-a", validBody, nil)
	errorCode(t, resp, http.StatusServiceUnavailable)
	if !strings.Contains(resp.Body, "Idempotency-Key header") {
		t.Errorf("message %s does not suggest an Idempotency-Key", resp.Body)
	}
	page, err := ta.store.List(context.Background(), ListQuery{UserID: "user-a", Limit: 10})
	if err != nil || len(page.Personas) != 1 {
		t.Fatalf("stored %+v (%v), want the one persona", page.Personas, err)
	}
	if p := page.Personas[0]; p.Status != StatusFailed || p.StatusReason == "" || p.TaskState != TaskPublishFailed {
		t.Fatalf("stored %s (%q) with task %s; no retry can reach it, so it should be failed with a reason", p.Status, p.StatusReason, p.TaskState)
	}
}

func TestAStoreFailureIsA500ThatHidesItsCause(t *testing.T) {
	ta := newTestAPI(t)
	_, db := newTestStore(t)
	ta.api.Store = NewStore(db, "no-such-table")

	responses := []events.APIGatewayV2HTTPResponse{
		ta.post(t, "user-a", validBody, nil),
		ta.list(t, "user-a", nil),
		ta.get(t, "user-a", IDFor("user-a", "k1")),
	}
	for _, resp := range responses {
		errorCode(t, resp, http.StatusInternalServerError)
		if strings.Contains(resp.Body, "ResourceNotFound") {
			t.Errorf("response %s reveals the cause", resp.Body)
		}
	}
	if !strings.Contains(ta.logs.String(), "ResourceNotFoundException") {
		t.Errorf("the log does not say what failed:\n%s", ta.logs)
	}
}

func TestListReturnsOnlyTheCallersPersonasNewestFirstPageByPage(t *testing.T) {
	ta := newTestAPI(t)
	var want []string
	for range 5 {
		want = append([]string{decodeRequestResponse(t, ta.post(t, "user-a", validBody, nil)).Persona.ID}, want...)
	}
	decodeRequestResponse(t, ta.post(t, "user-b", validBody, nil))

	var got []string
	query := map[string]string{"limit": "2", "userId": "user-b"} // a user id in the query is ignored
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("listing does not end")
		}
		resp := ta.list(t, "user-a", query)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		var body ListResponse
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatal(err)
		}
		for _, p := range body.Personas {
			got = append(got, p.ID)
		}
		if body.NextToken == "" {
			break
		}
		query["nextToken"] = body.NextToken
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

func TestListOfACallerWithoutPersonasIsAnEmptyArray(t *testing.T) {
	ta := newTestAPI(t)
	resp := ta.list(t, "user-a", nil)
	if resp.StatusCode != http.StatusOK || resp.Body != `{"personas":[]}` {
		t.Fatalf("answer %d %s, want 200 {\"personas\":[]}", resp.StatusCode, resp.Body)
	}
}

func TestListFiltersByStatus(t *testing.T) {
	ta := newTestAPI(t)
	seed(t, ta.store, "user-a", 6, StatusReady, StatusFailed)
	resp := ta.list(t, "user-a", map[string]string{"status": "failed"})
	var body ListResponse
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Personas) != 3 {
		t.Fatalf("listed %d failed personas, want 3", len(body.Personas))
	}
	for _, p := range body.Personas {
		if p.Status != StatusFailed {
			t.Fatalf("status filter let through %s", p.Status)
		}
	}
}

func TestListRejects(t *testing.T) {
	ta := newTestAPI(t)
	seed(t, ta.store, "user-a", 3, StatusReady)
	seed(t, ta.store, "user-b", 3, StatusReady)
	tokenOf := func(user string, query map[string]string) string {
		var body ListResponse
		json.Unmarshal([]byte(ta.list(t, user, query).Body), &body)
		if body.NextToken == "" {
			t.Fatal("no nextToken to tamper with")
		}
		return body.NextToken
	}
	token := tokenOf("user-a", map[string]string{"limit": "1"})
	raw, _ := base64.RawURLEncoding.DecodeString(token)
	tampered := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "user-a-002", "user-a-001", 1)))
	if tampered == token {
		t.Fatal("tampering changed nothing")
	}

	tests := []struct {
		name     string
		user     string
		query    map[string]string
		wantCode int
		code     string
	}{
		{"a caller without a token", "", nil, 401, CodeUnauthorized},
		{"a limit of zero", "user-a", map[string]string{"limit": "0"}, 400, CodeInvalidRequest},
		{"a limit over 100", "user-a", map[string]string{"limit": "101"}, 400, CodeInvalidRequest},
		{"a limit that is not a number", "user-a", map[string]string{"limit": "ten"}, 400, CodeInvalidRequest},
		{"an unknown status", "user-a", map[string]string{"status": "done"}, 400, CodeInvalidRequest},
		{"a nextToken that is not base64", "user-a", map[string]string{"nextToken": "!!!"}, 400, CodeInvalidNextToken},
		{"a truncated nextToken", "user-a", map[string]string{"nextToken": token[:len(token)-4]}, 400, CodeInvalidNextToken},
		{"a nextToken pointing elsewhere", "user-a", map[string]string{"nextToken": tampered}, 400, CodeInvalidNextToken},
		{"another user's nextToken", "user-b", map[string]string{"nextToken": token}, 400, CodeInvalidNextToken},
		{"a nextToken used with another status filter", "user-a", map[string]string{"nextToken": token, "status": "ready"}, 400, CodeInvalidNextToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := errorCode(t, ta.list(t, tt.user, tt.query), tt.wantCode); code != tt.code {
				t.Fatalf("code %q, want %q", code, tt.code)
			}
		})
	}
	if resp := ta.list(t, "user-a", map[string]string{"nextToken": token, "limit": "1"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("the untouched token was refused: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestAPILogsAreJSONLinesWithTheRequestIDAndNoBodies(t *testing.T) {
	ta := newTestAPI(t)
	decodeRequestResponse(t, ta.post(t, "user-a", validBody, nil))
	ta.list(t, "user-a", nil)
	ta.get(t, "user-a", IDFor("user-a", "k1"))
	ta.post(t, "", validBody, nil)

	lines := strings.Split(strings.TrimSpace(ta.logs.String()), "\n")
	if len(lines) < 4 {
		t.Fatalf("got %d log lines, want one per request at least", len(lines))
	}
	for _, line := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q is not JSON", line)
		}
		if entry["requestId"] != "lambda-req-1" || entry["apiRequestId"] != "api-req-1" {
			t.Errorf("log line %q lacks the request ids", line)
		}
	}
	if strings.Contains(ta.logs.String(), "Ask for dates first") {
		t.Errorf("the log holds the request body:\n%s", ta.logs)
	}
}

func TestGetServesThePersonaAtTheURLThatPOSTGaveAndFollowsItsStatus(t *testing.T) {
	ta := newTestAPI(t)
	posted := decodeRequestResponse(t, ta.post(t, "user-a", validBody, nil))
	id := strings.TrimPrefix(posted.URL, "https://api.example.com/personas/")

	got := decodeGetResponse(t, ta.get(t, "user-a", id))
	if got.ID != posted.Persona.ID || got.Status != StatusRequested || got.Name != "Trip Planner" || got.CreatedAt != posted.Persona.CreatedAt {
		t.Fatalf("GET %s answered %+v, want the persona POST answered %+v", posted.URL, got, posted.Persona)
	}

	ctx := context.Background()
	profile := &Profile{Version: ProfileVersion, PersonaID: id, SystemPrompt: "You are Trip Planner.", Model: "gpt-x", Signature: "5ig"}
	if err := ta.store.Transition(ctx, id, Transition{From: StatusRequested, To: StatusProvisioning, Now: ta.api.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := ta.store.Transition(ctx, id, Transition{From: StatusProvisioning, To: StatusReady, Profile: profile, Now: ta.api.Now()}); err != nil {
		t.Fatal(err)
	}
	got = decodeGetResponse(t, ta.get(t, "user-a", id))
	if got.Status != StatusReady || got.Profile == nil || got.Profile.Signature != "5ig" || got.UpdatedAt <= posted.Persona.UpdatedAt {
		t.Fatalf("after provisioning GET answered %s with profile %+v at %s, want ready with the profile", got.Status, got.Profile, got.UpdatedAt)
	}
	for _, internal := range []string{"user-a", "requestHash", "taskState"} {
		if resp := ta.get(t, "user-a", id); strings.Contains(resp.Body, internal) {
			t.Errorf("the answer reveals %q: %s", internal, resp.Body)
		}
	}
}

func TestGetAnswersAnotherUsersPersonaExactlyLikeAMissingOne(t *testing.T) {
	ta := newTestAPI(t)
	mine := decodeRequestResponse(t, ta.post(t, "user-a", validBody, nil)).Persona.ID
	theirs := decodeRequestResponse(t, ta.post(t, "user-b", `{"name":"Secret Agent","instructions":"Keep quiet."}`, nil)).Persona.ID
	missing := ta.get(t, "user-a", "0b7a6a4e-5f0e-4c63-9d0b-8f7b0e2a9c11")
	if code := errorCode(t, missing, http.StatusNotFound); code != CodeNotFound {
		t.Fatalf("a missing persona answered code %q, want %q", code, CodeNotFound)
	}

	tests := []struct {
		name string
		id   string
	}{
		{"another user's persona", theirs},
		{"an id that is not a UUID", "not-a-persona"},
		{"the caller's own id in upper case", strings.ToUpper(mine)},
		{"the caller's own id in braces", "{" + mine + "}"},
		{"an id longer than any key", strings.Repeat("a", 4096)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ta.get(t, "user-a", tt.id)
			errorCode(t, resp, http.StatusNotFound)
			if resp.Body != missing.Body || len(resp.Headers) != len(missing.Headers) {
				t.Fatalf("answered %v %s, want what a missing persona gets: %v %s", resp.Headers, resp.Body, missing.Headers, missing.Body)
			}
		})
	}
	if got := decodeGetResponse(t, ta.get(t, "user-b", theirs)); got.Name != "Secret Agent" {
		t.Fatalf("the owner got %+v", got)
	}
	if strings.Contains(ta.logs.String(), "Keep quiet") || strings.Contains(ta.logs.String(), strings.Repeat("a", 100)) {
		t.Errorf("the log holds a persona's content or the malformed id:\n%s", ta.logs)
	}
}

func TestGetRejects(t *testing.T) {
	ta := newTestAPI(t)
	id := decodeRequestResponse(t, ta.post(t, "user-a", validBody, nil)).Persona.ID
	tests := []struct {
		name       string
		event      func() events.APIGatewayV2HTTPRequest
		wantStatus int
		wantCode   string
	}{
		{"a caller without a token", func() events.APIGatewayV2HTTPRequest { return getEvent("", id) }, 401, CodeUnauthorized},
		{"an event without the path parameter", func() events.APIGatewayV2HTTPRequest {
			ev := getEvent("user-a", id)
			ev.PathParameters = nil
			return ev
		}, 404, CodeNotFound},
		{"a route this function does not serve", func() events.APIGatewayV2HTTPRequest {
			ev := getEvent("user-a", id)
			ev.RouteKey = "DELETE /personas/{personaId}"
			return ev
		}, 404, CodeNotFound},
		{"a longer path under the $default route", func() events.APIGatewayV2HTTPRequest {
			ev := getEvent("user-a", id)
			ev.RouteKey, ev.PathParameters, ev.RawPath = "$default", nil, "/personas/"+id+"/profile"
			return ev
		}, 404, CodeNotFound},
		{"another method under the $default route", func() events.APIGatewayV2HTTPRequest {
			ev := getEvent("user-a", id)
			ev.RouteKey, ev.PathParameters, ev.RequestContext.HTTP.Method = "$default", nil, http.MethodDelete
			return ev
		}, 404, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := ta.api.Get(lambdaContext(), tt.event())
			if err != nil {
				t.Fatal(err)
			}
			if code := errorCode(t, resp, tt.wantStatus); code != tt.wantCode {
				t.Fatalf("code %q, want %q", code, tt.wantCode)
			}
		})
	}
}

func TestGetUnderTheDefaultRouteTakesTheIdFromThePath(t *testing.T) {
	ta := newTestAPI(t)
	id := decodeRequestResponse(t, ta.post(t, "user-a", validBody, nil)).Persona.ID
	for _, path := range []string{"/personas/" + id, "/personas/" + id + "/"} {
		ev := getEvent("user-a", id)
		ev.RouteKey, ev.PathParameters, ev.RawPath = "$default", nil, path
		resp, err := ta.api.Get(lambdaContext(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeGetResponse(t, resp); got.ID != id {
			t.Fatalf("GET %s answered persona %s", path, got.ID)
		}
	}
}
