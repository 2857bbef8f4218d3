package constructs

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/internal/staticsite"
)

const siteDistribution = "${aws_cloudfront_distribution.Storefront_distribution_04E1CEEA"

// siteResource returns the one resource of a type the test site declares.
func (s *synthStack) siteResource(t *testing.T, typ string) map[string]any {
	t.Helper()
	var found []map[string]any
	for name, r := range s.resources(typ) {
		if strings.HasPrefix(name, "Storefront_") {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s of the site, found %d", typ, len(found))
	}
	return found[0]
}

// siteResourceNamed returns the site's resource of a type whose logical name starts with prefix.
func (s *synthStack) siteResourceNamed(t *testing.T, typ, prefix string) map[string]any {
	t.Helper()
	for name, r := range s.resources(typ) {
		if strings.HasPrefix(name, prefix) {
			return r
		}
	}
	t.Fatalf("no %s named %s…", typ, prefix)
	return nil
}

func TestTheSiteBucketIsPrivateEncryptedAndOwnedByTheBucketOwner(t *testing.T) {
	for stage, forceDestroy := range map[string]bool{"dev": true, "prod": false} {
		s := stackFor(t, stage)
		bucket := s.siteResource(t, "aws_s3_bucket")
		if bucket["bucket_prefix"] != "shop-"+stage+"-storefront-" || bucket["force_destroy"] != forceDestroy {
			t.Errorf("%s bucket = %v, want prefix shop-%s-storefront- and force_destroy %v", stage, bucket, stage, forceDestroy)
		}
		block := s.siteResource(t, "aws_s3_bucket_public_access_block")
		for _, setting := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
			if block[setting] != true {
				t.Errorf("%s: public access %s = %v, want true", stage, setting, block[setting])
			}
		}
		ownership := s.siteResource(t, "aws_s3_bucket_ownership_controls")["rule"].(map[string]any)
		if ownership["object_ownership"] != "BucketOwnerEnforced" {
			t.Errorf("%s: object ownership %v, want BucketOwnerEnforced (no ACLs)", stage, ownership)
		}
		rule := s.siteResource(t, "aws_s3_bucket_server_side_encryption_configuration")["rule"].([]any)[0].(map[string]any)
		if rule["apply_server_side_encryption_by_default"].(map[string]any)["sse_algorithm"] != "AES256" {
			t.Errorf("%s: encryption %v, want SSE-S3", stage, rule)
		}
	}
}

func TestOnlyThisDistributionMayReadTheSiteBucketThroughOriginAccessControl(t *testing.T) {
	s := stackFor(t, "dev")
	oac := s.siteResource(t, "aws_cloudfront_origin_access_control")
	if oac["origin_access_control_origin_type"] != "s3" || oac["signing_behavior"] != "always" || oac["signing_protocol"] != "sigv4" {
		t.Errorf("origin access control = %v", oac)
	}
	origins := s.siteResource(t, "aws_cloudfront_distribution")["origin"].([]any)
	if len(origins) != 1 {
		t.Fatalf("origins = %v", origins)
	}
	origin := origins[0].(map[string]any)
	if !strings.HasPrefix(origin["origin_access_control_id"].(string), "${aws_cloudfront_origin_access_control.Storefront_") ||
		!strings.HasSuffix(origin["domain_name"].(string), ".bucket_regional_domain_name}") {
		t.Errorf("origin = %v, want the bucket's regional domain signed by the origin access control", origin)
	}
	if _, oai := origin["s3_origin_config"]; oai {
		t.Errorf("origin uses an origin access identity: %v", origin)
	}
	if len(s.resources("aws_cloudfront_origin_access_identity")) != 0 {
		t.Error("the stack declares an origin access identity")
	}

	policy := decodeJSON(t, s.siteResource(t, "aws_s3_bucket_policy")["policy"])
	var allows []map[string]any
	for _, st := range policy["Statement"].([]any) {
		st := st.(map[string]any)
		if st["Effect"] == "Allow" {
			allows = append(allows, st)
			continue
		}
		if st["Effect"] != "Deny" || st["Condition"].(map[string]any)["Bool"].(map[string]any)["aws:SecureTransport"] != "false" {
			t.Errorf("unexpected statement %v", st)
		}
	}
	if len(allows) != 1 {
		t.Fatalf("want one Allow statement, got %v", allows)
	}
	allow := allows[0]
	principal, _ := json.Marshal(allow["Principal"])
	if string(principal) != `{"Service":"cloudfront.amazonaws.com"}` || allow["Action"] != "s3:GetObject" ||
		!strings.HasPrefix(allow["Resource"].(string), "${aws_s3_bucket.Storefront_bucket_") || !strings.HasSuffix(allow["Resource"].(string), ".arn}/*") {
		t.Errorf("allow = %v, want CloudFront reading the bucket's objects only", allow)
	}
	condition, _ := json.Marshal(allow["Condition"])
	if string(condition) != `{"StringEquals":{"AWS:SourceArn":"`+siteDistribution+`.arn}"}}` {
		t.Errorf("condition = %s, want exactly this distribution's ARN", condition)
	}
}

