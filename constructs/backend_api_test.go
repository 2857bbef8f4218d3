package constructs

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestBackendApiHasAnAutoDeployedDefaultStageWithJSONAccessLogs(t *testing.T) {
	s := stackFor(t, "dev")
	s.hasResource(t, "aws_apigatewayv2_api", map[string]any{"name": "shop-dev-api", "protocol_type": "HTTP"})
	stage := s.only(t, "aws_apigatewayv2_stage", "name", "$default")
	if stage["auto_deploy"] != true {
		t.Errorf("auto_deploy = %v", stage["auto_deploy"])
	}
	logs := stage["access_log_settings"].(map[string]any)
	format := decodeJSON(t, logs["format"])
	for _, field := range []string{"requestId", "routeKey", "status", "responseLatency"} {
		if _, ok := format[field]; !ok {
			t.Errorf("access log format lacks %s: %v", field, format)
		}
	}
	if format["user"] != "$context.authorizer.claims.sub" {
		t.Errorf("access log user = %v, want the caller's sub claim", format["user"])
	}
	if !strings.Contains(logs["destination_arn"].(string), "aws_cloudwatch_log_group.Api_access-logs") {
		t.Errorf("access logs go to %v, want the API's log group", logs["destination_arn"])
	}
}

func TestAccessLogsGoToAVendedLogGroupThatAProtectedStageKeeps(t *testing.T) {
	for stage, retention := range map[string]float64{"dev": 7, "prod": 365} {
		group := stackFor(t, stage).only(t, "aws_cloudwatch_log_group", "name", "/aws/vendedlogs/apigateway/shop-"+stage+"-api")
		if group["retention_in_days"] != retention {
			t.Errorf("%s: retention %v, want %v", stage, group["retention_in_days"], retention)
		}
		if kept := group["skip_destroy"] == true; kept != (stage == "prod") {
			t.Errorf("%s: skip_destroy = %v", stage, group["skip_destroy"])
		}
	}
	// Turning access logs on is a log delivery, which the deployer must be allowed.
	permissions, err := DeployPermissions("aws_apigatewayv2_stage")
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries"} {
		if !slices.Contains(permissions[0].Actions, action) || permissions[0].Why[action] == "" {
			t.Errorf("the deploy permissions of an API stage lack %s, or the reason for it", action)
		}
	}
}

func TestBackendApiThrottlesRoutesWithTheStageSettings(t *testing.T) {
	for stage, want := range map[string][2]float64{"dev": {50, 100}, "prod": {1000, 5000}} {
		settings := stackFor(t, stage).only(t, "aws_apigatewayv2_stage", "name", "$default")["default_route_settings"].(map[string]any)
		if settings["throttling_burst_limit"] != want[0] || settings["throttling_rate_limit"] != want[1] {
			t.Errorf("%s throttling = %v, want burst %v rate %v", stage, settings, want[0], want[1])
		}
	}
}

func TestAThrottledRouteHasItsOwnLimitsOnTheStageWhichWaitsForTheRoute(t *testing.T) {
	stage := stackFor(t, "dev").only(t, "aws_apigatewayv2_stage", "name", "$default")
	settings := stage["route_settings"].([]any)
	want := map[string]any{"route_key": "POST /orders/{id}", "throttling_rate_limit": float64(5), "throttling_burst_limit": float64(10)}
	if len(settings) != 1 || !reflect.DeepEqual(settings[0], want) {
		t.Errorf("route_settings = %v, want only %v", settings, want)
	}
	// API Gateway refuses settings for a route it does not have yet.
	deps, _ := stage["depends_on"].([]any)
	if len(deps) != 1 || !strings.HasPrefix(deps[0].(string), "aws_apigatewayv2_route.Api_PostOrdersId_route_") {
		t.Errorf("depends_on = %v, want the throttled route", deps)
	}
}

func TestARouteThrottleMustLetRequestsThrough(t *testing.T) {
	api, err := NewBackendApi(scratchStack(t), "Api", BackendApiProps{})
	if err != nil {
		t.Fatal(err)
	}
	for _, throttle := range []Throttle{{Rate: 0, Burst: 10}, {Rate: 5, Burst: 0}, {Rate: -1, Burst: 1}} {
		_, err := api.Route("POST /things", FunctionProps{Package: "./constructs/testdata/echo"}, Throttled(throttle))
		if err == nil || !strings.Contains(err.Error(), "a rate above 0") {
			t.Errorf("Route with %+v = %v", throttle, err)
		}
	}
}

func TestBackendApiAllowsCrossOriginCallsWithTheAuthorizationHeader(t *testing.T) {
	api := stackFor(t, "dev").only(t, "aws_apigatewayv2_api", "name", "shop-dev-api")
	cors := api["cors_configuration"].(map[string]any)
	if !containsAll(cors["allow_headers"], "authorization", "content-type") || !containsAll(cors["allow_methods"], "GET", "POST") {
		t.Errorf("cors = %v", cors)
	}
}

func TestRoutesUseLambdaProxyIntegrationsWithPayloadFormat2(t *testing.T) {
	s := stackFor(t, "dev")
	integrations := s.resources("aws_apigatewayv2_integration")
	if len(integrations) != 3 {
		t.Fatalf("want 3 integrations, got %d", len(integrations))
	}
	for name, in := range integrations {
		if in["integration_type"] != "AWS_PROXY" || in["payload_format_version"] != "2.0" {
			t.Errorf("%s: type %v payload %v", name, in["integration_type"], in["payload_format_version"])
		}
		if !strings.HasSuffix(in["integration_uri"].(string), ".invoke_arn}") {
			t.Errorf("%s: uri %v is not a function's invoke ARN", name, in["integration_uri"])
		}
	}
}

