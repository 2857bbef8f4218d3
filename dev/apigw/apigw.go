// Package apigw serves a stack's HTTP routes locally the way API Gateway HTTP APIs do,
// turning requests into payload format 2.0 events for the routes' functions and their results back.
//
// Authorized routes check signed tokens as API Gateway's JWT authorizer does
// (JWTAuthorizer, against a local user pool), or, where no local pool runs, accept an
// unsigned development token (see DevToken). That token exists only in this package,
// which only the local dev mode uses: deployed stacks check real tokens in API Gateway.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/personabackend/app/internal/apiroute"
	"github.com/personabackend/app/topology"
)

// Invoker runs a function with a payload and returns its result.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Invocation is what the server reports about each request it served.
type Invocation struct {
	RouteKey string // matched route, or "" when none matched
	Method   string
	Path     string
	Function string // the function invoked, or "" when the request was refused before
	Status   int
	Duration time.Duration
	Err      error // why the request was refused, or the invoke's error if the function failed
}

// Server is an http.Handler for a stack's routes.
type Server struct {
	router *apiroute.Router
	routes map[string]topology.Route // by route key
	invoke Invoker
	report func(Invocation)
	apiID  string
	auth   Authorizer
}

// New returns a server for routes; report, if not nil, is called after every request.
func New(routes []topology.Route, invoke Invoker, report func(Invocation)) (*Server, error) {
	s := &Server{invoke: invoke, report: report, apiID: "local", routes: map[string]topology.Route{}, auth: DevTokens}
	keys := make([]string, 0, len(routes))
	for _, r := range routes {
		s.routes[r.RouteKey] = r
		keys = append(keys, r.RouteKey)
	}
	router, err := apiroute.New(keys...)
	if err != nil {
		return nil, err
	}
	s.router = router
	return s, nil
}

// UseAuthorizer makes authorized routes check tokens with a instead of taking the
// unsigned dev tokens; call it before serving.
func (s *Server) UseAuthorizer(a Authorizer) { s.auth = a }

func writeMessage(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, message)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	begin := time.Now()
	inv := Invocation{Method: r.Method, Path: r.URL.Path}
	defer func() {
		inv.Duration = time.Since(begin)
		if s.report != nil {
			s.report(inv)
		}
	}()
	key, params, ok := s.router.Match(r.Method, r.URL.EscapedPath())
	if !ok {
		inv.Status = http.StatusNotFound
		writeMessage(w, inv.Status, "Not Found")
		return
	}
	rt := s.routes[key]
	inv.RouteKey = key
	var claims map[string]string
	var scopes []string
	if rt.Authorized {
		var err error
		claims, scopes, err = s.auth.Authorize(r.Context(), r.Header.Get("Authorization"), Trust{Issuer: rt.Issuer, Audience: rt.Audience})
		if err != nil {
			inv.Status, inv.Err = http.StatusUnauthorized, err
			writeMessage(w, inv.Status, "Unauthorized")
			return
		}
	}
	event, err := s.event(r, rt, params, claims, scopes, begin)
	if errors.Is(err, errTooLarge) {
		inv.Status = http.StatusRequestEntityTooLarge
		writeMessage(w, inv.Status, "Request Entity Too Large")
		return
	}
	if err != nil {
		inv.Status = http.StatusBadRequest
		writeMessage(w, inv.Status, "Bad Request")
		return
	}
	payload, _ := json.Marshal(event) // strings, maps and numbers only: cannot fail
	inv.Function = rt.Function
	out, err := s.invoke.Invoke(r.Context(), rt.Function, payload)
	if err != nil {
		inv.Err = err
		inv.Status = http.StatusInternalServerError
		writeMessage(w, inv.Status, "Internal Server Error")
		return
	}
	inv.Status = writeResult(w, out)
}

// maxBody is API Gateway's payload limit.
const maxBody = 10 << 20

var errTooLarge = errors.New("request body larger than API Gateway accepts")

func (s *Server) event(r *http.Request, rt topology.Route, params map[string]string, claims map[string]string, scopes []string, now time.Time) (events.APIGatewayV2HTTPRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, err
	}
	if len(body) > maxBody {
		return events.APIGatewayV2HTTPRequest{}, errTooLarge
	}
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		lname := strings.ToLower(name)
		if lname == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lname] = strings.Join(values, ",")
	}
	headers["host"] = r.Host
	if r.ContentLength > 0 {
		headers["content-length"] = strconv.FormatInt(r.ContentLength, 10)
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	headers["x-forwarded-for"] = sourceIP
	headers["x-forwarded-proto"] = "http"
	var query map[string]string
	if r.URL.RawQuery != "" {
		query = map[string]string{}
		for k, vs := range r.URL.Query() {
			query[k] = strings.Join(vs, ",")
		}
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.RouteKey,
		RawPath:               r.URL.Path,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.RouteKey,
			AccountID:    "000000000000",
			Stage:        "$default",
			RequestID:    uuid.NewString(),
			APIID:        s.apiID,
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(params) > 0 {
		ev.PathParameters = params
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: scopes},
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev, nil
}

// isText reports whether API Gateway passes a body of this content type as text
// rather than base64.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	typ, sub, _ := strings.Cut(mt, "/")
	switch {
	case typ == "text":
		return true
	case sub == "json" || sub == "xml" || sub == "javascript" || sub == "x-www-form-urlencoded" || sub == "graphql":
		return true
	case strings.HasSuffix(sub, "+json") || strings.HasSuffix(sub, "+xml"):
		return true
	}
	return false
}

// writeResult turns a function's result into the HTTP response, as payload format 2.0
// does: an object with statusCode is a response; any other valid JSON is a 200 body.
func writeResult(w http.ResponseWriter, out []byte) int {
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) == nil {
		if _, ok := probe["statusCode"]; ok {
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode < 100 || resp.StatusCode > 599 {
				writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
				return http.StatusInternalServerError
			}
			return writeResponse(w, resp)
		}
	}
	if !json.Valid(out) {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(out)
	return http.StatusOK
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) int {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		data, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
			return http.StatusInternalServerError
		}
		body = data
	}
	h := w.Header()
	for _, name := range slices.Sorted(maps.Keys(resp.MultiValueHeaders)) {
		for _, v := range resp.MultiValueHeaders[name] {
			h.Add(name, v)
		}
	}
	for name, v := range resp.Headers {
		h.Set(name, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
	return resp.StatusCode
}
