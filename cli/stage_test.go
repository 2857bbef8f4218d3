package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	assertContains(t, "deploy --store", r.stderr, "flag provided but not defined: -store", "Usage: go run . deploy --stage STAGE\n")
}

func TestRemoveOfAProtectedStage(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	mustRun(t, p, "deploy", "--stage", "prod")

	refused := mustFail(t, p, "", "remove", "--stage", "prod")
	assertContains(t, "refusal", refused.stderr, "stage prod is protected", "go run . remove --stage prod --force")
	assertContains(t, "prod state after the refusal", mustRun(t, p, "state", "--stage", "prod", "--", "list").stdout,
		"terraform_data.api", "terraform_data.table")

	forced := mustRun(t, p, "remove", "--stage", "prod", "--force")
	assertContains(t, "forced remove", forced.stdout, "Removed stage prod", "Kept in AWS", "terraform_data.table (id ", "import")
	if strings.Contains(forced.stdout, "terraform_data.api (id") {
		t.Errorf("forced remove says it kept terraform_data.api, which has no prevent_destroy:\n%s", forced.stdout)
	}
	assertContains(t, "prod state after a forced remove", mustFail(t, p, "", "state", "--stage", "prod", "--", "list").stderr,
		"stage prod is not deployed")
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
