package constructs

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/personabackend/app/internal/staticsite"
)

// runCloudFrontFunction runs a CloudFront Function's code, unchanged, in Node over each
// event, with a stand-in for the 'cloudfront' module whose key value store holds the
// case's kvs, and returns what the handler returned for each.
func runCloudFrontFunction(t *testing.T, code string, cases []map[string]any) []map[string]any {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node runs the CDKTF library and these checks; install Node.js 20: %v", err)
	}
	dir := t.TempDir()
	module := filepath.Join(dir, "node_modules", "cloudfront")
	if err := os.MkdirAll(module, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(module, "package.json"): `{"name": "cloudfront", "type": "module", "main": "index.js"}`,
		// get() fails for a missing key, as CloudFront's does.
		filepath.Join(module, "index.js"): `export default {
  kvs() {
    return {
      async get(key) {
        const value = (globalThis.kvsValues || {})[key];
        if (value === undefined) { throw new Error('key not found: ' + key); }
        return value;
      },
    };
  },
};
`,
		filepath.Join(dir, "function.mjs"): code + `
const results = [];
for (const c of JSON.parse(process.argv[2])) {
  globalThis.kvsValues = c.kvs;
  results.push(await handler(c.event));
}
console.log(JSON.stringify(results));
`,
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	input, _ := json.Marshal(cases)
	out, err := exec.Command(node, filepath.Join(dir, "function.mjs"), string(input)).CombinedOutput()
	if err != nil {
		t.Fatalf("running the function: %v\n%s", err, out)
	}
	var results []map[string]any
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("reading the function's results %s: %v", out, err)
	}
	return results
}

func TestTheRewriteFunctionServesCleanURLsFromTheExportedFiles(t *testing.T) {
	cases := []struct{ uri, want string }{
		{"/", "/index.html"},
		{"/personas", "/personas.html"},
		{"/personas/new", "/personas/new.html"},
		{"/docs/", "/docs/index.html"},
		{"/index.html", "/index.html"},
		{"/_next/static/chunks/main-3f2a9c1e.js", "/_next/static/chunks/main-3f2a9c1e.js"},
		{"/favicon.ico", "/favicon.ico"},
		{"/config.json", "/config.json"},
		{"/v1.2/notes", "/v1.2/notes.html"},
		{"/.well-known/security.txt", "/.well-known/security.txt"},
	}
	var events []map[string]any
	for _, tc := range cases {
		events = append(events, map[string]any{
			"event": map[string]any{"request": map[string]any{"method": "GET", "uri": tc.uri, "querystring": map[string]any{"id": map[string]any{"value": "p-1"}}}},
		})
	}
	results := runCloudFrontFunction(t, rewriteFunctionCode, events)
	for i, tc := range cases {
		if got := results[i]["uri"]; got != tc.want {
			t.Errorf("%s is served from %v, want %s", tc.uri, got, tc.want)
		}
		if q, _ := json.Marshal(results[i]["querystring"]); string(q) != `{"id":{"value":"p-1"}}` {
			t.Errorf("%s: query string became %s", tc.uri, q)
		}
	}
}

func TestTheCSPFunctionWidensConnectSrcToTheOriginsInTheKeyValueStore(t *testing.T) {
	baseline := (&staticsite.Scan{ScriptHashes: []string{"'sha256-a'"}}).ContentSecurityPolicy()
	response := func(csp string) map[string]any {
		headers := map[string]any{"content-type": map[string]any{"value": "text/html"}}
		if csp != "" {
			headers["content-security-policy"] = map[string]any{"value": csp}
		}
		return map[string]any{"request": map[string]any{"uri": "/index.html"}, "response": map[string]any{"statusCode": 200, "headers": headers}}
	}
	widened := strings.Replace(baseline, "connect-src 'self';", "connect-src 'self' https://api.example.com https://cognito-idp.eu-west-1.amazonaws.com;", 1)
	cases := []struct {
		name    string
		csp     string
		kvs     map[string]string
		wantCSP string
	}{
		{"the stored origins are added to connect-src", baseline, map[string]string{connectSourcesKey: "https://api.example.com https://cognito-idp.eu-west-1.amazonaws.com"}, widened},
		{"without the key the stricter policy stands", baseline, nil, baseline},
		{"a value that would add a directive is ignored", baseline, map[string]string{connectSourcesKey: "https://a.example.com; script-src *"}, baseline},
		{"a value with a path is not a list of origins and is ignored", baseline, map[string]string{connectSourcesKey: "https://a.example.com/$&"}, baseline},
		{"a value on two lines is ignored", baseline, map[string]string{connectSourcesKey: "https://a.example.com\nscript-src *"}, baseline},
		{"a local origin with a port is kept", baseline, map[string]string{connectSourcesKey: "http://localhost:3000"}, strings.Replace(baseline, "connect-src 'self';", "connect-src 'self' http://localhost:3000;", 1)},
		{"a response without a policy is left alone", "", map[string]string{connectSourcesKey: "https://api.example.com"}, ""},
	}
	var events []map[string]any
	for _, tc := range cases {
		events = append(events, map[string]any{"event": response(tc.csp), "kvs": tc.kvs})
	}
	results := runCloudFrontFunction(t, connectSourcesFunctionCode, events)
	for i, tc := range cases {
		headers := results[i]["headers"].(map[string]any)
		got := ""
		if h, ok := headers["content-security-policy"].(map[string]any); ok {
			got = h["value"].(string)
		}
		if got != tc.wantCSP {
			t.Errorf("%s: CSP = %q, want %q", tc.name, got, tc.wantCSP)
		}
		if headers["content-type"].(map[string]any)["value"] != "text/html" || results[i]["statusCode"] != 200.0 {
			t.Errorf("%s: the rest of the response changed: %v", tc.name, results[i])
		}
	}
}

func TestTheFunctionsCodeSurvivesTerraformAndHCLAsWritten(t *testing.T) {
	for name, code := range map[string]string{"rewrite": rewriteFunctionCode, "csp": connectSourcesFunctionCode} {
		if strings.Contains(code, "${") || strings.Contains(code, "%{") {
			t.Errorf("the %s function's code holds a Terraform template sequence, which Terraform would interpret", name)
		}
		// CDKTF's HCL rendering writes a string with newlines as a heredoc with one
		// newline too many, and leaves backslashes unescaped.
		if strings.ContainsAny(code, "\n\\") {
			t.Errorf("the %s function's code holds a newline or a backslash, which synth --hcl would render wrongly", name)
		}
	}
}
