package constructs

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/topology"
)

// scratchStack is a fresh dev stack in an app of its own, for tests that need
// constructs but not the shared synthesized app.
func scratchStack(t *testing.T) *Stack {
	t.Helper()
	app, err := NewApp(context.Background(), AppProps{Name: "scratch", Outdir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := LookupStage("dev")
	stack, err := app.NewStack(stage)
	if err != nil {
		t.Fatal(err)
	}
	return stack
}

// stackGraph is what each resource, data source and output of a synthesized stack
// refers to, through ${…} expressions and depends_on.
type stackGraph struct {
	declared map[string]bool     // "type.name" and "data.type.name"
	refs     map[string][]string // from an address (or "output.Name") to what it refers to
}

// expressionReference finds the addresses an expression names, e.g.
// aws_s3_bucket.site.arn or data.aws_partition.partition.dns_suffix.
var expressionReference = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.])((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)`)

// hclString matches a quoted string inside an expression, whose text names nothing.
var hclString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// expressions returns the text of each ${…} in s, nested braces included, skipping
// the escaped $${.
func expressions(s string) []string {
	var out []string
	for i := 0; i+1 < len(s); i++ {
		if strings.HasPrefix(s[i:], "$${") {
			i += 2
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			continue
		}
		depth, quoted := 0, false
		for j := i + 1; j < len(s); j++ {
			switch c := s[j]; {
			case quoted && c == '\\':
				j++
			case c == '"':
				quoted = !quoted
			case quoted:
			case c == '{':
				depth++
			case c == '}':
				depth--
			}
			if depth == 0 {
				out = append(out, s[i+2:j])
				i = j
				break
			}
		}
	}
	return out
}

// addressesIn lists the resources and data sources named by the expressions of v.
func addressesIn(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		for _, expr := range expressions(v) {
			for _, m := range expressionReference.FindAllStringSubmatch(hclString.ReplaceAllString(expr, `""`), -1) {
				parts := strings.Split(m[1], ".")
				switch {
				case parts[0] == "data" && len(parts) >= 3:
					out = append(out, strings.Join(parts[:3], "."))
				case parts[0] == "each" || parts[0] == "count" || parts[0] == "var" || parts[0] == "local" || parts[0] == "path" || parts[0] == "self" || parts[0] == "data":
				default:
					out = append(out, strings.Join(parts[:2], "."))
				}
			}
		}
	case []any:
		for _, e := range v {
			out = append(out, addressesIn(e)...)
		}
	case map[string]any:
		for k, e := range v {
			if k != "//" {
				out = append(out, addressesIn(e)...)
			}
		}
	}
	return out
}

func graphOf(doc map[string]any) stackGraph {
	g := stackGraph{declared: map[string]bool{}, refs: map[string][]string{}}
	for _, kind := range []string{"resource", "data"} {
		byType, _ := doc[kind].(map[string]any)
		for typ, byName := range byType {
			for name, body := range byName.(map[string]any) {
				addr := typ + "." + name
				if kind == "data" {
					addr = "data." + addr
				}
				g.declared[addr] = true
				refs := addressesIn(body)
				deps, _ := body.(map[string]any)["depends_on"].([]any)
				for _, d := range deps {
					refs = append(refs, d.(string))
				}
				g.refs[addr] = refs
			}
		}
	}
	outputs, _ := doc["output"].(map[string]any)
	for name, body := range outputs {
		g.refs["output."+name] = addressesIn(body)
	}
	return g
}

// cycle returns a chain of addresses that leads back to its start, or nil.
func (g stackGraph) cycle() []string {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(addr string) []string
	visit = func(addr string) []string {
		switch state[addr] {
		case open:
			for i, a := range path {
				if a == addr {
					return append(append([]string(nil), path[i:]...), addr)
				}
			}
		case done:
			return nil
		}
		state[addr] = open
		path = append(path, addr)
		for _, next := range g.refs[addr] {
			if c := visit(next); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		state[addr] = done
		return nil
	}
	for _, addr := range slices.Sorted(maps.Keys(g.refs)) {
		if c := visit(addr); c != nil {
			return c
		}
	}
	return nil
}

func TestEveryReferenceResolvesWithinItsStack(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		g := graphOf(stackFor(t, stage).doc)
		count := 0
		for _, from := range slices.Sorted(maps.Keys(g.refs)) {
			for _, to := range g.refs[from] {
				count++
				if !g.declared[to] {
					t.Errorf("%s: %s refers to %s, which the stack does not declare", stage, from, to)
				}
			}
		}
		if count < 20 {
			t.Fatalf("%s: only %d references found; the stack looks incomplete", stage, count)
		}
	}
}

func TestNoResourceOfAStackDependsOnItselfThroughOthers(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		if c := graphOf(stackFor(t, stage).doc).cycle(); c != nil {
			t.Errorf("%s: Terraform cannot order %s", stage, strings.Join(c, " → "))
		}
	}
}

func TestTheCycleCheckFindsAReferenceLoop(t *testing.T) {
	var doc map[string]any
	err := json.Unmarshal([]byte(`{"resource": {
		"aws_apigatewayv2_api": {"api": {"cors_configuration": {"allow_origins": ["https://${aws_cloudfront_distribution.site.domain_name}"]}}},
		"aws_cloudfront_distribution": {"site": {"default_cache_behavior": {"response_headers_policy_id": "${aws_cloudfront_response_headers_policy.headers.id}"}}},
		"aws_cloudfront_response_headers_policy": {"headers": {"csp": "${join(\"; \", [\"connect-src\", aws_apigatewayv2_api.api.api_endpoint])}"}},
		"aws_s3_object": {"config": {"content": "${jsonencode({\"note\" = \"$${aws_fake.loop.x}\", \"url\" = aws_apigatewayv2_api.api.api_endpoint})}", "depends_on": ["aws_s3_bucket.site"]}},
		"aws_s3_bucket": {"site": {}}
	}}`), &doc)
	if err != nil {
		t.Fatal(err)
	}
	g := graphOf(doc)
	if got := strings.Join(g.refs["aws_s3_object.config"], ","); got != "aws_apigatewayv2_api.api,aws_s3_bucket.site" {
		t.Errorf("the config object refers to %s, want the API (not the escaped text) and the bucket", got)
	}
	want := "aws_apigatewayv2_api.api → aws_cloudfront_distribution.site → aws_cloudfront_response_headers_policy.headers → aws_apigatewayv2_api.api"
	if got := strings.Join(g.cycle(), " → "); got != want {
		t.Errorf("cycle = %q, want %q", got, want)
	}
}

func TestResourceNamesCarryAppAndStage(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		s := stackFor(t, stage)
		checked := 0
		for typ, byName := range s.doc["resource"].(map[string]any) {
			for id, r := range byName.(map[string]any) {
				for _, key := range []string{"name", "function_name"} {
					name, ok := r.(map[string]any)[key].(string)
					if !ok || name == "$default" || strings.HasPrefix(name, "${") || typ == "aws_lambda_permission" {
						continue
					}
					checked++
					if !strings.Contains(name, "shop-"+stage+"-") {
						t.Errorf("%s %s: %s %q does not carry app and stage", typ, id, key, name)
					}
				}
			}
		}
		if checked < 15 {
			t.Errorf("%s: only %d names checked", stage, checked)
		}
	}
}

func TestEveryResourceIsTaggedWithAppAndStageByTheProvider(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		s := stackFor(t, stage)
		s.hasProvider(t, map[string]any{
			"region":       "eu-west-1",
			"default_tags": []any{map[string]any{"tags": map[string]any{"app": "shop", "stage": stage, "managed-by": "terraform"}}},
		})
	}
}

func (s *synthStack) hasProvider(t *testing.T, want map[string]any) {
	t.Helper()
	providers := s.doc["provider"].(map[string]any)["aws"].([]any)
	if len(providers) != 1 {
		t.Fatalf("want one aws provider, got %d", len(providers))
	}
	got, _ := json.Marshal(providers[0])
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("provider = %s, want %s", got, wantJSON)
	}
}

func TestEachStageKeepsItsOwnLocalStateFile(t *testing.T) {
	root, err := build.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"dev", "prod"} {
		s := stackFor(t, stage)
		local := s.doc["terraform"].(map[string]any)["backend"].(map[string]any)["local"].(map[string]any)
		path := local["path"].(string)
		if filepath.IsAbs(path) {
			t.Errorf("%s: state path %s is absolute; the synthesized JSON must not depend on this machine", stage, path)
		}
		if got, want := filepath.Clean(filepath.Join(s.dir, path)), filepath.Join(root, ".state", "shop-"+stage+".tfstate"); got != want {
			t.Errorf("%s: state file %s, want %s", stage, got, want)
		}
	}
}

func TestAStateBucketKeepsEachStageEncryptedAndLockedInS3(t *testing.T) {
	outdir := t.TempDir()
	app, err := NewApp(context.Background(), AppProps{Name: "shop", Outdir: outdir, Region: "eu-west-1",
		State: StateProps{Bucket: "acme-tfstate", LockTable: "acme-tflock"}})
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := LookupStage("alice")
	if _, err := app.NewStack(stage); err != nil {
		t.Fatal(err)
	}
	result, err := app.Synth()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(result.Stacks[0].Dir, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Terraform struct {
			Backend map[string]map[string]any `json:"backend"`
		} `json:"terraform"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	s3 := doc.Terraform.Backend["s3"]
	want := map[string]any{"bucket": "acme-tfstate", "key": "shop/alice/terraform.tfstate", "region": "eu-west-1", "encrypt": true, "dynamodb_table": "acme-tflock"}
	for k, v := range want {
		if s3[k] != v {
			t.Errorf("s3 backend %s = %v, want %v", k, s3[k], v)
		}
	}
	if _, err := NewApp(context.Background(), AppProps{Name: "shop", State: StateProps{Bucket: "b"}}); err == nil || !strings.Contains(err.Error(), "STATE_LOCK_TABLE") {
		t.Errorf("bucket without lock table: %v", err)
	}
}

