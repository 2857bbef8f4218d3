package cli_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/personabackend/app/cli"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

func TestDeployOutputsStateAndRemoveKeepEachStageApart(t *testing.T) {
	p := newProject(t)
	useTerraform(t)

	dev := mustRun(t, p, "deploy", "--stage", "dev")
	assertContains(t, "deploy output", dev.stdout, "Deployed stage dev (stack persona-dev)", "apiUrl = https://api-dev.example.test")
	mustRun(t, p, "deploy", "--stage", "staging")
	if out := mustRun(t, p, "deploy", "--stage", "alice").stdout; !strings.Contains(out, "go run . remove --stage alice") || strings.Contains(dev.stdout, "remove --stage") {
		t.Errorf("only a personal stage's deploy reminds to remove it:\n%s", out)
	}

	assertContains(t, "dev outputs", mustRun(t, p, "outputs", "--stage", "dev").stdout,
		"apiUrl = https://api-dev.example.test", "tableName = persona-dev-personas")

	var staging map[string]struct{ Value string }
	if err := json.Unmarshal([]byte(mustRun(t, p, "outputs", "--stage", "staging", "--json").stdout), &staging); err != nil {
		t.Fatalf("outputs --json is not JSON: %v", err)
	}
	if got := staging["apiUrl"].Value; got != "https://api-staging.example.test" {
		t.Errorf("staging apiUrl = %q", got)
	}

	assertContains(t, "state list", mustRun(t, p, "state", "--stage", "dev", "--", "list").stdout,
		"terraform_data.api", "terraform_data.table")

	assertContains(t, "remove output", mustRun(t, p, "remove", "--stage", "dev").stdout, "Removed stage dev")
	for _, args := range [][]string{{"state", "--stage", "dev", "--", "list"}, {"outputs", "--stage", "dev"}} {
		gone := mustFail(t, p, "", args...)
		assertContains(t, strings.Join(args, " ")+" of a removed stage", gone.stderr, "stage dev is not deployed", "go run . deploy --stage dev")
	}

	assertContains(t, "staging after removing dev", mustRun(t, p, "outputs", "--stage", "staging").stdout,
		"apiUrl = https://api-staging.example.test")
}

func TestOutputsAndStateReadALocalStateWithoutCredentialsOrTerraformInit(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	p.requiresAWS = true
	noAWSCredentials(t)

	for _, args := range [][]string{{"outputs", "--stage", "dev"}, {"state", "--stage", "dev", "--", "list"}} {
		never := mustFail(t, p, "", args...)
		assertContains(t, strings.Join(args, " ")+" of a stage never deployed", never.stderr,
			"stage dev is not deployed (deploy it with: go run . deploy --stage dev)")
	}
	p.requiresAWS = false
	mustRun(t, p, "deploy", "--stage", "dev")
	stackDir := filepath.Join(p.root, "cdktf.out", "stacks", "persona-dev")
	if err := os.RemoveAll(filepath.Join(stackDir, ".terraform")); err != nil {
		t.Fatal(err)
	}

	p.requiresAWS = true
	assertContains(t, "outputs", mustRun(t, p, "outputs", "--stage", "dev").stdout, "apiUrl = https://api-dev.example.test")
	assertContains(t, "outputs --json", mustRun(t, p, "outputs", "--stage", "dev", "--json").stdout, `"value": "https://api-dev.example.test"`)
	list := mustRun(t, p, "state", "--stage", "dev", "--", "list").stdout
	if list != "terraform_data.api\nterraform_data.table\n" {
		t.Errorf("state list printed %q", list)
	}
	if filtered := mustRun(t, p, "state", "--stage", "dev", "--", "list", "terraform_data.table").stdout; filtered != "terraform_data.table\n" {
		t.Errorf("state list terraform_data.table printed %q", filtered)
	}
	if _, err := os.Stat(filepath.Join(stackDir, ".terraform")); err == nil {
		t.Error("reading a local state ran terraform init (which installs the providers)")
	}
}