func TestTheDistributionServesHTTPSOverHTTP2And3WithA404Page(t *testing.T) {
	d := stackFor(t, "dev").siteResource(t, "aws_cloudfront_distribution")
	for key, want := range map[string]any{
		"enabled": true, "http_version": "http2and3", "is_ipv6_enabled": true,
		"price_class": "PriceClass_100", "default_root_object": "index.html",
	} {
		if d[key] != want {
			t.Errorf("%s = %v, want %v", key, d[key], want)
		}
	}
	if d["viewer_certificate"].(map[string]any)["cloudfront_default_certificate"] != true {
		t.Errorf("viewer certificate = %v", d["viewer_certificate"])
	}
	behaviors := []any{d["default_cache_behavior"]}
	behaviors = append(behaviors, d["ordered_cache_behavior"].([]any)...)
	for _, b := range behaviors {
		b := b.(map[string]any)
		if b["viewer_protocol_policy"] != "redirect-to-https" || b["compress"] != true || b["cache_policy_id"] != cachingOptimized ||
			!strings.HasPrefix(b["response_headers_policy_id"].(string), "${aws_cloudfront_response_headers_policy.Storefront_headers_") {
			t.Errorf("behavior %v, want HTTPS, compression, the cache policy and the site's headers", b)
		}
		if got, _ := json.Marshal(b["allowed_methods"]); string(got) != `["GET","HEAD"]` {
			t.Errorf("behavior %v allows %s", b["path_pattern"], got)
		}
	}
	errs := map[float64]map[string]any{}
	for _, e := range d["custom_error_response"].([]any) {
		e := e.(map[string]any)
		errs[e["error_code"].(float64)] = e
	}
	for _, code := range []float64{403, 404} {
		if e := errs[code]; e == nil || e["response_code"] != 404.0 || e["response_page_path"] != "/404.html" {
			t.Errorf("a %v from the bucket gives %v, want /404.html with status 404", code, e)
		}
	}
}

func TestPagesRunTheFunctionsAndHashedAssetsSkipThem(t *testing.T) {
	s := stackFor(t, "dev")
	d := s.siteResource(t, "aws_cloudfront_distribution")
	events := map[string]string{}
	for _, f := range d["default_cache_behavior"].(map[string]any)["function_association"].([]any) {
		f := f.(map[string]any)
		events[f["event_type"].(string)] = f["function_arn"].(string)
	}
	if !strings.HasPrefix(events["viewer-request"], "${aws_cloudfront_function.Storefront_rewrite_") ||
		!strings.HasPrefix(events["viewer-response"], "${aws_cloudfront_function.Storefront_connect-sources-function_") || len(events) != 2 {
		t.Errorf("page functions = %v, want the rewrite on request and the CSP on response", events)
	}
	assets := d["ordered_cache_behavior"].([]any)
	if len(assets) != 1 {
		t.Fatalf("ordered behaviors = %v", assets)
	}
	a := assets[0].(map[string]any)
	if a["path_pattern"] != "/_next/static/*" || a["function_association"] != nil {
		t.Errorf("hashed assets behavior = %v, want /_next/static/* with no function", a)
	}
	rewrite := s.siteResourceNamed(t, "aws_cloudfront_function", "Storefront_rewrite_")
	if rewrite["runtime"] != "cloudfront-js-2.0" || rewrite["publish"] != true || rewrite["code"] != rewriteFunctionCode || rewrite["name"] != "shop-dev-eu-west-1-storefront-rewrite" {
		t.Errorf("rewrite function = %v", rewrite)
	}
}

