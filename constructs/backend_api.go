package constructs

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayv2api"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayv2authorizer"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayv2integration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayv2route"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/apigatewayv2stage"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lambdapermission"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/personabackend/app/topology"
)

// JWTAuth configures a JWT authorizer: tokens must be issued by Issuer for one of Audience.
type JWTAuth struct {
	Issuer   string
	Audience []string
}

// CORS configures cross-origin requests to the API.
type CORS struct {
	// AllowOrigins are the origins (scheme://host[:port]) whose pages may call the API.
	AllowOrigins []string
	// AllowMethods default to the methods of the API's routes.
	AllowMethods []string
	AllowHeaders []string
	// ExposeHeaders are the response headers a page's script may read beyond the basic ones.
	ExposeHeaders []string
	MaxAge        time.Duration
}

// BackendApiProps configures an HTTP API.
type BackendApiProps struct {
	// Name is the short name; the API is "<app>-<stage>-<Name>". Default: from the id.
	Name string
	// CORS defaults to any origin, the methods of the routes and the Authorization,
	// Content-Type and Idempotency-Key headers; set AllowOrigins, or call AllowOrigins
	// once the calling site exists, to restrict it.
	CORS CORS
	// Auth, when set, protects every route unless the route says otherwise.
	Auth *JWTAuth
}

// BackendApi is an HTTP API (API Gateway v2) with an auto-deployed $default stage,
// JSON access logs naming each request's caller, CORS, the stage's throttling (or a
// route's own), and routes that run Go functions.
type BackendApi struct {
	stack       *Stack
	id          string
	name        string
	scope       constructs.Construct
	api         apigatewayv2api.Apigatewayv2Api
	auth        *JWTAuth
	cors        CORS
	methods     map[string]bool // of the routes, when CORS.AllowMethods is not given
	authorizers map[string]apigatewayv2authorizer.Apigatewayv2Authorizer
	routes      map[string]string // route shape to route key
	ids         map[string]bool   // construct ids of the routes
	stage       apigatewayv2stage.Apigatewayv2Stage
	throttled   []throttledRoute
}

// throttledRoute is a route whose throttling differs from the stage's default.
type throttledRoute struct {
	key      string
	throttle Throttle
	route    apigatewayv2route.Apigatewayv2Route
}

// accessLogFormat is one JSON object per request.
var accessLogFormat = mustJSON(map[string]string{
	"requestId":        "$context.requestId",
	"ip":               "$context.identity.sourceIp",
	"requestTime":      "$context.requestTime",
	"httpMethod":       "$context.httpMethod",
	"routeKey":         "$context.routeKey",
	"path":             "$context.path",
	"status":           "$context.status",
	"protocol":         "$context.protocol",
	"responseLength":   "$context.responseLength",
	"responseLatency":  "$context.responseLatency",
	"integrationError": "$context.integrationErrorMessage",
	"authorizerError":  "$context.authorizer.error",
	// The caller: the sub claim of the JWT the route's authorizer accepted ("-" on a
	// public route), so a request can be traced to the user who made it.
	"user": "$context.authorizer.claims.sub",
})