func TestOutputsOfAStageWhoseStateIsInS3NeedCredentials(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	p.requiresAWS, p.remoteState = true, true
	noAWSCredentials(t)
	assertContains(t, "outputs", mustFail(t, p, "", "outputs", "--stage", "dev").stderr, "no AWS credentials found")
}

func TestDiffShowsThePlanWithoutChangingAnything(t *testing.T) {
	p := newProject(t)
	useTerraform(t)

	assertContains(t, "diff", mustRun(t, p, "diff", "--stage", "dev").stdout, "terraform_data.api will be created", "2 to add")
	assertContains(t, "outputs after diff", mustFail(t, p, "", "outputs", "--stage", "dev").stderr, "stage dev is not deployed")
}

func TestDeployRefusesBeforeTerraformWhenASecretIsMissing(t *testing.T) {
	p := newProject(t, "MyApiKey", "OtherKey")
	useTerraform(t)
	store := useSSM(t)
	mustRun(t, p, "secrets", "set", "MyApiKey", "v1", "--stage", "dev")

	r := mustFail(t, p, "", "deploy", "--stage", "dev")
	assertContains(t, "deploy error", r.stderr, "missing 1 secret(s) in SSM Parameter Store", "nothing was deployed",
		"go run . secrets set OtherKey --stage dev --store ssm")
	if strings.Contains(r.stderr, "MyApiKey --stage") {
		t.Errorf("deploy asks to set MyApiKey, which is set:\n%s", r.stderr)
	}
	if len(p.synths) != 0 {
		t.Errorf("stage was synthesized %d times before the secrets were complete", len(p.synths))
	}
	if _, err := os.Stat(filepath.Join(p.root, ".state", "persona-dev.tfstate")); err == nil {
		t.Error("terraform ran: the dev state file exists")
	}

	store.set("/persona/_fallback/OtherKey", "shared")
	mustRun(t, p, "deploy", "--stage", "dev")
}

func TestDeployChecksSSMWhateverStoreTheSecretsCommandsUse(t *testing.T) {
	tests := []struct {
		name     string
		stage    string
		storeEnv string
	}{
		{"the local stage, whose secrets commands default to the local store", "local", ""},
		{"SECRETS_STORE=local", "dev", "local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProject(t, "MyApiKey")
			useTerraform(t)
			useSSM(t)
			mustRun(t, p, "secrets", "set", "MyApiKey", "only-local", "--stage", tt.stage, "--store", "local")
			t.Setenv("SECRETS_STORE", tt.storeEnv)

			r := mustFail(t, p, "", "deploy", "--stage", tt.stage)
			assertContains(t, "deploy error", r.stderr, "missing 1 secret(s) in SSM Parameter Store",
				"go run . secrets set MyApiKey --stage "+tt.stage+" --store ssm")
			if len(p.synths) != 0 {
				t.Errorf("stage was synthesized with its secret only in the local store")
			}
		})
	}
}

func TestDeployHasNoStoreFlag(t *testing.T) {
	p := newProject(t, "MyApiKey")
	useTerraform(t)
	r := mustFail(t, p, "", "deploy", "--stage", "dev", "--store", "local")
	assertContains(t, "deploy --store", r.stderr, "flag provided but not defined: -store", "Usage: go run . deploy --stage STAGE [--yes] [--allow-destroy]\n")
}

func TestAProtectedStageRefusesStateKeptInALocalFile(t *testing.T) {
	tests := []struct {
		args    []string
		stopped string
	}{
		{[]string{"deploy", "--stage", "prod", "--yes"}, "nothing was deployed"},
		{[]string{"diff", "--stage", "prod"}, "nothing was planned"},
		{[]string{"remove", "--stage", "prod", "--force", "--confirm", "persona-prod"}, "nothing was removed"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			p := newProject(t)
			useTerraform(t)
			r := mustFail(t, p, "", tt.args...)
			assertContains(t, "refusal", r.stderr,
				"stage prod is protected, so its Terraform state must be in S3 with a DynamoDB lock table",
				"kept in a local file, "+filepath.Join(p.root, ".state", "persona-prod.tfstate"), tt.stopped,
				"    export STATE_BUCKET=BUCKET\n", "    export STATE_LOCK_TABLE=TABLE\n", "export STATE_REGION=REGION",
				"go run . bootstrap-state --region REGION")
			if _, err := os.Stat(filepath.Join(p.root, "cdktf.out", "stacks", "persona-prod", ".terraform")); err == nil {
				t.Error("terraform init ran for a stage with a local state file")
			}
		})
	}
}