func TestTheHeadersPolicySetsHSTSNosniffReferrerFrameDenialAndTheCSP(t *testing.T) {
	policy := stackFor(t, "dev").siteResource(t, "aws_cloudfront_response_headers_policy")["security_headers_config"].(map[string]any)
	hsts := policy["strict_transport_security"].(map[string]any)
	if hsts["access_control_max_age_sec"].(float64) < 31536000 || hsts["include_subdomains"] != true || hsts["override"] != true {
		t.Errorf("HSTS = %v, want at least a year, subdomains included", hsts)
	}
	if policy["content_type_options"].(map[string]any)["override"] != true {
		t.Errorf("X-Content-Type-Options = %v", policy["content_type_options"])
	}
	if f := policy["frame_options"].(map[string]any); f["frame_option"] != "DENY" {
		t.Errorf("X-Frame-Options = %v", f)
	}
	if r := policy["referrer_policy"].(map[string]any); r["referrer_policy"] != "strict-origin-when-cross-origin" {
		t.Errorf("Referrer-Policy = %v", r)
	}
	csp := policy["content_security_policy"].(map[string]any)["content_security_policy"].(string)
	// The fixture's pages: one inline script (in two pages), a style element and a
	// style attribute; its JSON data block and external scripts need nothing.
	want := (&staticsite.Scan{
		ScriptHashes:    []string{hashOf("(self.__next_f=self.__next_f||[]).push([0])")},
		StyleHashes:     slices.Sorted(maps.Keys(map[string]bool{hashOf("body{margin:0}"): true, hashOf("color:#555"): true})),
		StyleAttributes: true,
	}).ContentSecurityPolicy()
	if csp != want {
		t.Errorf("CSP = %s\nwant  %s", csp, want)
	}
	if !strings.Contains(csp, "connect-src 'self';") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %s must start from connect-src 'self' and deny framing", csp)
	}
}

func TestTheConnectSourcesAreExactlyTheAPIAndSignInAndLiveInAKeyValueStore(t *testing.T) {
	s := stackFor(t, "dev")
	store := s.siteResource(t, "aws_cloudfront_key_value_store")
	if store["name"] != "shop-dev-eu-west-1-storefront" {
		t.Errorf("store = %v", store)
	}
	key := s.siteResource(t, "aws_cloudfrontkeyvaluestore_key")
	if key["key"] != connectSourcesKey ||
		key["value"] != "${aws_apigatewayv2_api.Api_api_6C6FE2B8.api_endpoint} https://cognito-idp.eu-west-1.${data.aws_partition.partition.dns_suffix}" ||
		!strings.HasPrefix(key["key_value_store_arn"].(string), "${aws_cloudfront_key_value_store.Storefront_connect-sources_") {
		t.Errorf("key = %v, want the API's endpoint and Cognito's in the stack's region", key)
	}
	fn := s.siteResourceNamed(t, "aws_cloudfront_function", "Storefront_connect-sources-function_")
	stores, _ := json.Marshal(fn["key_value_store_associations"])
	if fn["runtime"] != "cloudfront-js-2.0" || fn["publish"] != true || fn["code"] != connectSourcesFunctionCode ||
		!regexp.MustCompile(`^\["\$\{aws_cloudfront_key_value_store\.Storefront_connect-sources_[0-9A-F]+\.arn\}"\]$`).Match(stores) {
		t.Errorf("CSP function = %v", fn)
	}
}

func TestTheAPIAllowsExactlyTheSitesOriginAndTheLocalDevServer(t *testing.T) {
	cors := stackFor(t, "dev").only(t, "aws_apigatewayv2_api", "name", "shop-dev-api")["cors_configuration"].(map[string]any)
	origins, _ := json.Marshal(cors["allow_origins"])
	if string(origins) != `["https://`+siteDistribution+`.domain_name}","http://localhost:3001"]` {
		t.Errorf("origins = %s", origins)
	}
	// The test API's routes are GET and POST: OPTIONS is the preflight.
	if methods, _ := json.Marshal(cors["allow_methods"]); string(methods) != `["GET","OPTIONS","POST"]` {
		t.Errorf("methods = %s, want those of the routes", methods)
	}
}

