package deployerpolicy_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/personabackend/app/cli/deployerpolicy"
)

func writeStack(t *testing.T, stack string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cdk.tf.json"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func statement(p *deployerpolicy.Policy, sid string) *deployerpolicy.Statement {
	for i := range p.Statement {
		if p.Statement[i].Sid == sid {
			return &p.Statement[i]
		}
	}
	return nil
}

func TestAFunctionWhoseRoleHasNoNameMayBePassedAnyRoleOfTheStage(t *testing.T) {
	dir := writeStack(t, `{
  "provider": {"aws": [{"region": "ap-southeast-4"}]},
  "resource": {
    "aws_iam_role": {"named": {"name": "app-dev-api"}, "prefixed": {"name_prefix": "app-dev-job-"}},
    "aws_lambda_function": {
      "api": {"function_name": "app-dev-api", "role": "${aws_iam_role.named.arn}"},
      "job": {"function_name": "app-dev-job", "role": "${aws_iam_role.prefixed.arn}"}
    }
  }
}`)
	p, err := deployerpolicy.Build(deployerpolicy.Stack{Dir: dir, App: "app", Stage: "dev", Account: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	pass := statement(p, "PassFunctionRoles")
	want := []string{"arn:aws:iam::123456789012:role/app-dev-*", "arn:aws:iam::123456789012:role/app-dev-api"}
	if pass == nil || !slices.Equal(pass.Resource, want) {
		t.Errorf("PassRole statement = %+v, want on %v", pass, want)
	}
	if fns := statement(p, "LambdaFunctions"); fns == nil || !slices.Equal(fns.Resource, []string{"arn:aws:lambda:ap-southeast-4:123456789012:function:app-dev-*"}) {
		t.Errorf("function statement = %+v", fns)
	}
	if p.Size() >= deployerpolicy.ManagedPolicyQuota {
		t.Errorf("a two-function stack's policy is %d characters", p.Size())
	}
}

func TestASchedulesRoleMayBePassedToEventBridgeSchedulerAloneAndAFunctionsToLambdaAlone(t *testing.T) {
	// Terraform JSON writes a nested block as an object or as a list of one.
	for name, target := range map[string]string{
		"a target object":      `{"arn": "${aws_lambda_function.job.arn}", "role_arn": "${aws_iam_role.scheduler.arn}"}`,
		"a target list of one": `[{"arn": "${aws_lambda_function.job.arn}", "role_arn": "${aws_iam_role.scheduler.arn}"}]`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeStack(t, `{
  "provider": {"aws": [{"region": "eu-west-1"}]},
  "resource": {
    "aws_iam_role": {"job": {"name": "app-dev-eu-west-1-job"}, "scheduler": {"name": "app-dev-eu-west-1-job-scheduler"}},
    "aws_lambda_function": {"job": {"function_name": "app-dev-job", "role": "${aws_iam_role.job.arn}"}},
    "aws_scheduler_schedule_group": {"job": {"name": "app-dev-job"}},
    "aws_scheduler_schedule": {"job": {"name": "app-dev-job", "group_name": "${aws_scheduler_schedule_group.job.name}", "target": `+target+`}}
  }
}`)
			p, err := deployerpolicy.Build(deployerpolicy.Stack{Dir: dir, App: "app", Stage: "dev", Account: "123456789012"})
			if err != nil {
				t.Fatal(err)
			}
			for sid, want := range map[string]struct{ role, service string }{
				"PassFunctionRoles": {"arn:aws:iam::123456789012:role/app-dev-eu-west-1-job", "lambda.amazonaws.com"},
				"PassScheduleRoles": {"arn:aws:iam::123456789012:role/app-dev-eu-west-1-job-scheduler", "scheduler.amazonaws.com"},
			} {
				pass := statement(p, sid)
				if pass == nil || !slices.Equal(pass.Action, []string{"iam:PassRole"}) || !slices.Equal(pass.Resource, []string{want.role}) ||
					!slices.Equal(pass.Condition["StringEquals"]["iam:PassedToService"], []string{want.service}) {
					t.Errorf("%s = %+v, want iam:PassRole on %s to %s alone", sid, pass, want.role, want.service)
				}
			}
			groups, schedules := statement(p, "SchedulerScheduleGroups"), statement(p, "SchedulerSchedules")
			if groups == nil || !slices.Equal(groups.Resource, []string{"arn:aws:scheduler:eu-west-1:123456789012:schedule-group/app-dev-*"}) ||
				schedules == nil || !slices.Equal(schedules.Resource, []string{"arn:aws:scheduler:eu-west-1:123456789012:schedule/app-dev-*/*"}) {
				t.Errorf("scheduler statements = %+v and %+v", groups, schedules)
			}
			// Deleting a group deletes its schedules: DeleteSchedule acts on the schedules.
			if slices.Contains(groups.Action, "scheduler:DeleteSchedule") || !slices.Contains(schedules.Action, "scheduler:DeleteSchedule") {
				t.Errorf("DeleteSchedule is granted on %v, want on the schedules", groups.Action)
			}
		})
	}
}

func TestTheStateLockIsGrantedOnTheStagesRowsAlone(t *testing.T) {
	dir := writeStack(t, `{
  "terraform": {"backend": {"s3": {"bucket": "acme-state", "key": "app/prod/terraform.tfstate", "region": "cn-north-1", "dynamodb_table": "acme-locks", "encrypt": true}}},
  "provider": {"aws": [{"region": "cn-north-1"}]},
  "data": {"aws_caller_identity": {"caller": {}}}
}`)
	p, err := deployerpolicy.Build(deployerpolicy.Stack{Dir: dir, App: "app", Stage: "prod", Account: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	lock := statement(p, "StateLock")
	if lock == nil || !slices.Equal(lock.Resource, []string{"arn:aws-cn:dynamodb:cn-north-1:123456789012:table/acme-locks"}) ||
		!slices.Equal(lock.Condition["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"], []string{"acme-state/app/prod/terraform.tfstate", "acme-state/app/prod/terraform.tfstate-md5"}) {
		t.Errorf("lock statement = %+v", lock)
	}
	list := statement(p, "StateList")
	if list == nil || !slices.Equal(list.Condition["StringLike"]["s3:prefix"], []string{"env:/*", "app/prod/*"}) {
		t.Errorf("list statement = %+v", list)
	}
	if got := p.Actions(); len(got) != 7 {
		t.Errorf("a stack of data sources alone needs the state's 7 actions, got %v", got)
	}
}

func TestAStateBackendThePolicyDoesNotKnowIsAnError(t *testing.T) {
	dir := writeStack(t, `{"terraform": {"backend": {"gcs": {"bucket": "b"}}}, "provider": {"aws": [{"region": "us-east-1"}]}}`)
	_, err := deployerpolicy.Build(deployerpolicy.Stack{Dir: dir, App: "app", Stage: "dev"})
	if err == nil || !strings.Contains(err.Error(), "gcs backend") {
		t.Errorf("Build = %v, want an error naming the gcs backend", err)
	}
}

func TestAStackWithoutAProviderRegionIsAnError(t *testing.T) {
	_, err := deployerpolicy.Build(deployerpolicy.Stack{Dir: writeStack(t, `{"resource": {}}`), App: "app", Stage: "dev"})
	if err == nil || !strings.Contains(err.Error(), "configures no AWS provider region") {
		t.Errorf("Build = %v", err)
	}
}