func TestRoutesUseTheAPIsJWTAuthorizerUnlessPublic(t *testing.T) {
	s := stackFor(t, "dev")
	s.hasResource(t, "aws_apigatewayv2_authorizer", map[string]any{
		"authorizer_type":   "JWT",
		"identity_sources":  []any{"$request.header.Authorization"},
		"jwt_configuration": map[string]any{"issuer": "https://issuer.example.com", "audience": []any{"shop-client"}},
	})
	for key, wantAuth := range map[string]bool{"GET /orders": true, "POST /orders/{id}": true, "GET /health": false} {
		route := s.only(t, "aws_apigatewayv2_route", "route_key", key)
		if got := route["authorization_type"] == "JWT" && route["authorizer_id"] != nil; got != wantAuth {
			t.Errorf("%s: authorized = %v, want %v", key, got, wantAuth)
		}
	}
}

func TestOnlyThisAPIMayInvokeARouteFunctionAndOnlyOnItsRoute(t *testing.T) {
	s := stackFor(t, "dev")
	// The permission refers to its function, so Terraform creates the function first.
	want := map[string]string{
		"shop-dev-list":   "/*/GET/orders",
		"shop-dev-place":  "/*/POST/orders/*",
		"shop-dev-health": "/*/GET/health",
	}
	for fn, suffix := range want {
		var id string
		for name, f := range s.resources("aws_lambda_function") {
			if f["function_name"] == fn {
				id = name
			}
		}
		p := s.only(t, "aws_lambda_permission", "function_name", "${aws_lambda_function."+id+".function_name}")
		if p["principal"] != "apigateway.amazonaws.com" || p["action"] != "lambda:InvokeFunction" {
			t.Errorf("%s: %v", fn, p)
		}
		if arn := p["source_arn"].(string); !strings.HasPrefix(arn, "${aws_apigatewayv2_api.Api_api") || !strings.HasSuffix(arn, suffix) {
			t.Errorf("%s: source_arn %s, want this API's execution ARN ending %s", fn, arn, suffix)
		}
	}
}

func TestTheAPIURLIsAStackOutput(t *testing.T) {
	out := stackFor(t, "dev").doc["output"].(map[string]any)["ApiUrl"].(map[string]any)
	if !strings.HasSuffix(out["value"].(string), ".api_endpoint}") {
		t.Errorf("ApiUrl = %v", out["value"])
	}
}

func TestRouteRejectsMalformedAndDuplicateRouteKeys(t *testing.T) {
	stack := scratchStack(t)
	api, err := NewBackendApi(stack, "Api", BackendApiProps{})
	if err != nil {
		t.Fatal(err)
	}
	fn := FunctionProps{Package: "./constructs/testdata/echo"}
	for _, key := range []string{"/personas", "FETCH /personas", "GET personas", "GET /a b"} {
		if _, err := api.Route(key, fn); err == nil || !strings.Contains(err.Error(), `write it as "METHOD /path"`) {
			t.Errorf("Route(%q) = %v, want a format error", key, err)
		}
	}
	if _, err := api.Route("GET /things", fn); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Route("GET /things", fn); err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("second GET /things: %v, want defined twice", err)
	}
	if _, err := api.Route("GET /things/{id}", FunctionProps{Package: fn.Package, Name: "one"}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Route("GET /things/{thingId}", FunctionProps{Package: fn.Package, Name: "two"}); err == nil || !strings.Contains(err.Error(), `defined twice (as "GET /things/{id}")`) {
		t.Errorf("GET /things/{thingId} after GET /things/{id}: %v", err)
	}
	// Paths spelling the same words still get routes of their own.
	if _, err := api.Route("GET /a-b", FunctionProps{Package: fn.Package, Name: "ab1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Route("GET /a/b", FunctionProps{Package: fn.Package, Name: "ab2"}); err != nil {
		t.Errorf("GET /a/b after GET /a-b: %v", err)
	}
	if _, err := NewBackendApi(stack, "Api2", BackendApiProps{Auth: &JWTAuth{Issuer: "https://x"}}); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Errorf("authorizer without audience: %v", err)
	}
}

func containsAll(list any, want ...string) bool {
	have := map[string]bool{}
	for _, v := range list.([]any) {
		have[v.(string)] = true
	}
	for _, w := range want {
		if !have[w] {
			return false
		}
	}
	return true
}

func TestCORSOriginsMustBeBareOrigins(t *testing.T) {
	stack := scratchStack(t)
	api, err := NewBackendApi(stack, "Api", BackendApiProps{})
	if err != nil {
		t.Fatal(err)
	}
	for _, origin := range []string{"https://app.example.com/", "https://app.example.com/login", "app.example.com", "ftp://app.example.com", "https://user@app.example.com"} {
		if err := api.AllowOrigins(origin); err == nil || !strings.Contains(err.Error(), "scheme://host[:port]") {
			t.Errorf("AllowOrigins(%q) = %v, want an error showing the form", origin, err)
		}
	}
	if err := api.AllowOrigins("https://app.example.com", "http://localhost:3001"); err != nil {
		t.Errorf("bare origins refused: %v", err)
	}
	if _, err := NewBackendApi(stack, "Api2", BackendApiProps{CORS: CORS{AllowOrigins: []string{"https://a.example.com/x"}}}); err == nil {
		t.Error("a URL with a path was accepted as an origin in the props")
	}
}