func TestStageNames(t *testing.T) {
	for _, name := range []string{"Dev", "my_stage", "-x", "x-", "1st", "", "averyveryverylongstagename"} {
		if _, err := LookupStage(name); err == nil || !strings.Contains(err.Error(), "invalid stage name") {
			t.Errorf("LookupStage(%q) = %v, want invalid stage name", name, err)
		}
	}
	alice, err := LookupStage("alice-2")
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := LookupStage("dev")
	if !alice.Personal || alice.Protected || alice.LogRetentionDays != dev.LogRetentionDays || alice.FunctionMemoryMB != dev.FunctionMemoryMB {
		t.Errorf("personal stage = %+v, want dev settings", alice)
	}
	prod, _ := LookupStage("prod")
	if !prod.Protected || prod.Personal {
		t.Errorf("prod = %+v", prod)
	}
	if got := strings.Join(BuiltInStageNames(), ","); got != "dev,prod,staging" {
		t.Errorf("built-in stages = %s", got)
	}
	if _, err := NewApp(context.Background(), AppProps{Name: "My App"}); err == nil || !strings.Contains(err.Error(), "invalid app name") {
		t.Errorf("NewApp with a bad name: %v", err)
	}
}

func TestSynthWritesTheStackTopologyBesideTheTerraform(t *testing.T) {
	topo, err := topology.Read(filepath.Join(stackFor(t, "dev").dir, topology.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if topo.App != "shop" || topo.Stage != "dev" || topo.Region != "eu-west-1" {
		t.Errorf("topology header = %s/%s/%s", topo.App, topo.Stage, topo.Region)
	}
	routes := map[string]string{}
	for _, r := range topo.Routes {
		routes[r.RouteKey] = r.Function
	}
	if routes["GET /orders"] != "shop-dev-list" || routes["POST /orders/{id}"] != "shop-dev-place" {
		t.Errorf("routes = %v", routes)
	}
	if len(topo.Subscriptions) != 1 || topo.Subscriptions[0].FilterPolicy != `{"queue":["shipping"]}` || topo.Subscriptions[0].Queue != "shop-dev-shipping.fifo" {
		t.Errorf("subscriptions = %+v", topo.Subscriptions)
	}
	q, ok := topo.Queue("shop-dev-shipping.fifo")
	if !ok || q.MaxReceiveCount != 5 || q.DeadLetterQueue != "shop-dev-shipping-dlq.fifo" || q.VisibilityTimeoutSeconds != 120 {
		t.Errorf("queue = %+v", q)
	}
	worker, ok := topo.Function("shop-dev-shipping-worker")
	if !ok || len(worker.Links) != 3 {
		t.Fatalf("worker = %+v", worker)
	}
	if len(topo.Secrets) != 2 || topo.Secrets[0].Parameter != "/shop/dev/PaymentKey" {
		t.Errorf("secrets = %+v", topo.Secrets)
	}
}

func TestAnOutputFolderThatDoesNotExistYetIsCreated(t *testing.T) {
	outdir := filepath.Join(t.TempDir(), "not", "yet")
	app, err := NewApp(context.Background(), AppProps{Name: "shop", Outdir: outdir})
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := LookupStage("dev")
	if _, err := app.NewStack(stage); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Synth(); err != nil {
		t.Fatalf("synth into a new folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outdir, "stacks", "shop-dev", "cdk.tf.json")); err != nil {
		t.Error(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := NewApp(context.Background(), AppProps{Name: "shop", Outdir: filepath.Join(file, "out")}); err == nil || !strings.Contains(err.Error(), "creating the output folder") {
		t.Errorf("an output folder under a file: %v", err)
	}
}

func TestDeclareTurnsCDKTFsPanicsIntoErrors(t *testing.T) {
	stack := scratchStack(t)
	err := stack.app.Declare(func() error {
		if _, err := NewPersonaTable(stack, "Twice", idTable()); err != nil {
			return err
		}
		_, err := NewPersonaTable(stack, "Twice", idTable())
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "Twice") || strings.Contains(err.Error(), "Schema") {
		t.Errorf("declaring one id twice: %v, want an error naming it", err)
	}
}

func TestSynthTwiceIsAnErrorNotACrash(t *testing.T) {
	app, err := NewApp(context.Background(), AppProps{Name: "shop", Outdir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := LookupStage("dev")
	stack, err := app.NewStack(stage)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewGoFunction(stack, "Fn", FunctionProps{Package: "./constructs/testdata/echo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Synth(); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Synth(); err == nil || !strings.Contains(err.Error(), "Synth runs once per App") {
		t.Errorf("second Synth: %v", err)
	}
}

func TestTheOutputFolderHoldsExactlyTheStacksItsManifestLists(t *testing.T) {
	if synthesized.err != nil {
		t.Fatal(synthesized.err)
	}
	data, err := os.ReadFile(filepath.Join(synthesized.outdir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Stacks map[string]struct {
			WorkingDirectory string `json:"workingDirectory"`
		} `json:"stacks"`
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, s := range manifest.Stacks {
		listed = append(listed, filepath.Base(s.WorkingDirectory))
	}
	entries, err := os.ReadDir(filepath.Join(synthesized.outdir, "stacks"))
	if err != nil {
		t.Fatal(err)
	}
	var present []string
	for _, e := range entries {
		present = append(present, e.Name())
	}
	slices.Sort(listed)
	if !slices.Equal(present, listed) || !slices.Equal(present, []string{"shop-dev", "shop-prod"}) {
		t.Errorf("stacks/ holds %v, the manifest lists %v; want shop-dev and shop-prod in both (shop-old removed)", present, listed)
	}
	if _, err := os.Stat(filepath.Join(synthesized.outdir, "hcl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a synth without HCL left the HCL of an earlier one: %v", err)
	}
}
