package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/personabackend/app/cli"
	"github.com/personabackend/app/topology"

	"github.com/personabackend/app/internal/localaws/localawstest"
)

// testProject is an app whose stacks hold only terraform_data resources, which need no
// provider, so the whole command flow runs for real with the terraform binary.
type testProject struct {
	root        string
	secrets     []string
	requiresAWS bool
	// broken makes Synth write a stack that terraform rejects.
	broken bool
	// slow makes creating the api resource take a minute.
	slow bool
	// remoteState keeps the state in S3 instead of a local file.
	remoteState bool
	// stateEndpoint, when set, is moto's endpoint holding the bucket "state" and the
	// lock table "locks" (useStateBucket), where prod keeps its state, as a protected
	// stage must; otherwise prod's state is a local file, which deploy refuses.
	stateEndpoint string
	// resources replaces the stack's terraform_data resources, by name, for stages that
	// deploy a changed stack.
	resources map[string]any
	// refused names a secret whose parameter SSM refuses to write: it starts with "ssm".
	refused string
	// userPool, when set, is the stack's UserPoolId output.
	userPool string
	synths   []string
	// bootstraps lists what each SynthStateBackend was asked to create.
	bootstraps []cli.StateBackend
}

func (p *testProject) App() string { return "persona" }

func (p *testProject) Stage(name string) (cli.StageInfo, error) {
	switch name {
	case "dev", "staging":
		return cli.StageInfo{Name: name}, nil
	case "local", "alice":
		return cli.StageInfo{Name: name, Personal: true}, nil
	case "prod":
		return cli.StageInfo{Name: name, Protected: true}, nil
	}
	return cli.StageInfo{}, fmt.Errorf("unknown stage %q: use dev, staging, prod, local or alice", name)
}

func (p *testProject) Secrets(stage string) ([]topology.Secret, error) {
	var out []topology.Secret
	for _, name := range p.secrets {
		app := "persona"
		if name == p.refused {
			app = "ssm"
		}
		out = append(out, topology.Secret{
			Name:              name,
			Parameter:         "/" + app + "/" + stage + "/" + name,
			FallbackParameter: "/" + app + "/_fallback/" + name,
		})
	}
	return out, nil
}

func (p *testProject) Synth(_ context.Context, stage string) (string, error) {
	p.synths = append(p.synths, stage)
	dir := filepath.Join(p.root, "cdktf.out", "stacks", "persona-"+stage)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	table := map[string]any{"input": "persona-" + stage + "-personas"}
	if stage == "prod" {
		table["lifecycle"] = map[string]any{"prevent_destroy": true}
	}
	resources := map[string]any{
		"api":   map[string]any{"input": "https://api-" + stage + ".example.test"},
		"table": table,
	}
	if p.slow {
		resources["api"] = map[string]any{
			"input":       "https://api-" + stage + ".example.test",
			"provisioner": []any{map[string]any{"local-exec": map[string]any{"command": "sleep 60"}}},
		}
	}
	if p.broken {
		resources["api"] = map[string]any{"input": "${terraform_data.nowhere.output}"}
	}
	outputs := map[string]any{
		"apiUrl":    map[string]any{"value": "${terraform_data.api.output}"},
		"tableName": map[string]any{"value": "${terraform_data.table.output}"},
	}
	if p.userPool != "" {
		resources["users"] = map[string]any{"input": p.userPool}
		outputs["UserPoolId"] = map[string]any{"value": "${terraform_data.users.output}"}
	}
	if p.resources != nil {
		resources = p.resources
		outputs = map[string]any{}
	}
	backend := map[string]any{"local": map[string]any{"path": filepath.Join(p.root, ".state", "persona-"+stage+".tfstate")}}
	switch {
	case p.remoteState:
		backend = map[string]any{"s3": map[string]any{"bucket": "state", "key": "persona/" + stage + "/terraform.tfstate", "region": "us-east-1"}}
	case p.stateEndpoint != "" && stage == "prod":
		// The settings of terraform's S3 backend that reach moto; terraform 1.6 and
		// later still take them, with a deprecation warning.
		backend = map[string]any{"s3": map[string]any{
			"bucket": "state", "key": "persona/" + stage + "/terraform.tfstate", "region": "us-east-1",
			"encrypt": true, "dynamodb_table": "locks",
			"endpoint": p.stateEndpoint, "dynamodb_endpoint": p.stateEndpoint, "sts_endpoint": p.stateEndpoint,
			"iam_endpoint": p.stateEndpoint, "force_path_style": true,
			"skip_credentials_validation": true, "skip_metadata_api_check": true,
		}}
	}
	return dir, writeStack(dir, backend, resources, outputs)
}