func TestBootstrapStateCreatesTheBucketAndLockTableWithTerraform(t *testing.T) {
	p := newProject(t)
	useTerraform(t)

	usage := mustFail(t, p, "", "bootstrap-state", "--yes")
	assertContains(t, "without --region", usage.stderr, "--region is required")
	noTerminal := mustFail(t, p, "", "bootstrap-state", "--region", "eu-west-1", "--lock-table", "acme-lock")
	assertContains(t, "without a terminal or --yes", noTerminal.stdout, "Summary: 2 to add, 0 to change, 0 to destroy.")
	assertContains(t, "without a terminal or --yes", noTerminal.stderr, "no terminal to confirm at, so nothing was created",
		"go run . bootstrap-state --region eu-west-1 --lock-table acme-lock --yes")
	if strings.Contains(noTerminal.stdout, "export STATE_BUCKET") {
		t.Errorf("settings printed for a state backend that was not created:\n%s", noTerminal.stdout)
	}

	first := mustRun(t, p, "bootstrap-state", "--region", "eu-west-1", "--lock-table", "acme-lock", "--yes")
	settings := "    export STATE_BUCKET=persona-tfstate-123456789012-eu-west-1\n" +
		"    export STATE_LOCK_TABLE=acme-lock\n" +
		"    export STATE_REGION=eu-west-1\n"
	assertContains(t, "first run", first.stdout, "Summary: 2 to add, 0 to change, 0 to destroy.", settings)
	if got := p.bootstraps[0]; got != (cli.StateBackend{Region: "eu-west-1", LockTable: "acme-lock"}) {
		t.Errorf("bootstrap asked for %+v", got)
	}
	if _, err := os.Stat(filepath.Join(p.root, ".state", "bootstrap", "persona-tfstate.tfstate")); err != nil {
		t.Errorf("the state backend's own state is not a local file: %v", err)
	}

	again := mustRun(t, p, "bootstrap-state", "--region", "eu-west-1", "--lock-table", "acme-lock")
	assertContains(t, "second run, at no terminal and without --yes", again.stdout, "Summary: no changes.", settings)
}

