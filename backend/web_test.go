package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/personabackend/app/constructs"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/web"
)

// resourcesOf returns a stack's resources of one type, by logical name.
func resourcesOf(t *testing.T, stack, typ string) map[string]map[string]any {
	t.Helper()
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	s, ok := stacks[stack]
	if !ok {
		t.Fatalf("no stack %s", stack)
	}
	out := map[string]map[string]any{}
	byName, _ := s.doc["resource"].(map[string]any)[typ].(map[string]any)
	for name, r := range byName {
		out[name] = r.(map[string]any)
	}
	return out
}

// webConfigObject returns the MyWeb config.json object of a stack, or nil.
func webConfigObject(t *testing.T, stack string) map[string]any {
	t.Helper()
	for name, r := range resourcesOf(t, stack, "aws_s3_object") {
		if strings.HasPrefix(name, "MyWeb_config_") {
			return r
		}
	}
	return nil
}

func TestEveryStageWithItsOwnUserPoolServesMyWebAndSaysWhereInItsOutputs(t *testing.T) {
	for _, name := range []string{"persona-dev", "persona-staging", "persona-prod", "persona-alice"} {
		if n := len(resourcesOf(t, name, "aws_cloudfront_distribution")); n != 1 {
			t.Errorf("%s has %d distributions, want MyWeb's", name, n)
		}
		outputs := stacks[name].doc["output"].(map[string]any)
		for output, want := range map[string]string{
			"WebUrl":           "https://${aws_cloudfront_distribution.MyWeb_distribution_",
			"UserPoolId":       "${aws_cognito_user_pool.Users_pool_",
			"UserPoolClientId": "${aws_cognito_user_pool_client.Users_client_",
			"ApiUrl":           "${aws_apigatewayv2_api.BackendApi_api_",
		} {
			o, ok := outputs[output].(map[string]any)
			if !ok || !strings.HasPrefix(o["value"].(string), want) {
				t.Errorf("%s output %s = %v, want %s…", name, output, o, want)
			}
		}
		files := 0
		for objName, r := range resourcesOf(t, name, "aws_s3_object") {
			if strings.HasPrefix(objName, "MyWeb_files_") {
				files = len(r["for_each"].(map[string]any))
			}
		}
		if files < 5 {
			t.Errorf("%s uploads %d files of the web app", name, files)
		}
	}
	// The page signs in with Cognito only, so a stage trusting another issuer has no MyWeb.
	if n := len(resourcesOf(t, "persona-bob", "aws_cloudfront_distribution")); n != 0 || webConfigObject(t, "persona-bob") != nil {
		t.Errorf("persona-bob, which trusts its own issuer, serves a web app that cannot sign in")
	}
	for _, output := range []string{"WebUrl", "UserPoolId", "UserPoolClientId"} {
		if _, ok := stacks["persona-bob"].doc["output"].(map[string]any)[output]; ok {
			t.Errorf("persona-bob outputs %s", output)
		}
	}
}

// terraformValue matches a Terraform value in config.json's template.
var terraformValue = regexp.MustCompile(`\$\{jsonencode\(([^)]*)\)\}`)