func TestEachBuiltFileIsOneObjectWithItsTypeCachingAndContentHash(t *testing.T) {
	s := stackFor(t, "dev")
	objects := s.siteResourceNamed(t, "aws_s3_object", "Storefront_files_")
	for attr, want := range map[string]string{"key": "${each.key}", "source": "${each.value.source}", "etag": "${each.value.etag}", "content_type": "${each.value.content_type}", "cache_control": "${each.value.cache_control}"} {
		if objects[attr] != want {
			t.Errorf("%s = %v, want %s", attr, objects[attr], want)
		}
	}
	each := objects["for_each"].(map[string]any)
	root := filepath.Join("testdata", "site")
	built := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		built++
		rel, _ := filepath.Rel(root, p)
		key := filepath.ToSlash(rel)
		obj, ok := each[key].(map[string]any)
		if !ok {
			t.Errorf("%s has no object", key)
			return nil
		}
		data, _ := os.ReadFile(p)
		sum := md5.Sum(data)
		if obj["etag"] != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: etag %v, want the MD5 of the file", key, obj["etag"])
		}
		copied, err := os.ReadFile(filepath.Join(s.dir, obj["source"].(string)))
		if err != nil || string(copied) != string(data) {
			t.Errorf("%s: source %v is not a copy of the file beside the stack: %v", key, obj["source"], err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(each) != built {
		t.Errorf("%d objects for %d built files: %v", len(each), built, slices.Sorted(maps.Keys(each)))
	}
	for key, want := range map[string][2]string{
		"index.html":                           {"text/html; charset=utf-8", "no-cache"},
		"personas/new.html":                    {"text/html; charset=utf-8", "no-cache"},
		"_next/static/chunks/main-3f2a9c1e.js": {"text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		"_next/static/chunks/app-5d41402a.css": {"text/css; charset=utf-8", "public, max-age=31536000, immutable"},
	} {
		obj := each[key].(map[string]any)
		if obj["content_type"] != want[0] || obj["cache_control"] != want[1] {
			t.Errorf("%s: %v / %v, want %s / %s", key, obj["content_type"], obj["cache_control"], want[0], want[1])
		}
	}
	// The source path holds no hash of the build, or every object would change with any file.
	if src := each["index.html"].(map[string]any)["source"]; src != "assets/Storefront_build_C529105E/files/index.html" {
		t.Errorf("source = %v", src)
	}
}

// terraformReference matches a reference to a resource's or data source's attribute.
var terraformReference = regexp.MustCompile(`\b(?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+\.[a-z_]+`)

func TestConfigJSONHoldsTheStacksPublicValuesAsTerraformRendersThem(t *testing.T) {
	s := stackFor(t, "dev")
	config := s.siteResourceNamed(t, "aws_s3_object", "Storefront_config_")
	if config["key"] != "config.json" || config["content_type"] != "application/json" || config["cache_control"] != "no-cache" {
		t.Errorf("config object = %v", config)
	}
	terraform, err := exec.LookPath("terraform")
	if err != nil {
		localawstest.SkipOrFail(t, fmt.Errorf("terraform is not installed (make tools installs it), so the config's rendering is not evaluated: %w", err))
	}
	// Terraform renders the content; unknown attributes become their own names.
	content := terraformReference.ReplaceAllStringFunc(config["content"].(string), func(ref string) string { return `"<` + ref + `>"` })
	doc, _ := json.Marshal(map[string]any{"output": map[string]any{"config": map[string]any{"value": content}}})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf.json"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(terraform, "apply", "-auto-approve", "-input=false", "-no-color")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	cmd = exec.Command(terraform, "output", "-raw", "config")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("terraform output: %s", exit.Stderr)
		}
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("config.json %s is not JSON: %v", out, err)
	}
	want := map[string]any{
		"stage":            "dev",
		"apiUrl":           "<aws_apigatewayv2_api.Api_api_6C6FE2B8.api_endpoint>",
		"userPoolId":       "<aws_cognito_user_pool.Customers_pool_F042A90F.id>",
		"userPoolClientId": "<aws_cognito_user_pool_client.Customers_client_115FE584.id>",
		"pageSize":         25.0,
		"beta":             true,
		"motto":            "prices in ${currency}, %{if} free",
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("config.json = %s\nwant          %s", gotJSON, wantJSON)
	}
}

func TestTheStackOutputsTheSitesURL(t *testing.T) {
	out := stackFor(t, "dev").doc["output"].(map[string]any)["WebUrl"].(map[string]any)
	if out["value"] != "https://"+siteDistribution+".domain_name}" {
		t.Errorf("WebUrl = %v", out["value"])
	}
}

func TestASecretIsNeverPublicConfig(t *testing.T) {
	stack := scratchStack(t)
	secrets, err := NewSecretSet(stack, "PaymentKey")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := secrets.Secret("PaymentKey")
	for _, tc := range []struct {
		name  string
		value any
		want  string
	}{
		{"a secret", key, "is the secret PaymentKey"},
		{"a secret set", secrets, "is the secrets PaymentKey"},
		{"a link to a secret", LinkTo{Resource: key, Access: Read}, "is a link to the secret PaymentKey"},
		{"a secret that was never found", (*Secret)(nil), "is a secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewStaticSite(stack, "Web"+strings.ReplaceAll(tc.name, " ", ""), StaticSiteProps{
				Path:         "constructs/testdata/site",
				PublicConfig: map[string]any{"stage": "dev", "apiKey": tc.value},
			})
			if err == nil {
				t.Fatal("a secret was accepted as public config")
			}
			for _, part := range []string{`"apiKey"`, tc.want, "every visitor's browser would get it", "link it to a function"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not say %q", err, part)
				}
			}
		})
	}
}

