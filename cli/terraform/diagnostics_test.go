package terraform_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/cli/terraform"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

// The testdata/apply-already-exists*.txt files are what terraform writes to stderr when
// apply finds resources that already exist. The summaries are the AWS provider's own
// messages: its format strings (hashicorp/terraform-provider-aws, e.g.
// internal/service/iam/role.go `"creating IAM Role (%s): %s"`, internal/create/errors.go
// ProblemStandardMessage for DynamoDB, internal/service/cloudfront/key_value_store.go,
// which puts the AWS error in the detail) around the AWS SDK for Go v2's error text
// (smithy-go OperationError, "https response error StatusCode: %d, RequestID: %s", then
// "Code: message"); the event source mapping's message is Lambda's, as reported in
// DataBiosphere/azul#3399. The framing is terraform's (internal/command/format:
// "Error: " summary, "  with ADDRESS,", the source snippet, the detail wrapped at 78
// columns; a box of "│" lines with colors).

// failingTerraform is a stand-in terraform whose every command writes the file errors to
// stderr and exits 1.
func failingTerraform(t *testing.T, errors string) *terraform.Runner {
	t.Helper()
	dir := t.TempDir()
	fixture, err := filepath.Abs(filepath.Join("testdata", errors))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "terraform")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat '"+fixture+"' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &terraform.Runner{Bin: script, Dir: dir, Stdout: io.Discard, Stderr: io.Discard}
}

func applyErrors(t *testing.T, r *terraform.Runner) []terraform.Diagnostic {
	t.Helper()
	var exit *terraform.ExitError
	if err := r.Apply(context.Background()); !errors.As(err, &exit) {
		t.Fatalf("Apply = %v, want an ExitError", err)
	}
	return exit.Errors
}

func TestAFailedApplyKeepsEveryErrorWithItsResourceBeyondTheQuotedTail(t *testing.T) {
	diags := applyErrors(t, failingTerraform(t, "apply-already-exists.txt"))
	if len(diags) != 11 {
		for _, d := range diags {
			t.Logf("%+v", d)
		}
		t.Fatalf("read %d errors, want the 11 of the output (its warning is no error)", len(diags))
	}
	first := diags[0]
	if first.Address != "aws_iam_role.BackendApiGetPersonasPersonaId_role_7B406E1B" ||
		!strings.HasPrefix(first.Summary, "creating IAM Role (persona-dev-get): operation error IAM: CreateRole") ||
		!strings.HasSuffix(first.Summary, "EntityAlreadyExists: Role with name persona-dev-get already exists.") {
		t.Errorf("first error = %+v", first)
	}
	if first.Detail != "" {
		t.Errorf("the source snippet was read as detail: %q", first.Detail)
	}
	kvs := diags[5]
	if kvs.Summary != "creating CloudFront Key Value Store (persona-dev-web)" ||
		kvs.Detail != "operation error CloudFront: CreateKeyValueStore, https response error StatusCode: 409, RequestID: 3f2e1d0c-9b8a-4766-a5f4-e3d2c1b0a998, EntityAlreadyExists: The Key Value Store already exists." {
		t.Errorf("a detail wrapped over lines reads back whole: %+v", kvs)
	}
	if last := diags[10]; last.Address != "aws_cognito_user_pool.Users_pool_9670B337" {
		t.Errorf("last error = %+v", last)
	}
}

func TestErrorsAreReadFromTerraformsColoredBoxesToo(t *testing.T) {
	diags := applyErrors(t, failingTerraform(t, "apply-already-exists-color.txt"))
	want := []terraform.Diagnostic{
		{Address: "aws_iam_role.BackendApiGetPersonasPersonaId_role_7B406E1B", Summary: "creating IAM Role (persona-dev-get): operation error IAM: CreateRole, https response error StatusCode: 409, RequestID: 6f1c2a4e-8d3b-4c55-9a0e-1b7f2e9d4c31, EntityAlreadyExists: Role with name persona-dev-get already exists."},
		{Address: "aws_cloudfront_key_value_store.MyWeb_connect-sources_AE3658BF", Summary: "creating CloudFront Key Value Store (persona-dev-web)", Detail: "operation error CloudFront: CreateKeyValueStore, https response error StatusCode: 409, RequestID: 3f2e1d0c-9b8a-4766-a5f4-e3d2c1b0a998, EntityAlreadyExists: The Key Value Store already exists."},
		{Address: "aws_lambda_event_source_mapping.PersonaQueue_worker-source_D0AE28A1"},
	}
	if len(diags) != len(want) {
		t.Fatalf("read %+v, want %d errors", diags, len(want))
	}
	for i, w := range want {
		if diags[i].Address != w.Address || (w.Summary != "" && diags[i].Summary != w.Summary) || diags[i].Detail != w.Detail {
			t.Errorf("error %d = %+v\nwant %+v", i, diags[i], w)
		}
	}
}

// TestErrorsOfARealTerraformRunNameTheirResource runs terraform itself: a local-exec
// provisioner that fails is an error terraform reports with its resource's address and a
// detail, as it reports a provider's.
func TestErrorsOfARealTerraformRunNameTheirResource(t *testing.T) {
	root, err := build.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := terraform.Find(root)
	if err != nil {
		localawstest.SkipOrFail(t, err)
	}
	for _, color := range []bool{false, true} {
		dir := t.TempDir()
		stack := `{"resource": {"terraform_data": {"fails": {"provisioner": [{"local-exec": {"command": "echo the resource already exists >&2; exit 7"}}]}}}}`
		if err := os.WriteFile(filepath.Join(dir, terraform.StackFile), []byte(stack), 0o644); err != nil {
			t.Fatal(err)
		}
		r := &terraform.Runner{Bin: bin, Dir: dir, Stdout: io.Discard, Stderr: io.Discard, Color: color}
		if err := r.Init(context.Background()); err != nil {
			t.Fatal(err)
		}
		diags := applyErrors(t, r)
		if len(diags) != 1 || diags[0].Address != "terraform_data.fails" || diags[0].Summary != "local-exec provisioner error" ||
			!strings.Contains(diags[0].Detail, "exit status 7") || !strings.Contains(diags[0].Detail, "the resource already exists") {
			t.Errorf("with colors %v, read %+v", color, diags)
		}
	}
}
