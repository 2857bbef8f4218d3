package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// awsProject is a test project whose stacks hold AWS resources, as the app's do: enough
// for the deployer policy, which reads a stack and never runs terraform on it.
type awsProject struct {
	*testProject
	// resources replaces the stack's resources, backend its backend block.
	resources, backend map[string]any
}

func newAWSProject(t *testing.T, secrets ...string) *awsProject {
	return &awsProject{testProject: newProject(t, secrets...)}
}

func (p *awsProject) Synth(ctx context.Context, stage string) (string, error) {
	dir, err := p.testProject.Synth(ctx, stage)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "cdk.tf.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var stack map[string]any
	if err := json.Unmarshal(data, &stack); err != nil {
		return "", err
	}
	prefix := "persona-" + stage
	stack["provider"] = map[string]any{"aws": []any{map[string]any{"region": "eu-west-1"}}}
	stack["data"] = map[string]any{"aws_partition": map[string]any{"partition": map[string]any{}}}
	stack["resource"] = map[string]any{
		"aws_dynamodb_table": map[string]any{"table": map[string]any{"name": prefix + "-things"}},
		"aws_iam_role":       map[string]any{"role": map[string]any{"name": prefix + "-fn"}},
		"aws_lambda_function": map[string]any{"fn": map[string]any{
			"function_name": prefix + "-fn", "role": "${aws_iam_role.role.arn}"}},
	}
	if p.resources != nil {
		stack["resource"] = p.resources
	}
	if p.backend != nil {
		stack["terraform"] = map[string]any{"backend": p.backend}
	}
	delete(stack, "output")
	if data, err = json.Marshal(stack); err != nil {
		return "", err
	}
	return dir, os.WriteFile(path, data, 0o644)
}

type policyDoc struct {
	Version   string
	Statement []struct {
		Sid       string
		Action    []string
		Resource  []string
		Condition map[string]map[string][]string
	}
}

func (d policyDoc) statement(t *testing.T, sid string) (actions, resources []string) {
	t.Helper()
	for _, s := range d.Statement {
		if s.Sid == sid {
			return s.Action, s.Resource
		}
	}
	t.Fatalf("the policy has no statement %s: %+v", sid, d)
	return nil, nil
}

func decodePolicy(t *testing.T, stdout string) policyDoc {
	t.Helper()
	var doc policyDoc
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || doc.Version != "2012-10-17" {
		t.Fatalf("standard output is not an IAM policy (%v):\n%s", err, stdout)
	}
	return doc
}

func TestDeployerPolicyNamesTheAccountOfTheCredentials(t *testing.T) {
	p := newAWSProject(t, "MyApiKey")
	useMoto(t)

	r := mustRun(t, p, "deployer-policy", "--stage", "dev")
	doc := decodePolicy(t, r.stdout)
	actions, resources := doc.statement(t, "DynamoDBTables")
	if !slices.Contains(actions, "dynamodb:CreateTable") || !slices.Contains(actions, "dynamodb:TagResource") ||
		!slices.Equal(resources, []string{"arn:aws:dynamodb:eu-west-1:123456789012:table/persona-dev-*"}) {
		t.Errorf("the table statement grants %v on %v", actions, resources)
	}
	if actions, resources := doc.statement(t, "PassFunctionRoles"); !slices.Equal(actions, []string{"iam:PassRole"}) ||
		!slices.Equal(resources, []string{"arn:aws:iam::123456789012:role/persona-dev-fn"}) {
		t.Errorf("iam:PassRole is granted as %v on %v, want on the function's role alone", actions, resources)
	}
	if actions, resources := doc.statement(t, "SecretsCheck"); !slices.Equal(actions, []string{"ssm:GetParameters"}) || !slices.Equal(resources, []string{
		"arn:aws:ssm:eu-west-1:123456789012:parameter/persona/dev/MyApiKey",
		"arn:aws:ssm:eu-west-1:123456789012:parameter/persona/_fallback/MyApiKey",
	}) {
		t.Errorf("the secrets check is granted %v on %v", actions, resources)
	}
	assertContains(t, "notes", r.stderr, "Account 123456789012 (your AWS credentials' account)",
		"Deployer policy of stage dev (stack persona-dev): ", "characters without whitespace",
		"Its state is a local file, which a CI runner loses")
	if strings.Contains(r.stdout, "Account") {
		t.Errorf("notes went to standard output, which must hold the policy alone:\n%s", r.stdout)
	}
}