func TestDeployOfAProtectedStageAppliesTheReviewedPlan(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	useStateBucket(t, p)

	refused := mustFail(t, p, "", "deploy", "--stage", "prod")
	assertContains(t, "deploy without a terminal or --yes", refused.stderr,
		"stage prod is protected: deploy shows its plan and applies it once you agree, but there is no terminal to confirm at, so nothing was applied",
		"    go run . deploy --stage prod --yes")
	if len(p.synths) != 0 {
		t.Error("prod was synthesized and planned with no way to approve the plan")
	}

	first := mustRun(t, p, "deploy", "--stage", "prod", "--yes")
	assertContains(t, "first deploy", first.stdout, "Summary: 2 to add, 0 to change, 0 to destroy.", "Deployed stage prod (stack persona-prod).",
		"apiUrl = https://api-prod.example.test")
	assertContains(t, "second deploy", mustRun(t, p, "deploy", "--stage", "prod", "--yes").stdout,
		"Summary: no changes.", "Stage prod (stack persona-prod) is up to date: nothing was applied.")

	p.resources = map[string]any{
		"api":   map[string]any{"input": "https://api-prod.example.test", "triggers_replace": "v2"},
		"table": map[string]any{"input": "persona-prod-personas", "lifecycle": map[string]any{"prevent_destroy": true}},
	}
	replaced := mustRun(t, p, "deploy", "--stage", "prod", "--yes")
	assertContains(t, "deploy replacing the api", replaced.stdout, "Summary: 1 to add, 0 to change, 1 to destroy.",
		"Destroyed or replaced:\n  replace  terraform_data.api\n", "Deployed stage prod")

	// The table's block is gone, and its prevent_destroy with it: nothing tells whether it
	// was protected, so it is treated as if it were.
	p.resources = map[string]any{"api": map[string]any{"input": "https://api-prod.example.test", "triggers_replace": "v2"}}
	guarded := mustFail(t, p, "", "deploy", "--stage", "prod", "--yes")
	assertContains(t, "deploy destroying the table", guarded.stdout+guarded.stderr,
		"Summary: 0 to add, 0 to change, 1 to destroy.",
		"  destroy  terraform_data.table   PROTECTED: its block was removed, with whatever prevent_destroy it had",
		"the plan destroys or replaces 1 protected resource(s) of stage prod, marked PROTECTED above: nothing was applied.",
		"    go run . deploy --stage prod --allow-destroy --yes")
	assertContains(t, "prod's state after the refusal", mustRun(t, p, "state", "--stage", "prod", "--", "list").stdout, "terraform_data.table")

	allowed := mustRun(t, p, "deploy", "--stage", "prod", "--yes", "--allow-destroy")
	assertContains(t, "deploy with --allow-destroy", allowed.stdout, "Deployed stage prod")
	if list := mustRun(t, p, "state", "--stage", "prod", "--", "list").stdout; list != "terraform_data.api\n" {
		t.Errorf("prod's state after --allow-destroy lists %q, want the api alone", list)
	}
}

func TestDiffSumsUpThePlan(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	useStateBucket(t, p)
	mustRun(t, p, "deploy", "--stage", "prod", "--yes")
	p.resources = map[string]any{"api": map[string]any{"input": "https://api-prod.example.test/v2"}}

	diff := mustRun(t, p, "diff", "--stage", "prod").stdout
	assertContains(t, "diff", diff, "Summary: 0 to add, 1 to change, 1 to destroy.", "  destroy  terraform_data.table   PROTECTED")
	plans, err := filepath.Glob(filepath.Join(p.root, "cdktf.out", "stacks", "persona-prod", "*.tfplan"))
	if err != nil || len(plans) != 0 {
		t.Errorf("diff left plan files %v", plans)
	}
}

func TestRemoveOfAProtectedStage(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	useStateBucket(t, p)
	mustRun(t, p, "deploy", "--stage", "prod", "--yes")

	refusals := []struct {
		args []string
		want []string
	}{
		{[]string{"remove", "--stage", "prod"}, []string{"stage prod is protected: nothing was removed", "go run . remove --stage prod --force"}},
		{[]string{"remove", "--stage", "prod", "--force"}, []string{"no terminal to confirm at, so nothing was removed",
			"    go run . remove --stage prod --force --confirm persona-prod"}},
		{[]string{"remove", "--stage", "prod", "--force", "--confirm", "persona-staging"}, []string{
			"--confirm persona-staging does not name stage prod's stack, persona-prod: nothing was removed"}},
	}
	for _, r := range refusals {
		assertContains(t, strings.Join(r.args, " "), mustFail(t, p, "", r.args...).stderr, r.want...)
	}
	assertContains(t, "prod state after the refusals", mustRun(t, p, "state", "--stage", "prod", "--", "list").stdout,
		"terraform_data.api", "terraform_data.table")

	forced := mustRun(t, p, "remove", "--stage", "prod", "--force", "--confirm", "persona-prod")
	assertContains(t, "forced remove", forced.stdout,
		"Removing stage prod destroys 1 resource(s):\n    terraform_data.api (id ",
		"and keeps 1 protected resource(s) in AWS, taken out of its state, not destroyed:\n    terraform_data.table (id ",
		"): prevent_destroy\n", "Removed stage prod (stack persona-prod).", "Kept in AWS", "import ADDRESS ID")
	if strings.Index(forced.stdout, "keeps 1 protected") > strings.Index(forced.stdout, "Removed stage prod") {
		t.Errorf("remove listed what it keeps after removing:\n%s", forced.stdout)
	}
	if list := mustRun(t, p, "state", "--stage", "prod", "--", "list").stdout; list != "" {
		t.Errorf("prod's state after a forced remove lists %q", list)
	}
}

