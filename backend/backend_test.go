package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/cli/terraform"
	"github.com/personabackend/app/constructs"
	"github.com/personabackend/app/internal/tfhcl"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/topology"

	"github.com/personabackend/app/internal/localaws/localawstest"
)

// One synth of all three shared stages plus a personal one, shared by the tests
// (each jsii runtime start costs about 2 s).
var (
	synthErr error
	stacks   = map[string]stackFiles{}
)

// stackDirs are the synthesized stack folders, by stack name.
var stackDirs = map[string]string{}

// longest is the persona stack with the longest names it can have (names_test.go).
var longest stackFiles

type stackFiles struct {
	doc  map[string]any
	topo *topology.Stack
	hcl  string // the stack as HCL, for the shared stages
}

func TestMain(m *testing.M) {
	outdir, err := os.MkdirTemp("", "backend-test-")
	if err != nil {
		panic(err)
	}
	synthErr = synthAll(outdir)
	code := m.Run()
	constructs.Close()
	os.RemoveAll(outdir)
	os.Exit(code)
}

func synthAll(outdir string) error {
	// A fixed region keeps the golden files the same on every machine. One folder per
	// synth: each removes the stacks it did not write.
	const region = "us-east-1"
	own := Config{Outdir: filepath.Join(outdir, "bob"), Region: region, Stage: "bob", AuthIssuer: "https://login.example.com/", AuthAudience: []string{"web"}}
	// The shared stages are written as HCL too, formatted by terraform fmt where terraform is.
	shared := Config{Outdir: filepath.Join(outdir, "shared"), Region: region, HCL: true}
	if root, err := build.ModuleRoot("."); err == nil {
		shared.Terraform, _ = terraform.Find(root)
	}
	for _, cfg := range []Config{shared, {Outdir: filepath.Join(outdir, "alice"), Region: region, Stage: "alice"}, own} {
		_, result, err := Synth(context.Background(), cfg)
		if err != nil {
			return err
		}
		for _, s := range result.Stacks {
			data, err := os.ReadFile(filepath.Join(s.Dir, "cdk.tf.json"))
			if err != nil {
				return err
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				return err
			}
			topo, err := topology.Read(filepath.Join(s.Dir, topology.FileName))
			if err != nil {
				return err
			}
			stacks[s.Name] = stackFiles{doc: doc, topo: topo, hcl: s.HCL}
			stackDirs[s.Name] = s.Dir
		}
	}
	return synthLongest(filepath.Join(outdir, "longest"))
}