// NewBackendApi declares the API and its stage; add routes with Route.
func NewBackendApi(stack *Stack, id string, props BackendApiProps) (*BackendApi, error) {
	if props.Auth != nil {
		if err := props.Auth.validate(); err != nil {
			return nil, fmt.Errorf("api %s: %w", id, err)
		}
	}
	name := stack.ResourceName(firstNonEmpty(props.Name, kebab(id)))
	cors := props.CORS
	for _, origin := range cors.AllowOrigins {
		if err := checkOrigin(origin); err != nil {
			return nil, fmt.Errorf("api %s: %w", id, err)
		}
	}
	var methods map[string]bool
	if len(cors.AllowMethods) == 0 {
		methods = map[string]bool{"OPTIONS": true}
	}
	if len(cors.AllowHeaders) == 0 {
		cors.AllowHeaders = []string{"authorization", "content-type", "idempotency-key"}
	}
	if cors.MaxAge == 0 {
		cors.MaxAge = time.Hour
	}
	if cors.MaxAge < 0 || cors.MaxAge > 24*time.Hour || cors.MaxAge%time.Second != 0 {
		return nil, fmt.Errorf("api %s: CORS MaxAge %s must be whole seconds up to 24h", id, cors.MaxAge)
	}
	scope := stack.scope(id)
	api := apigatewayv2api.NewApigatewayv2Api(scope, jsii.String("api"), &apigatewayv2api.Apigatewayv2ApiConfig{
		Name:         jsii.String(name),
		ProtocolType: jsii.String("HTTP"),
	})
	// Under /aws/vendedlogs/: API Gateway delivers access logs as vended logs, and for
	// any other group it adds the group to the account's CloudWatch Logs resource
	// policy in the region, which is capped at 5,120 characters and keeps the entries
	// of removed stages: personal stages would fill it until no API could log. One
	// wildcard entry covers every /aws/vendedlogs/ group. The deployer needs the log
	// delivery actions DeployPermissions lists for aws_apigatewayv2_stage.
	logs := stack.newLogGroup(scope, "access-logs", "/aws/vendedlogs/apigateway/"+name)
	stage := apigatewayv2stage.NewApigatewayv2Stage(scope, jsii.String("stage"), &apigatewayv2stage.Apigatewayv2StageConfig{
		ApiId:      api.Id(),
		Name:       jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		AccessLogSettings: &apigatewayv2stage.Apigatewayv2StageAccessLogSettings{
			DestinationArn: logs.Arn(),
			Format:         jsii.String(accessLogFormat),
		},
		DefaultRouteSettings: &apigatewayv2stage.Apigatewayv2StageDefaultRouteSettings{
			ThrottlingBurstLimit: jsii.Number(float64(stack.stage.ThrottleBurst)),
			ThrottlingRateLimit:  jsii.Number(stack.stage.ThrottleRate),
		},
	})
	a := &BackendApi{
		stack:       stack,
		id:          id,
		name:        name,
		scope:       scope,
		api:         api,
		auth:        props.Auth,
		cors:        cors,
		methods:     methods,
		authorizers: map[string]apigatewayv2authorizer.Apigatewayv2Authorizer{},
		routes:      map[string]string{},
		ids:         map[string]bool{},
		stage:       stage,
	}
	a.putCORS()
	return a, nil
}

// AllowOrigins lets pages from these origins (scheme://host[:port], e.g. a
// StaticSite's URL) call the API from a browser; once any origin is allowed, the
// default of any origin no longer applies. A site is usually declared after the API
// whose URL it needs, hence a method rather than only a prop.
func (a *BackendApi) AllowOrigins(origins ...string) error {
	for _, origin := range origins {
		if err := checkOrigin(origin); err != nil {
			return fmt.Errorf("api %s: %w", a.id, err)
		}
	}
	a.cors.AllowOrigins = append(a.cors.AllowOrigins, origins...)
	a.putCORS()
	return nil
}

// putCORS writes the API's CORS configuration as it stands.
func (a *BackendApi) putCORS() {
	origins := a.cors.AllowOrigins
	if len(origins) == 0 {
		origins = []string{"*"}
	}
	methods := a.cors.AllowMethods
	if a.methods != nil {
		methods = slices.Sorted(maps.Keys(a.methods))
	}
	config := &apigatewayv2api.Apigatewayv2ApiCorsConfiguration{
		AllowOrigins: jsii.Strings(origins...),
		AllowMethods: jsii.Strings(methods...),
		AllowHeaders: jsii.Strings(a.cors.AllowHeaders...),
		MaxAge:       jsii.Number(a.cors.MaxAge.Seconds()),
	}
	if len(a.cors.ExposeHeaders) > 0 {
		config.ExposeHeaders = jsii.Strings(a.cors.ExposeHeaders...)
	}
	a.api.PutCorsConfiguration(config)
	a.stack.topo.CORS = a.topologyCORS(origins, methods)
}

// topologyCORS is the CORS configuration as the dev mode applies it: a site of the
// stack is named by its id, since its deployed origin is not known before deploying;
// any other origin known only once deployed is left out.
func (a *BackendApi) topologyCORS(origins, methods []string) *topology.CORS {
	cors := &topology.CORS{
		AllowMethods: methods, AllowHeaders: a.cors.AllowHeaders, ExposeHeaders: a.cors.ExposeHeaders,
		MaxAgeSeconds: int(a.cors.MaxAge.Seconds()),
	}
	for _, origin := range origins {
		site := slices.IndexFunc(a.stack.sites, func(s *StaticSite) bool { return s.URL() == origin })
		switch {
		case site >= 0:
			cors.AllowSites = append(cors.AllowSites, a.stack.sites[site].id)
		case !*cdktf.Token_IsUnresolved(jsii.String(origin)):
			cors.AllowOrigins = append(cors.AllowOrigins, origin)
		}
	}
	return cors
}