func (p *testProject) RequiresAWS() bool { return p.requiresAWS }

// SynthStateBackend writes a stack of terraform_data standing for the bucket and the
// lock table, with the real one's outputs and local state.
func (p *testProject) SynthStateBackend(_ context.Context, b cli.StateBackend) (string, error) {
	p.bootstraps = append(p.bootstraps, b)
	dir := filepath.Join(p.root, ".build", "state-backend", "stacks", "persona-tfstate")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bucket := b.Bucket
	if bucket == "" {
		bucket = "persona-tfstate-123456789012-" + b.Region
	}
	lockTable := b.LockTable
	if lockTable == "" {
		lockTable = "persona-tfstate-lock"
	}
	keep := map[string]any{"prevent_destroy": true}
	return dir, writeStack(dir,
		map[string]any{"local": map[string]any{"path": filepath.Join(p.root, ".state", "bootstrap", "persona-tfstate.tfstate")}},
		map[string]any{
			"bucket":     map[string]any{"input": bucket, "lifecycle": keep},
			"lock_table": map[string]any{"input": lockTable, "lifecycle": keep},
		},
		map[string]any{
			"STATE_BUCKET":     map[string]any{"value": "${terraform_data.bucket.output}"},
			"STATE_LOCK_TABLE": map[string]any{"value": "${terraform_data.lock_table.output}"},
			"STATE_REGION":     map[string]any{"value": b.Region},
		})
}

// writeStack writes a stack of terraform_data resources in dir.
func writeStack(dir string, backend, resources, outputs map[string]any) error {
	stack := map[string]any{
		"terraform": map[string]any{"backend": backend},
		"resource":  map[string]any{"terraform_data": resources},
	}
	if len(outputs) > 0 {
		stack["output"] = outputs
	}
	data, err := json.MarshalIndent(stack, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cdk.tf.json"), data, 0o644)
}

// newProject makes a repository in a temporary folder, works from it, and uses the
// terraform binary found the way the tool finds it.
func newProject(t *testing.T, secrets ...string) *testProject {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.test/app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("SECRETS_STORE", "")
	return &testProject{root: root, secrets: secrets}
}

// repoTerraform is where make terraform installs terraform, resolved before tests change folder.
var repoTerraform, _ = filepath.Abs(filepath.Join("..", ".tools", "bin", "terraform"))

// useTerraform points the tool at a terraform binary, or skips the test (fails it in CI)
// without one.
func useTerraform(t *testing.T) {
	t.Helper()
	bin := os.Getenv("TERRAFORM_BIN")
	if bin == "" {
		bin, _ = exec.LookPath("terraform")
	}
	if _, err := os.Stat(repoTerraform); bin == "" && err == nil {
		bin = repoTerraform
	}
	if bin == "" {
		localawstest.SkipOrFail(t, errors.New("terraform not found (TERRAFORM_BIN, PATH, .tools/bin): install it with make terraform"))
	}
	t.Setenv("TERRAFORM_BIN", bin)
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, p cli.Project, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, p, strings.NewReader(stdin), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun runs a command that must succeed.
func mustRun(t *testing.T, p cli.Project, args ...string) result {
	t.Helper()
	r := run(t, p, "", args...)
	if r.code != 0 {
		t.Fatalf("%s: exit code %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// mustFail runs a command that must fail and returns what it printed.
func mustFail(t *testing.T, p cli.Project, stdin string, args ...string) result {
	t.Helper()
	r := run(t, p, stdin, args...)
	if r.code == 0 {
		t.Fatalf("%s succeeded, want a failure\nstdout:\n%s", strings.Join(args, " "), r.stdout)
	}
	return r
}

func assertContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("%s does not say %q:\n%s", what, want, got)
		}
	}
}