func TestDeployerPolicyWithoutCredentialsHoldsAWildcardAccountAndSaysSo(t *testing.T) {
	p := newAWSProject(t)
	noAWSCredentials(t)

	r := mustRun(t, p, "deployer-policy", "--stage", "dev")
	if _, resources := decodePolicy(t, r.stdout).statement(t, "LambdaFunctions"); !slices.Equal(resources, []string{"arn:aws:lambda:eu-west-1:*:function:persona-dev-*"}) {
		t.Errorf("function statement on %v", resources)
	}
	assertContains(t, "notes", r.stderr, "The account is not known (no AWS credentials were found): its ARNs hold * for the account. Give --account ID to name it.")

	given := mustRun(t, p, "deployer-policy", "--stage", "dev", "--account", "210987654321")
	if _, resources := decodePolicy(t, given.stdout).statement(t, "LambdaFunctions"); !slices.Equal(resources, []string{"arn:aws:lambda:eu-west-1:210987654321:function:persona-dev-*"}) {
		t.Errorf("with --account, function statement on %v", resources)
	}
	assertContains(t, "notes", given.stderr, "Account 210987654321 (given with --account).")

	bad := mustFail(t, p, "", "deployer-policy", "--stage", "dev", "--account", "prod")
	if bad.code != 2 {
		t.Errorf("exit code %d for a malformed account, want 2 (usage)", bad.code)
	}
	assertContains(t, "error", bad.stderr, `--account "prod" is not an AWS account ID: give its 12 digits`)
}

func TestDeployerPolicyCoversAStateInS3(t *testing.T) {
	p := newAWSProject(t)
	p.remoteState = true
	noAWSCredentials(t)

	r := mustRun(t, p, "deployer-policy", "--stage", "staging", "--account", "123456789012")
	doc := decodePolicy(t, r.stdout)
	if actions, resources := doc.statement(t, "StateObject"); !slices.Equal(actions, []string{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"}) ||
		!slices.Equal(resources, []string{"arn:aws:s3:::state/persona/staging/terraform.tfstate"}) {
		t.Errorf("the state object is granted %v on %v", actions, resources)
	}
	if actions, resources := doc.statement(t, "StateList"); !slices.Equal(actions, []string{"s3:ListBucket"}) || !slices.Equal(resources, []string{"arn:aws:s3:::state"}) {
		t.Errorf("listing the state bucket is granted %v on %v", actions, resources)
	}
	if strings.Contains(r.stderr, "local file") {
		t.Errorf("a stage with its state in S3 is told its state is local:\n%s", r.stderr)
	}
}

func TestDeployerPolicyRefusesAResourceTypeItCannotScope(t *testing.T) {
	p := newAWSProject(t)
	noAWSCredentials(t)
	p.resources = map[string]any{"aws_instance": map[string]any{"box": map[string]any{"ami": "ami-123"}}}

	r := mustFail(t, p, "", "deployer-policy", "--stage", "dev")
	assertContains(t, "error", r.stderr, "deriving the deployer policy of stage dev", "no deploy permissions are known for aws_instance")
	if r.stdout != "" {
		t.Errorf("a refused policy printed something:\n%s", r.stdout)
	}
}

func TestDeployerPolicyOfAProtectedStageReadsItsOwnSecretsAlone(t *testing.T) {
	p := newAWSProject(t, "MyApiKey")
	noAWSCredentials(t)

	r := mustRun(t, p, "deployer-policy", "--stage", "prod", "--account", "123456789012")
	if _, resources := decodePolicy(t, r.stdout).statement(t, "SecretsCheck"); !slices.Equal(resources, []string{"arn:aws:ssm:eu-west-1:123456789012:parameter/persona/prod/MyApiKey"}) {
		t.Errorf("prod's secrets check is granted on %v, want its own parameter alone (its functions never read the fallback)", resources)
	}
}