func TestFailedTerraformRunReportsItsExitCodeAndError(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	p.broken = true

	r := mustFail(t, p, "", "deploy", "--stage", "dev")
	assertContains(t, "deploy error", r.stderr, "for stage dev failed", "exit code 1", "last lines of its error output", "terraform_data.nowhere")
	if strings.Contains(r.stdout, "Deployed") {
		t.Errorf("a failed deploy reports success:\n%s", r.stdout)
	}
}

func TestStageOperationsExplainWhatIsMissing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, p *testProject)
		args  []string
		want  []string
	}{
		{
			name:  "without terraform the tool says how to install it",
			setup: func(t *testing.T, _ *testProject) { t.Setenv("TERRAFORM_BIN", ""); t.Setenv("PATH", "") },
			args:  []string{"deploy", "--stage", "dev"},
			want:  []string{"terraform not found", "make terraform"},
		},
		{
			name: "without AWS credentials the tool says how to configure them",
			setup: func(t *testing.T, p *testProject) {
				useTerraform(t)
				noAWSCredentials(t)
				p.requiresAWS = true
			},
			args: []string{"deploy", "--stage", "dev"},
			want: []string{"no AWS credentials found", "AWS_PROFILE", "aws configure", "aws sso login"},
		},
		{
			name:  "an unknown stage is refused with the project's message",
			setup: func(t *testing.T, _ *testProject) { useTerraform(t) },
			args:  []string{"deploy", "--stage", "qa"},
			want:  []string{`unknown stage "qa": use dev, staging, prod, local or alice`},
		},
		{
			name:  "a stage is required",
			setup: func(t *testing.T, _ *testProject) { useTerraform(t) },
			args:  []string{"outputs"},
			want:  []string{"--stage is required", "Usage: go run . outputs --stage STAGE"},
		},
		{
			name:  "state needs a subcommand",
			setup: func(t *testing.T, _ *testProject) { useTerraform(t) },
			args:  []string{"state", "--stage", "dev"},
			want:  []string{"go run . state --stage dev -- list"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProject(t)
			tt.setup(t, p)
			r := mustFail(t, p, "", tt.args...)
			assertContains(t, "error", r.stderr, tt.want...)
			if strings.Contains(r.stderr, "WARN") || strings.Contains(r.stderr, "falling back to IMDSv1") {
				t.Errorf("the SDK's warning about instance metadata precedes the error:\n%s", r.stderr)
			}
			if len(p.synths) != 0 {
				t.Errorf("the stage was synthesized before the failure")
			}
		})
	}
}

// noAWSCredentials hides every source of AWS credentials from the SDK.
func noAWSCredentials(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_EC2_METADATA_DISABLED", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
}

// useStateBucket keeps prod's state in S3 and locks it in DynamoDB, both moto's, as a
// protected stage must. It empties moto first (useSSM), so call it before setting values.
func useStateBucket(t *testing.T, p *testProject) ssmStore {
	t.Helper()
	store := useSSM(t)
	endpoint := sharedMoto.srv.Endpoint
	// S3's CreateBucket; moto takes it unsigned.
	req, err := http.NewRequest(http.MethodPut, endpoint+"/state", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("creating the state bucket: %s", resp.Status)
	}
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	if _, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String("locks"),
		BillingMode:          dbtypes.BillingModePayPerRequest,
		KeySchema:            []dbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: dbtypes.KeyTypeHash}},
		AttributeDefinitions: []dbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: dbtypes.ScalarAttributeTypeS}},
	}); err != nil {
		t.Fatalf("creating the lock table: %v", err)
	}
	p.stateEndpoint = endpoint
	return store
}
