package terraform_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/personabackend/app/cli/terraform"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

// awsPlan is `terraform show -json` of a plan on AWS resources, in terraform's
// documented format (the AWS provider cannot be installed here to make a real one).
const awsPlan = `{
  "format_version": "1.2",
  "resource_changes": [
    {"address": "aws_dynamodb_table.persona_table", "mode": "managed", "type": "aws_dynamodb_table", "name": "persona_table",
     "change": {"actions": ["delete", "create"], "before": {"name": "persona-prod-persona", "deletion_protection_enabled": true}}},
    {"address": "aws_cognito_user_pool.users_pool", "mode": "managed", "type": "aws_cognito_user_pool", "name": "users_pool",
     "change": {"actions": ["update"], "before": {"deletion_protection": "ACTIVE"}}},
    {"address": "aws_cloudwatch_log_group.old_fn_logs", "mode": "managed", "type": "aws_cloudwatch_log_group", "name": "old_fn_logs",
     "change": {"actions": ["delete"], "before": {"name": "/aws/lambda/persona-prod-old", "skip_destroy": true}}},
    {"address": "aws_sqs_queue.dlq", "mode": "managed", "type": "aws_sqs_queue", "name": "dlq",
     "change": {"actions": ["delete"], "before": {"name": "persona-prod-dlq.fifo"}}},
    {"address": "aws_lambda_permission.api", "mode": "managed", "type": "aws_lambda_permission", "name": "api",
     "change": {"actions": ["create", "delete"], "before": {"statement_id": "api"}}},
    {"address": "aws_lambda_function.list", "mode": "managed", "type": "aws_lambda_function", "name": "list",
     "change": {"actions": ["create"], "before": null}},
    {"address": "aws_iam_role.list", "mode": "managed", "type": "aws_iam_role", "name": "list",
     "change": {"actions": ["no-op"], "before": {"name": "persona-prod-list"}}},
    {"address": "data.aws_caller_identity.caller", "mode": "data", "type": "aws_caller_identity", "name": "caller",
     "change": {"actions": ["read"], "before": null}}
  ],
  "output_changes": {"ApiUrl": {"actions": ["no-op"]}}
}`

// awsPlanStack is the configuration that plan was made from: the queue's and the log
// group's blocks are gone, the table's is still there.
const awsPlanStack = `{
  "resource": {
    "aws_dynamodb_table": {"persona_table": {"name": "persona-prod-persona", "deletion_protection_enabled": true}},
    "aws_cognito_user_pool": {"users_pool": {"deletion_protection": "ACTIVE", "lifecycle": {"prevent_destroy": true}}},
    "aws_lambda_permission": {"api": {"statement_id": "api"}},
    "aws_lambda_function": {"list": {"function_name": "persona-prod-list"}},
    "aws_iam_role": {"list": {"name": "persona-prod-list"}}
  }
}`

func TestReadPlanFindsEveryDestroyAndWhatProtectsIt(t *testing.T) {
	config := writeConfig(t, awsPlanStack)
	plan, err := terraform.ReadPlan([]byte(awsPlan), config)
	if err != nil {
		t.Fatal(err)
	}
	want := []terraform.ResourceChange{
		{Address: "aws_cloudwatch_log_group.old_fn_logs", Action: terraform.Delete, Protection: terraform.Protection{SkipDestroy: true}, BlockRemoved: true},
		{Address: "aws_cognito_user_pool.users_pool", Action: terraform.Update, Protection: terraform.Protection{PreventDestroy: true, DeletionProtection: true}},
		{Address: "aws_dynamodb_table.persona_table", Action: terraform.Replace, Protection: terraform.Protection{DeletionProtection: true}},
		{Address: "aws_lambda_function.list", Action: terraform.Create},
		{Address: "aws_lambda_permission.api", Action: terraform.Replace},
		{Address: "aws_sqs_queue.dlq", Action: terraform.Delete, BlockRemoved: true},
	}
	if !reflect.DeepEqual(plan.Changes, want) {
		t.Errorf("changes:\n%+v\nwant\n%+v", plan.Changes, want)
	}
	if add, change, destroy := plan.Counts(); add != 3 || change != 1 || destroy != 4 {
		t.Errorf("Counts = %d, %d, %d; want terraform's 3 to add, 1 to change, 4 to destroy", add, change, destroy)
	}
	var guarded []string
	for _, c := range plan.Guarded() {
		guarded = append(guarded, c.Address)
	}
	// The permission's replace is not guarded: it is in the configuration, unprotected.
	if want := []string{"aws_cloudwatch_log_group.old_fn_logs", "aws_dynamodb_table.persona_table", "aws_sqs_queue.dlq"}; !reflect.DeepEqual(guarded, want) {
		t.Errorf("guarded = %q, want %q", guarded, want)
	}

	var summary strings.Builder
	plan.WriteSummary(&summary)
	for _, line := range []string{
		"Summary: 3 to add, 1 to change, 4 to destroy.",
		"  destroy  aws_cloudwatch_log_group.old_fn_logs   PROTECTED: skip_destroy",
		"  replace  aws_dynamodb_table.persona_table   PROTECTED: deletion protection in AWS",
		"  replace  aws_lambda_permission.api\n",
		"  destroy  aws_sqs_queue.dlq   PROTECTED: its block was removed, with whatever prevent_destroy it had",
	} {
		if !strings.Contains(summary.String(), line) {
			t.Errorf("summary does not say %q:\n%s", line, summary.String())
		}
	}
	if strings.Contains(summary.String(), "aws_lambda_function.list") || strings.Contains(summary.String(), "users_pool") {
		t.Errorf("summary lists a create or an update among the destroys:\n%s", summary.String())
	}
}