func TestThePersonaAppSynthesizesOneStackPerStage(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	var names []string
	for name := range stacks {
		names = append(names, name)
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "persona-alice,persona-bob,persona-dev,persona-prod,persona-staging" {
		t.Errorf("stacks = %s", got)
	}
}

func TestEveryStageHasTheSeedsResources(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	for name, s := range stacks {
		stage := strings.TrimPrefix(name, "persona-")
		topo := s.topo
		if len(topo.Tables) != 1 || topo.Tables[0].Name != "persona-"+stage+"-persona" || len(topo.Tables[0].Schema.GlobalIndexes) != 2 {
			t.Errorf("%s tables = %+v", name, topo.Tables)
		}
		if len(topo.Topics) != 1 || topo.Topics[0].Name != "persona-"+stage+"-tasks.fifo" || !topo.Topics[0].FIFO {
			t.Errorf("%s topics = %+v", name, topo.Topics)
		}
		if len(topo.Subscriptions) != 1 || topo.Subscriptions[0].FilterPolicy != `{"queue":["persona"]}` {
			t.Errorf("%s subscriptions = %+v", name, topo.Subscriptions)
		}
		routes := map[string]topology.Route{}
		for _, r := range topo.Routes {
			routes[r.RouteKey] = r
		}
		for key, fn := range map[string]string{"GET /personas": "list", "GET /personas/{personaId}": "get", "POST /personas": "request"} {
			r, ok := routes[key]
			if !ok || r.Function != "persona-"+stage+"-"+fn || !r.Authorized {
				t.Errorf("%s route %s = %+v, want persona-%s-%s behind the JWT authorizer", name, key, r, stage, fn)
			}
		}
		if len(topo.Secrets) != 1 || topo.Secrets[0].Parameter != "/persona/"+stage+"/MyApiKey" {
			t.Errorf("%s secrets = %+v", name, topo.Secrets)
		}
	}
}

func TestTheTopologyNamesEachFunctionsLinksAndTheirAccess(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	want := map[string]string{
		"persona-dev-list":    "PersonaTable:Query:index/UserIdIndex",
		"persona-dev-get":     "PersonaTable:GetItem",
		"persona-dev-request": "PersonaTable:GetItem,PutItem,UpdateItem,Query:index/StatusIndex TaskTopic:publish",
		"persona-dev-worker":  "MyApiKey:read PersonaQueue:consume PersonaTable:GetItem,UpdateItem",
		"persona-dev-sweep":   "PersonaTable:GetItem,UpdateItem,Scan:index/StatusIndex TaskTopic:publish",
	}
	for fn, links := range want {
		f, ok := stacks["persona-dev"].topo.Function(fn)
		if !ok {
			t.Fatalf("no function %s", fn)
		}
		var got []string
		for _, l := range f.Links {
			got = append(got, l.Name+":"+l.Access)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != links {
			t.Errorf("%s links = %v, want %s", fn, got, links)
		}
	}
}

func TestStagesWithoutAnIssuerGetACognitoUserPoolForTheirAuthorizer(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	for name, s := range stacks {
		if name == "persona-bob" {
			continue // names its own issuer
		}
		resources := s.doc["resource"].(map[string]any)
		if _, ok := resources["aws_cognito_user_pool"]; !ok {
			t.Errorf("%s has no user pool", name)
		}
		for _, a := range resources["aws_apigatewayv2_authorizer"].(map[string]any) {
			jwt := a.(map[string]any)["jwt_configuration"].(map[string]any)
			if !strings.HasPrefix(jwt["issuer"].(string), "https://${aws_cognito_user_pool.") {
				t.Errorf("%s issuer = %v", name, jwt["issuer"])
			}
			if aud := jwt["audience"].([]any); len(aud) != 1 || !strings.Contains(aud[0].(string), "aws_cognito_user_pool_client") {
				t.Errorf("%s audience = %v", name, aud)
			}
		}
	}
}

func TestOnlyProdProtectsItsData(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	for name, s := range stacks {
		for _, typ := range []string{"aws_dynamodb_table", "aws_cognito_user_pool"} {
			byName, _ := s.doc["resource"].(map[string]any)[typ].(map[string]any)
			for _, r := range byName {
				lc, _ := r.(map[string]any)["lifecycle"].(map[string]any)
				protected := lc["prevent_destroy"] == true
				if protected != (name == "persona-prod") {
					t.Errorf("%s %s prevent_destroy = %v", name, typ, protected)
				}
			}
		}
	}
}

func TestStageSelection(t *testing.T) {
	all, err := Config{}.Stages()
	if err != nil || len(all) != 3 {
		t.Fatalf("default stages = %v, %v", all, err)
	}
	one, err := Config{Stage: "bob"}.Stages()
	if err != nil || len(one) != 1 || !one[0].Personal {
		t.Errorf("STAGE=bob = %+v, %v", one, err)
	}
	if _, err := (Config{Stage: "Bob!"}).Stages(); err == nil || !strings.Contains(err.Error(), "invalid stage name") {
		t.Errorf("STAGE=Bob! = %v", err)
	}
}

func TestTheDeployedTableHasTheSchemaThePersonaStoreQueries(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	for name, s := range stacks {
		got := s.topo.Tables[0]
		if got.LinkName != persona.TableLink || !reflect.DeepEqual(got.Schema, persona.TableSchema()) {
			t.Errorf("%s table %s:\n%+v\nthe store expects %s:\n%+v", name, got.LinkName, got.Schema, persona.TableLink, persona.TableSchema())
		}
	}
}

// TestTheStacksAreValidTerraform runs terraform validate on every stage where
// terraform can install the AWS provider (a machine with registry access or a
// provider mirror). Elsewhere it skips and says why, even in CI: the one test allowed
// to, since no registry serves the provider to every CI machine. Without terraform it
// skips, or fails in CI.
func TestTheStacksAreValidTerraform(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	root, err := build.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	tf, err := terraform.Find(root)
	if err != nil {
		localawstest.SkipOrFail(t, fmt.Errorf("terraform validate: %w", err))
	}
	names := make([]string, 0, len(stackDirs))
	for name := range stackDirs {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		// Validation needs no backend and no state: a copy keeps the synthesized folder clean.
		dir := t.TempDir()
		data, err := os.ReadFile(filepath.Join(stackDirs[name], "cdk.tf.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cdk.tf.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(stackDirs[name], "assets"), filepath.Join(dir, "assets")); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, tf, "-chdir="+dir, "init", "-backend=false", "-input=false", "-no-color").CombinedOutput()
		cancel()
		if err != nil {
			if i == 0 {
				t.Skipf("terraform validate skipped: terraform init could not install the AWS provider here (no registry access or provider mirror):\n%s", lastLines(string(out), 6))
			}
			t.Fatalf("%s: terraform init: %v\n%s", name, err, out)
		}
		out, err = exec.Command(tf, "-chdir="+dir, "validate", "-no-color").CombinedOutput()
		if err != nil {
			t.Errorf("%s is not valid Terraform: %v\n%s", name, err, out)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestTheRegionIsTheAWSSDKsSoSecretsLandWhereTheStackDeploys(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(profile, []byte("[default]\nregion = eu-central-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", profile)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "")
	cfg, err := ConfigFromEnv(context.Background())
	if err != nil || cfg.Region != "eu-central-1" {
		t.Errorf("region from the profile = %q, %v", cfg.Region, err)
	}
	t.Setenv("AWS_REGION", "ap-south-1")
	if cfg, _ := ConfigFromEnv(context.Background()); cfg.Region != "ap-south-1" {
		t.Errorf("AWS_REGION gave %q", cfg.Region)
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	if cfg, _ := ConfigFromEnv(context.Background()); cfg.Region != "us-east-1" {
		t.Errorf("no region anywhere gave %q", cfg.Region)
	}
}

func TestAnIssuerOfYourOwnReplacesTheCognitoPool(t *testing.T) {
	t.Setenv("AUTH_ISSUER", "https://login.example.com/")
	t.Setenv("AUTH_AUDIENCE", "web, mobile")
	cfg, err := ConfigFromEnv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stages, err := cfg.Stages()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stages {
		if s.AuthIssuer != "https://login.example.com/" || strings.Join(s.AuthAudience, ",") != "web,mobile" {
			t.Errorf("%s auth = %q %v", s.Name, s.AuthIssuer, s.AuthAudience)
		}
	}
	for _, bad := range []Config{{AuthIssuer: "https://x"}, {AuthAudience: []string{"a"}}, {AuthIssuer: "http://x", AuthAudience: []string{"a"}}} {
		if _, err := bad.Stages(); err == nil || !strings.Contains(err.Error(), "AUTH_ISSUER") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestAStageWithItsOwnIssuerTrustsItAndCreatesNoUserPool(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	resources := stacks["persona-bob"].doc["resource"].(map[string]any)
	if _, ok := resources["aws_cognito_user_pool"]; ok {
		t.Error("a stage with its own issuer got a Cognito user pool")
	}
	for _, a := range resources["aws_apigatewayv2_authorizer"].(map[string]any) {
		jwt := a.(map[string]any)["jwt_configuration"].(map[string]any)
		if jwt["issuer"] != "https://login.example.com/" || !reflect.DeepEqual(jwt["audience"], []any{"web"}) {
			t.Errorf("authorizer = %v", jwt)
		}
	}
}

func TestEachSharedStageAsHCLDeclaresWhatItsJSONDeclares(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	for _, stage := range constructs.BuiltInStageNames() {
		name := App + "-" + stage
		s := stacks[name]
		if s.hcl == "" {
			t.Fatalf("%s was not written as HCL", name)
		}
		src, err := os.ReadFile(s.hcl)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tfhcl.Addresses(src, s.hcl)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for typ, byName := range s.doc["resource"].(map[string]any) {
			for resource := range byName.(map[string]any) {
				want = append(want, typ+"."+resource)
			}
		}
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: the HCL declares\n%s\nthe JSON\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		data, err := os.ReadFile(filepath.Join(stackDirs[name], "cdk.tf.json"))
		if err != nil {
			t.Fatal(err)
		}
		if diffs, err := tfhcl.Compare(data, src, s.hcl); err != nil || len(diffs) > 0 {
			t.Errorf("%s: the HCL differs from the JSON: %v %s", name, err, strings.Join(diffs, "\n"))
		}
	}
}

func TestTheStateBackendKeepsItsOwnStateLocallyAndOutputsTheSettingsThatUseIt(t *testing.T) {
	stateDir := t.TempDir()
	dir, err := SynthStateBackend(context.Background(), StateBackendProps{
		Region: "eu-west-1", LockTable: "acme-lock", Outdir: t.TempDir(), StateDir: stateDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	config, err := terraform.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	backend, err := config.Backend()
	if err != nil {
		t.Fatal(err)
	}
	if !backend.Local() || backend.StateFile != filepath.Join(stateDir, "persona-tfstate.tfstate") {
		t.Errorf("the state backend's own state is %+v, want the local file persona-tfstate.tfstate in %s", backend, stateDir)
	}
	data, err := os.ReadFile(filepath.Join(dir, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Output   map[string]any                       `json:"output"`
		Resource map[string]map[string]map[string]any `json:"resource"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"STATE_BUCKET", "STATE_LOCK_TABLE", "STATE_REGION"} {
		if _, ok := doc.Output[name]; !ok {
			t.Errorf("no output %s: bootstrap-state prints the outputs as the settings to export", name)
		}
	}
	// What remove would keep, by the CLI's one definition of protection.
	for _, typ := range []string{"aws_s3_bucket", "aws_dynamodb_table"} {
		for name, block := range doc.Resource[typ] {
			if !terraform.ProtectionOf(block, nil).Protected() {
				t.Errorf("%s.%s is not protected from destruction", typ, name)
			}
		}
	}

	t.Setenv("STATE_BUCKET", "acme-tfstate")
	t.Setenv("STATE_LOCK_TABLE", "acme-lock")
	t.Setenv("STATE_REGION", "eu-west-1")
	t.Setenv("AWS_REGION", "us-east-2")
	cfg, err := ConfigFromEnv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StateBucket != "acme-tfstate" || cfg.StateLockTable != "acme-lock" || cfg.StateRegion != "eu-west-1" || cfg.Region != "us-east-2" {
		t.Errorf("ConfigFromEnv = %+v", cfg)
	}
}

func TestThePersonaQueueTriesATaskFiveTimesAndTheWorkerIsToldSo(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	for name, s := range stacks {
		var queue *topology.Queue
		for i, q := range s.topo.Queues {
			if q.LinkName == persona.QueueLink {
				queue = &s.topo.Queues[i]
			}
		}
		if queue == nil || queue.MaxReceiveCount != 5 {
			t.Errorf("%s: persona queue %+v, want 5 receives before the dead-letter queue", name, queue)
			continue
		}
		// The worker learns the limit from its link, which carries the redrive policy's.
		workers := 0
		for _, fn := range s.doc["resource"].(map[string]any)["aws_lambda_function"].(map[string]any) {
			fn := fn.(map[string]any)
			if fn["function_name"] != name+"-worker" {
				continue
			}
			workers++
			vars := fn["environment"].(map[string]any)["variables"].(map[string]any)
			var link struct {
				MaxReceiveCount int `json:"maxReceiveCount"`
			}
			if err := json.Unmarshal([]byte(vars["RESOURCE_"+persona.QueueLink].(string)), &link); err != nil || link.MaxReceiveCount != 5 {
				t.Errorf("%s: the worker's queue link %v (%v), want maxReceiveCount 5", name, vars["RESOURCE_"+persona.QueueLink], err)
			}
		}
		if workers != 1 {
			t.Errorf("%s: %d functions named %s-worker", name, workers, name)
		}
	}
}
