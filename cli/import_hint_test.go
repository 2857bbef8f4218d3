package cli_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

// useMoto points every AWS client of the tool at moto's server (AWS_ENDPOINT_URL), with
// test credentials and no region (the tool's default applies); moto's account is
// 123456789012. The package's tests share one server, emptied for each.
func useMoto(t *testing.T) string {
	t.Helper()
	sharedMoto.once.Do(func() { sharedMoto.srv, sharedMoto.err = localaws.StartMoto(context.Background()) })
	if errors.Is(sharedMoto.err, localaws.ErrToolMissing) {
		localawstest.SkipOrFail(t, sharedMoto.err)
	}
	if sharedMoto.err != nil {
		t.Fatal(sharedMoto.err)
	}
	if err := localawstest.ResetMoto(context.Background(), sharedMoto.srv); err != nil {
		t.Fatal(err)
	}
	noAWSCredentials(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_ENDPOINT_URL", sharedMoto.srv.Endpoint)
	return sharedMoto.srv.Endpoint
}

// terraformFixtures holds captured terraform output, resolved before tests change folder.
var terraformFixtures, _ = filepath.Abs(filepath.Join("terraform", "testdata"))

// replayingTerraform is a stand-in for terraform (the AWS provider cannot be installed
// here): init succeeds, and apply fails writing the captured error output in
// terraform/testdata/NAME, as terraform with the AWS provider writes it.
func replayingTerraform(t *testing.T, name string) {
	t.Helper()
	fixture := filepath.Join(terraformFixtures, name)
	script := filepath.Join(t.TempDir(), "terraform")
	body := "#!/bin/sh\ncase \"$2\" in\n  init) exit 0 ;;\n  apply) cat '" + fixture + "' >&2; exit 1 ;;\nesac\necho \"unexpected terraform $*\" >&2\nexit 2\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TERRAFORM_BIN", script)
}

func TestDeployNamesResourcesThatAlreadyExistAndHowToImportThem(t *testing.T) {
	p := newProject(t)
	useMoto(t)
	replayingTerraform(t, "apply-already-exists.txt")

	r := mustFail(t, p, "", "deploy", "--stage", "dev")
	bin := os.Getenv("TERRAFORM_BIN")
	chdir := bin + " -chdir=" + filepath.Join(p.root, "cdktf.out", "stacks", "persona-dev") + " import "
	assertContains(t, "deploy error", r.stderr,
		"10 resource(s) already exist in AWS but not in the Terraform state of stage dev:",
		"    aws_iam_role.BackendApiGetPersonasPersonaId_role_7B406E1B (IAM Role persona-dev-get)\n",
		"    aws_sqs_queue.PersonaQueue_queue_159FE9E4 (SQS Queue persona-dev-persona.fifo)\n",
		chdir+"aws_iam_role.BackendApiGetPersonasPersonaId_role_7B406E1B persona-dev-get\n",
		chdir+"aws_dynamodb_table.PersonaTable_table_B23944E2 persona-dev-persona\n",
		chdir+"aws_cloudwatch_log_group.BackendApiGetPersonasPersonaId_logs_38A0B7BD /aws/lambda/persona-dev-get\n",
		// The queue's URL and the topic's ARN hold the account, which STS tells.
		chdir+"aws_sqs_queue.PersonaQueue_queue_159FE9E4 https://sqs.us-east-1.amazonaws.com/123456789012/persona-dev-persona.fifo\n",
		chdir+"aws_sns_topic.TaskTopic_topic_762537C5 arn:aws:sns:us-east-1:123456789012:persona-dev-tasks.fifo\n",
		// A framework resource's AWS error is in its detail.
		chdir+"aws_cloudfront_key_value_store.MyWeb_connect-sources_AE3658BF persona-dev-web\n",
		chdir+"aws_cloudfront_function.MyWeb_connect-sources-function_5DF55DD9 persona-dev-web-csp\n",
		// Imported by an ID AWS chose, which the AWS CLI looks up by name.
		chdir+`aws_cloudfront_origin_access_control.MyWeb_origin-access_E6640716 "$(aws cloudfront list-origin-access-controls --query "OriginAccessControlList.Items[?Name=='persona-dev-web'].Id" --output text)"`,
		chdir+"aws_s3_bucket.MyWeb_bucket_FE3EDBD7 persona-dev-web-20250114093012345600000001\n",
		"go run . diff --stage dev", "go run . deploy --stage dev",
		"do not import them (removing stage dev would then delete them)")
	if strings.Contains(r.stderr, "Users_pool") && strings.Contains(r.stderr, "import aws_cognito_user_pool") {
		t.Errorf("a refused create (access denied) is taken for an existing resource:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "ACCOUNT_ID") {
		t.Errorf("the account was known, yet a placeholder is printed:\n%s", r.stderr)
	}
}

func TestDeployImportHintsForFunctionsAndMappingsAndOnlyForExistingResources(t *testing.T) {
	p := newProject(t)
	useMoto(t)
	replayingTerraform(t, "apply-already-exists-later.txt")

	r := mustFail(t, p, "", "deploy", "--stage", "dev")
	assertContains(t, "deploy error", r.stderr,
		"2 resource(s) already exist",
		" import aws_lambda_function.PersonaQueueWorker_function_D29E928F persona-dev-worker\n",
		// A mapping is imported by the UUID Lambda's error names.
		" import aws_lambda_event_source_mapping.PersonaQueue_worker-source_D0AE28A1 2bac96f9-a36e-4017-a5a4-aa977086a2b6\n")
	if strings.Contains(r.stderr, "import aws_lambda_function.BackendApiGetPersonas_function_AD29F5A2") {
		t.Errorf("a function refused for another reason is taken for an existing one:\n%s", r.stderr)
	}
}

func TestDeployImportHintsSayWhenTheAccountCouldNotBeRead(t *testing.T) {
	p := newProject(t)
	useMoto(t)
	// STS refuses these credentials: moto answers nothing on this endpoint.
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")
	replayingTerraform(t, "apply-already-exists.txt")

	r := mustFail(t, p, "", "deploy", "--stage", "dev")
	assertContains(t, "deploy error", r.stderr,
		" import aws_sqs_queue.PersonaQueue_queue_159FE9E4 https://sqs.us-east-1.amazonaws.com/ACCOUNT_ID/persona-dev-persona.fifo\n",
		"Replace ACCOUNT_ID with the account's ID (aws sts get-caller-identity --query Account --output text)")
}

func TestADeployThatFailsForOtherReasonsHasNoImportHint(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	p.broken = true
	r := mustFail(t, p, "", "deploy", "--stage", "dev")
	assertContains(t, "deploy error", r.stderr, "terraform apply failed")
	if strings.Contains(r.stderr, "already exist") {
		t.Errorf("a failure without existing resources has an import hint:\n%s", r.stderr)
	}
}