func TestAPlanOfNoChangeIsEmpty(t *testing.T) {
	config := writeConfig(t, `{"resource": {}}`)
	plan, err := terraform.ReadPlan([]byte(`{"resource_changes": [{"address": "a.b", "mode": "managed", "change": {"actions": ["no-op"]}}], "output_changes": {"x": {"actions": ["no-op"]}}}`), config)
	if err != nil {
		t.Fatal(err)
	}
	var summary strings.Builder
	plan.WriteSummary(&summary)
	if !plan.Empty() || summary.String() != "Summary: no changes.\n" {
		t.Errorf("Empty() = %v, summary %q", plan.Empty(), summary.String())
	}
	outputsOnly, err := terraform.ReadPlan([]byte(`{"output_changes": {"x": {"actions": ["create"]}}}`), config)
	if err != nil {
		t.Fatal(err)
	}
	if outputsOnly.Empty() {
		t.Error("a plan that only changes an output is empty: applying it would record nothing")
	}
}

// TestSavedPlansOfATerraformDataStack makes, reads and applies real plans: creates,
// an in-place update, a replace and a removed block.
func TestSavedPlansOfATerraformDataStack(t *testing.T) {
	r := &terraform.Runner{Bin: terraformBin(t), Dir: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard}
	ctx := context.Background()
	write := func(resources map[string]any) {
		t.Helper()
		stack := map[string]any{"resource": map[string]any{"terraform_data": resources}}
		data, err := json.Marshal(stack)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.Dir, terraform.StackFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	planned := func() terraform.Plan {
		t.Helper()
		if err := r.PlanFile(ctx, "test.tfplan"); err != nil {
			t.Fatal(err)
		}
		plan, err := r.ShowPlan(ctx, "test.tfplan")
		if err != nil {
			t.Fatal(err)
		}
		return plan
	}
	actions := func(plan terraform.Plan) map[string]terraform.Action {
		got := map[string]terraform.Action{}
		for _, c := range plan.Changes {
			got[c.Address] = c.Action
		}
		return got
	}

	write(map[string]any{
		"kept":     map[string]any{"input": "k", "lifecycle": map[string]any{"prevent_destroy": true}},
		"replaced": map[string]any{"input": "r", "triggers_replace": "v1"},
		"updated":  map[string]any{"input": "u1"},
		"removed":  map[string]any{"input": "x"},
	})
	if err := r.Init(ctx); err != nil {
		t.Fatal(err)
	}
	first := planned()
	if add, change, destroy := first.Counts(); add != 4 || change != 0 || destroy != 0 {
		t.Errorf("first plan counts %d, %d, %d; want 4 to add", add, change, destroy)
	}
	if err := r.ApplyPlan(ctx, "test.tfplan"); err != nil {
		t.Fatal(err)
	}
	if again := planned(); !again.Empty() {
		t.Errorf("the plan after applying is not empty: %+v", again.Changes)
	}
	config, err := terraform.ReadConfig(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	inState, err := r.StateResources(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	var addresses []string
	for _, res := range inState {
		addresses = append(addresses, res.Address)
		if res.ID == "" {
			t.Errorf("%s has no id in the state", res.Address)
		}
		if res.Protection.PreventDestroy != (res.Address == "terraform_data.kept") {
			t.Errorf("%s has protection %+v", res.Address, res.Protection)
		}
	}
	if want := []string{"terraform_data.kept", "terraform_data.removed", "terraform_data.replaced", "terraform_data.updated"}; !reflect.DeepEqual(addresses, want) {
		t.Errorf("state resources %q, want %q", addresses, want)
	}

	write(map[string]any{
		"kept":     map[string]any{"input": "k", "lifecycle": map[string]any{"prevent_destroy": true}},
		"replaced": map[string]any{"input": "r", "triggers_replace": "v2"},
		"updated":  map[string]any{"input": "u2"},
	})
	second := planned()
	want := map[string]terraform.Action{
		"terraform_data.replaced": terraform.Replace,
		"terraform_data.updated":  terraform.Update,
		"terraform_data.removed":  terraform.Delete,
	}
	if got := actions(second); !reflect.DeepEqual(got, want) {
		t.Errorf("second plan's actions = %v, want %v", got, want)
	}
	if guarded := second.Guarded(); len(guarded) != 1 || guarded[0].Address != "terraform_data.removed" || !guarded[0].BlockRemoved {
		t.Errorf("guarded = %+v, want the removed block alone", guarded)
	}
	if err := r.ApplyPlan(ctx, "test.tfplan"); err != nil {
		t.Fatal(err)
	}

	// Terraform itself refuses to plan the destroy of a block that says prevent_destroy.
	write(map[string]any{"kept": map[string]any{"input": "k", "triggers_replace": "now", "lifecycle": map[string]any{"prevent_destroy": true}}})
	var exit *terraform.ExitError
	if err := r.PlanFile(ctx, "test.tfplan"); !errors.As(err, &exit) || !strings.Contains(strings.Join(exit.Tail, "\n"), "prevent_destroy") {
		t.Errorf("planning to replace a prevent_destroy resource = %v, want terraform's refusal", err)
	}
}

func writeConfig(t *testing.T, stack string) *terraform.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, terraform.StackFile), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	config, err := terraform.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	return config
}

// terraformBin returns the terraform binary the tool would run, or skips the test
// (fails it in CI) without one.
func terraformBin(t *testing.T) string {
	t.Helper()
	t.Setenv("CHECKPOINT_DISABLE", "1")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := terraform.Find(root)
	if errors.Is(err, terraform.ErrNotFound) {
		localawstest.SkipOrFail(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