func TestMyWebConfigIsTheWebAppsContractFilledWithTheStacksValues(t *testing.T) {
	config := webConfigObject(t, "persona-dev")
	if config == nil {
		t.Fatal("persona-dev has no config.json object")
	}
	if config["content_type"] != "application/json" || config["cache_control"] != "no-cache" {
		t.Errorf("config.json object = %v", config)
	}
	// Terraform fills in the stack's values; here, values shaped like them.
	deployed := map[string]string{
		"aws_apigatewayv2_api.BackendApi_api_":       "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
		"aws_cognito_user_pool.Users_pool_":          "us-east-1_AbCdEf123",
		"aws_cognito_user_pool_client.Users_client_": "4example5client6id",
	}
	var unknown []string
	content := terraformValue.ReplaceAllStringFunc(config["content"].(string), func(expr string) string {
		ref := terraformValue.FindStringSubmatch(expr)[1]
		for prefix, value := range deployed {
			if strings.HasPrefix(ref, prefix) {
				quoted, _ := json.Marshal(value)
				return string(quoted)
			}
		}
		unknown = append(unknown, ref)
		return `""`
	})
	if len(unknown) > 0 {
		t.Errorf("config.json holds unexpected Terraform values %v", unknown)
	}
	decoder := json.NewDecoder(strings.NewReader(content))
	decoder.DisallowUnknownFields()
	var got web.Config
	if err := decoder.Decode(&got); err != nil {
		t.Fatalf("config.json %s is not the web app's contract: %v", content, err)
	}
	want := web.Config{Stage: "dev", Region: "us-east-1", SignIn: web.SignInCognito, APIURL: deployed["aws_apigatewayv2_api.BackendApi_api_"],
		UserPoolID: deployed["aws_cognito_user_pool.Users_pool_"], UserPoolClientID: deployed["aws_cognito_user_pool_client.Users_client_"],
		PasswordPolicy: web.PasswordPolicy{MinimumLength: constructs.PasswordMinimumLength, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true}}
	if got != want {
		t.Errorf("config.json = %+v, want %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("the page would refuse this stage's config: %v", err)
	}
}

func TestTheAPIAllowsExactlyMyWebAndOnUnprotectedStagesTheDevServer(t *testing.T) {
	for stage, wantOrigins := range map[string]string{
		"persona-dev":  `["https://${aws_cloudfront_distribution.MyWeb_distribution_<id>.domain_name}","` + WebDevServer + `"]`,
		"persona-prod": `["https://${aws_cloudfront_distribution.MyWeb_distribution_<id>.domain_name}"]`,
		"persona-bob":  `["*"]`,
	} {
		for _, api := range resourcesOf(t, stage, "aws_apigatewayv2_api") {
			cors := api["cors_configuration"].(map[string]any)
			origins, _ := json.Marshal(cors["allow_origins"])
			pattern := "^" + strings.ReplaceAll(regexp.QuoteMeta(wantOrigins), "<id>", "[0-9A-F]+") + "$"
			if !regexp.MustCompile(pattern).Match(origins) {
				t.Errorf("%s origins = %s, want %s", stage, origins, wantOrigins)
			}
			for key, want := range map[string]string{
				"allow_methods":  `["GET","OPTIONS","POST"]`,
				"allow_headers":  `["authorization","content-type","idempotency-key"]`,
				"expose_headers": `["Location","Idempotent-Replayed"]`,
			} {
				if got, _ := json.Marshal(cors[key]); string(got) != want {
					t.Errorf("%s %s = %s, want %s", stage, key, got, want)
				}
			}
		}
	}
}

func TestThePageMayCallExactlyTheAPIAndCognito(t *testing.T) {
	keys := resourcesOf(t, "persona-dev", "aws_cloudfrontkeyvaluestore_key")
	if len(keys) != 1 {
		t.Fatalf("keys = %v", keys)
	}
	for _, key := range keys {
		value := key["value"].(string)
		if !regexp.MustCompile(`^\$\{aws_apigatewayv2_api\.BackendApi_api_[0-9A-F]+\.api_endpoint\} https://cognito-idp\.us-east-1\.\$\{data\.aws_partition\.partition\.dns_suffix\}$`).MatchString(value) {
			t.Errorf("connect sources = %s, want the API and Cognito in the stage's region", value)
		}
	}
}

// TestEveryPageOfTheWebAppRunsUnderTheSynthesizedContentSecurityPolicy serves the
// files the dev stack uploads with the CSP its headers policy sets, and loads each
// page in headless Chromium: the page must start (it shows the stage it read from
// config.json) and the browser must report no CSP violation.
func TestEveryPageOfTheWebAppRunsUnderTheSynthesizedContentSecurityPolicy(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		localawstest.SkipOrFail(t, fmt.Errorf("chromium is not installed (apt-get install -y chromium), so the pages are not loaded under the CSP: %w", err))
	}
	var csp string
	for _, policy := range resourcesOf(t, "persona-dev", "aws_cloudfront_response_headers_policy") {
		csp = policy["security_headers_config"].(map[string]any)["content_security_policy"].(map[string]any)["content_security_policy"].(string)
	}
	files, err := filepath.Glob(filepath.Join(stackDirs["persona-dev"], "assets", "MyWeb_build_*", "files"))
	if err != nil || len(files) != 1 {
		t.Fatalf("the web app's files beside the stack: %v %v", files, err)
	}
	config, err := web.Config{Stage: "csp-check", APIURL: "https://api.example.com", Region: "us-east-1",
		UserPoolID: "us-east-1_AbCdEf123", UserPoolClientID: "4example5client6id", SignIn: web.SignInCognito}.JSON()
	if err != nil {
		t.Fatal(err)
	}
	site := http.FileServer(http.Dir(files[0]))
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		if r.URL.Path == "/"+web.ConfigFile {
			w.Header().Set("Content-Type", "application/json")
			w.Write(config)
			return
		}
		site.ServeHTTP(w, r)
	}))
	defer server.Close()
	pages, err := filepath.Glob(filepath.Join(files[0], "*.html"))
	if err != nil || len(pages) < 4 {
		t.Fatalf("pages = %v, %v", pages, err)
	}
	for _, page := range pages {
		name := filepath.Base(page)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
			"--dump-dom", server.URL+"/"+name)
		var log strings.Builder
		cmd.Stderr = &log
		dom, err := cmd.Output()
		cancel()
		if err != nil {
			t.Fatalf("%s: chromium: %v\n%s", name, err, log.String())
		}
		if strings.Contains(log.String(), "Content Security Policy") {
			t.Errorf("%s breaks the CSP %q:\n%s", name, csp, log.String())
		}
		if !strings.Contains(string(dom), "csp-check") {
			t.Errorf("%s did not start under the CSP: the stage from config.json is not on the page", name)
		}
	}
}