// checkOrigin accepts a CORS origin: "*", a construct's attribute, or scheme://host[:port].
func checkOrigin(origin string) error {
	if origin == "*" || *cdktf.Token_IsUnresolved(jsii.String(origin)) {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("CORS origin %q: write scheme://host[:port] with nothing after it, e.g. https://app.example.com or http://localhost:3001", origin)
	}
	return nil
}

// URL is the API's base URL.
func (a *BackendApi) URL() string { return *a.api.ApiEndpoint() }

// RouteOption changes how one route is authorized.
type RouteOption func(*routeOptions)

type routeOptions struct {
	public   bool
	auth     *JWTAuth
	throttle *Throttle
}

// Throttle limits the requests a route accepts across all callers, above which API
// Gateway answers 429 without calling the function: a steady Rate per second, with
// bursts of up to Burst requests.
type Throttle struct {
	Rate  float64
	Burst int
}

// Public lets anyone call the route, even when the API has an authorizer.
func Public() RouteOption { return func(o *routeOptions) { o.public = true } }

// WithAuth protects the route with its own JWT authorizer.
func WithAuth(auth JWTAuth) RouteOption { return func(o *routeOptions) { o.auth = &auth } }

// Throttled gives the route a throttle of its own instead of the stage's default: a
// route that writes, say, below the routes that read.
func Throttled(t Throttle) RouteOption { return func(o *routeOptions) { o.throttle = &t } }

var pathParameter = regexp.MustCompile(`\{[^}]*\}`)

var routeKeyPattern = regexp.MustCompile(`^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (/[A-Za-z0-9._~\-/{}+]*)$`)

// Route sends requests matching routeKey ("GET /personas") to a new function built
// from fn, through a Lambda proxy integration with payload format 2.0; only this API
// may invoke the function, and only on this route.
func (a *BackendApi) Route(routeKey string, fn FunctionProps, opts ...RouteOption) (*GoFunction, error) {
	m := routeKeyPattern.FindStringSubmatch(routeKey)
	if m == nil {
		return nil, fmt.Errorf("route %q: write it as \"METHOD /path\", e.g. \"GET /personas\" or \"POST /personas/{id}\"", routeKey)
	}
	// API Gateway tells routes apart by method and path shape, not by parameter names.
	shape := m[1] + " " + pathParameter.ReplaceAllString(m[2], "{}")
	if other, taken := a.routes[shape]; taken {
		return nil, fmt.Errorf("route %q is defined twice (as %q): API Gateway matches them alike", routeKey, other)
	}
	var o routeOptions
	for _, opt := range opts {
		opt(&o)
	}
	if t := o.throttle; t != nil && (t.Rate <= 0 || t.Burst < 1) {
		return nil, fmt.Errorf("route %q: throttle rate %g and burst %d: give a rate above 0 requests per second and a burst of at least 1", routeKey, t.Rate, t.Burst)
	}
	auth := a.auth
	if o.auth != nil {
		auth = o.auth
	}
	if o.public {
		auth = nil
	}
	id := routeID(m[1], m[2])
	if a.ids[id] {
		// Another route's path spells the same words, e.g. /a-b and /a/b.
		id += fmt.Sprintf("%x", sha256.Sum256([]byte(routeKey)))[:8]
	}
	a.ids[id] = true
	if fn.Name == "" {
		fn.Name = kebab(id)
	}
	function, err := NewGoFunction(a.stack, a.stack.derive(a.id, id), fn)
	if err != nil {
		return nil, fmt.Errorf("route %q: %w", routeKey, err)
	}
	scope := constructs.NewConstruct(a.scope, jsii.String(id))
	integration := apigatewayv2integration.NewApigatewayv2Integration(scope, jsii.String("integration"), &apigatewayv2integration.Apigatewayv2IntegrationConfig{
		ApiId:                a.api.Id(),
		IntegrationType:      jsii.String("AWS_PROXY"),
		IntegrationUri:       jsii.String(function.invokeArn()),
		PayloadFormatVersion: jsii.String("2.0"),
	})
	routeConfig := &apigatewayv2route.Apigatewayv2RouteConfig{
		ApiId:    a.api.Id(),
		RouteKey: jsii.String(routeKey),
		Target:   jsii.String("integrations/" + *integration.Id()),
	}
	if auth != nil {
		authorizer, err := a.authorizer(*auth)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", routeKey, err)
		}
		routeConfig.AuthorizationType = jsii.String("JWT")
		routeConfig.AuthorizerId = authorizer.Id()
	}
	route := apigatewayv2route.NewApigatewayv2Route(scope, jsii.String("route"), routeConfig)
	if o.throttle != nil {
		a.throttled = append(a.throttled, throttledRoute{key: routeKey, throttle: *o.throttle, route: route})
		a.putRouteSettings()
	}

	method, path := m[1], m[2]
	if method == "ANY" {
		method = "*"
	}
	sourcePath := pathParameter.ReplaceAllString(path, "*")
	lambdapermission.NewLambdaPermission(scope, jsii.String("permission"), &lambdapermission.LambdaPermissionConfig{
		Action:       jsii.String("lambda:InvokeFunction"),
		FunctionName: function.lambda.FunctionName(),
		Principal:    jsii.String("apigateway.amazonaws.com"),
		SourceArn:    jsii.String(fmt.Sprintf("%s/*/%s%s", *a.api.ExecutionArn(), method, sourcePath)),
	})
	a.routes[shape] = routeKey
	if a.methods != nil {
		if m[1] == "ANY" {
			for _, method := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"} {
				a.methods[method] = true
			}
		} else {
			a.methods[m[1]] = true
		}
		a.putCORS()
	}
	topoRoute := topology.Route{RouteKey: routeKey, Function: function.Name(), Authorized: auth != nil}
	if auth != nil && known(auth.Issuer) && !slices.ContainsFunc(auth.Audience, func(a string) bool { return !known(a) }) {
		topoRoute.Issuer, topoRoute.Audience = auth.Issuer, auth.Audience
	}
	a.stack.topo.Routes = append(a.stack.topo.Routes, topoRoute)
	return function, nil
}