func TestBadSitePropsAreRefusedWithWhatToDo(t *testing.T) {
	stack := scratchStack(t)
	table, err := NewPersonaTable(stack, "Things", idTable())
	if err != nil {
		t.Fatal(err)
	}
	site := "constructs/testdata/site"
	if _, err := NewStaticSite(stack, "Shop", StaticSiteProps{Path: site}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		props StaticSiteProps
		want  string
	}{
		{"neither a path nor a build", StaticSiteProps{}, "give either Path"},
		{"both a path and a build", StaticSiteProps{Path: site, Build: &build.Site{Name: "web"}}, "give either Path"},
		{"an unknown price class", StaticSiteProps{Path: site, PriceClass: "PriceClass_Cheap"}, "PriceClass_100, PriceClass_200 or PriceClass_All"},
		{"an immutable path written as a URL", StaticSiteProps{Path: site, ImmutablePaths: []string{"/_next/static/*"}}, `like "_next/static/"`},
		{"a connect source that adds a directive", StaticSiteProps{Path: site, ConnectTo: []string{"https://api.example.com; script-src *"}}, "is not an origin"},
		{"a plain-HTTP connect source", StaticSiteProps{Path: site, ConnectTo: []string{"http://api.example.com"}}, "http only for localhost"},
		{"a connect source with a path", StaticSiteProps{Path: site, ConnectTo: []string{"https://api.example.com/"}}, "is not an origin"},
		{"a table as a config value", StaticSiteProps{Path: site, PublicConfig: map[string]any{"table": table}}, "give a string"},
		{"a config key with a dash", StaticSiteProps{Path: site, PublicConfig: map[string]any{"api-url": "x"}}, "letters, digits and underscores"},
		{"a name too long for CloudFront", StaticSiteProps{Path: site, Name: strings.Repeat("w", 60)}, "64-character"},
		{"a name another site has", StaticSiteProps{Path: site, Name: "shop"}, "already named"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewStaticSite(stack, "Web", tc.props); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewStaticSite = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestASiteWithABuildIsBuiltAtSynthAndServedFromItsOutput(t *testing.T) {
	app, err := NewApp(context.Background(), AppProps{Name: "shop", Outdir: t.TempDir(), SiteCache: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := LookupStage("dev")
	stack, err := app.NewStack(stage)
	if err != nil {
		t.Fatal(err)
	}
	source := build.Site{Name: "fixture", Dir: "constructs/testdata/site-source", Build: []string{"cp", "-R", "../site", "out"}, Output: "out"}
	if _, err := NewStaticSite(stack, "Web", StaticSiteProps{Build: &source}); err != nil {
		t.Fatal(err)
	}
	result, err := app.Synth()
	if err != nil {
		t.Fatal(err)
	}
	if len(result.Sites) != 1 || result.Sites[0].Build == nil || !result.Sites[0].Build.Rebuilt || result.Sites[0].Files != 5 ||
		result.Sites[0].Dir != result.Sites[0].Build.Dir {
		t.Fatalf("sites = %+v, want the fixture's 5 files, built", result.Sites)
	}
	data, err := os.ReadFile(filepath.Join(result.Stacks[0].Dir, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resource map[string]map[string]struct {
			ForEach map[string]any `json:"for_each"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for name, objects := range doc.Resource["aws_s3_object"] {
		if strings.HasPrefix(name, "Web_files_") && len(objects.ForEach) != 5 {
			t.Errorf("objects = %v, want the 5 built files", slices.Sorted(maps.Keys(objects.ForEach)))
		}
	}
}

func TestSynthRefusesASiteFolderThatIsNotABuild(t *testing.T) {
	app, err := NewApp(context.Background(), AppProps{Name: "shop", Outdir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := LookupStage("dev")
	stack, err := app.NewStack(stage)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>home</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStaticSite(stack, "Web", StaticSiteProps{Path: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Synth(); err == nil || !strings.Contains(err.Error(), "static site Web") || !strings.Contains(err.Error(), "no 404.html") {
		t.Errorf("synth of a site without its 404 page: %v", err)
	}
}

// hashOf is the CSP source allowing exactly this inline text.
func hashOf(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