// known reports whether s is known at synth, not a value Terraform resolves on deploy.
func known(s string) bool { return !*cdktf.Token_IsUnresolved(jsii.String(s)) }

// putRouteSettings writes the stage's settings of the throttled routes. API Gateway
// refuses settings for a route key it does not have yet, so the stage depends on
// those routes.
func (a *BackendApi) putRouteSettings() {
	settings := make([]*apigatewayv2stage.Apigatewayv2StageRouteSettings, 0, len(a.throttled))
	routes := make([]*string, 0, len(a.throttled))
	for _, r := range a.throttled {
		settings = append(settings, &apigatewayv2stage.Apigatewayv2StageRouteSettings{
			RouteKey:             jsii.String(r.key),
			ThrottlingRateLimit:  jsii.Number(r.throttle.Rate),
			ThrottlingBurstLimit: jsii.Number(float64(r.throttle.Burst)),
		})
		routes = append(routes, jsii.String(*r.route.TerraformResourceType()+"."+*r.route.FriendlyUniqueId()))
	}
	a.stage.PutRouteSettings(settings)
	a.stage.SetDependsOn(&routes)
}

// authorizer returns the API's JWT authorizer for auth, declaring it on first use.
func (a *BackendApi) authorizer(auth JWTAuth) (apigatewayv2authorizer.Apigatewayv2Authorizer, error) {
	if err := auth.validate(); err != nil {
		return nil, err
	}
	key := auth.Issuer + "|" + strings.Join(auth.Audience, ",")
	if existing, ok := a.authorizers[key]; ok {
		return existing, nil
	}
	id := fmt.Sprintf("jwt-authorizer-%d", len(a.authorizers)+1)
	authorizer := apigatewayv2authorizer.NewApigatewayv2Authorizer(a.scope, jsii.String(id), &apigatewayv2authorizer.Apigatewayv2AuthorizerConfig{
		ApiId:           a.api.Id(),
		AuthorizerType:  jsii.String("JWT"),
		Name:            jsii.String(a.stack.ResourceName(id)),
		IdentitySources: jsii.Strings("$request.header.Authorization"),
		JwtConfiguration: &apigatewayv2authorizer.Apigatewayv2AuthorizerJwtConfiguration{
			Issuer:   jsii.String(auth.Issuer),
			Audience: jsii.Strings(auth.Audience...),
		},
	})
	a.authorizers[key] = authorizer
	return authorizer, nil
}

func (j JWTAuth) validate() error {
	if j.Issuer == "" || len(j.Audience) == 0 {
		return fmt.Errorf("a JWT authorizer needs an issuer URL and at least one audience")
	}
	return nil
}

// routeID turns "GET /personas/{id}" into "GetPersonasId".
func routeID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(method[:1]) + strings.ToLower(method[1:]))
	for _, part := range regexp.MustCompile(`[A-Za-z0-9]+`).FindAllString(path, -1) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}
