package constructs

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAScheduledFunctionRunsAtItsRateThroughItsOwnGroupAndRole(t *testing.T) {
	s := stackFor(t, "dev")
	schedule := s.only(t, "aws_scheduler_schedule", "name", "shop-dev-reminders")
	if schedule["schedule_expression"] != "rate(10 minutes)" || schedule["flexible_time_window"].(map[string]any)["mode"] != "OFF" {
		t.Errorf("schedule = %v", schedule)
	}
	if !strings.HasPrefix(schedule["group_name"].(string), "${aws_scheduler_schedule_group.Reminders_group_") {
		t.Errorf("group_name = %v, want the schedule's own group", schedule["group_name"])
	}
	s.only(t, "aws_scheduler_schedule_group", "name", "shop-dev-reminders")
	target := schedule["target"].(map[string]any)
	if !strings.HasPrefix(target["arn"].(string), "${aws_lambda_function.RemindersFunction_function_") ||
		!strings.HasPrefix(target["role_arn"].(string), "${aws_iam_role.Reminders_role_") || target["input"] != "{}" {
		t.Errorf("target = %v", target)
	}
	// A run that cannot be delivered is given up once the next one is due.
	retry := target["retry_policy"].(map[string]any)
	if retry["maximum_event_age_in_seconds"] != float64(600) {
		t.Errorf("retry policy = %v", retry)
	}
	s.only(t, "aws_lambda_function", "function_name", "shop-dev-reminders")
}

func TestOnlyTheSchedulesGroupMayAssumeTheSchedulerRoleAndItMayInvokeTheFunctionAlone(t *testing.T) {
	s := stackFor(t, "dev")
	role := s.only(t, "aws_iam_role", "name", "shop-dev-eu-west-1-reminders-scheduler")
	statements := decodeJSON(t, role["assume_role_policy"])["Statement"].([]any)
	if len(statements) != 1 {
		t.Fatalf("trust policy = %v", statements)
	}
	trust := statements[0].(map[string]any)
	condition := trust["Condition"].(map[string]any)
	if trust["Action"] != "sts:AssumeRole" || !reflect.DeepEqual(trust["Principal"], map[string]any{"Service": "scheduler.amazonaws.com"}) ||
		!strings.Contains(condition["StringEquals"].(map[string]any)["aws:SourceAccount"].(string), "data.aws_caller_identity.") ||
		!strings.HasPrefix(condition["ArnEquals"].(map[string]any)["aws:SourceArn"].(string), "${aws_scheduler_schedule_group.Reminders_group_") {
		t.Errorf("trust = %v", trust)
	}
	policy := s.only(t, "aws_iam_role_policy", "name", "shop-dev-reminders-scheduler")
	got := grants(t, policy["policy"])
	if !reflect.DeepEqual(got, []string{"lambda:InvokeFunction RemindersFunction_function.arn"}) {
		t.Errorf("the scheduler's role may %v, want lambda:InvokeFunction on the function alone", got)
	}
	// The first run must find the role able to invoke the function.
	schedule := s.only(t, "aws_scheduler_schedule", "name", "shop-dev-reminders")
	if deps := schedule["depends_on"].([]any); len(deps) != 1 || !strings.HasPrefix(deps[0].(string), "aws_iam_role_policy.Reminders_policy_") {
		t.Errorf("depends_on = %v", deps)
	}
}

func TestAScheduledFunctionScansOnlyTheIndexItIsLinkedTo(t *testing.T) {
	policy := stackFor(t, "dev").only(t, "aws_iam_role_policy", "name", "shop-dev-reminders")
	var dynamo []string
	for _, g := range grants(t, policy["policy"]) {
		if strings.HasPrefix(g, "dynamodb:") {
			dynamo = append(dynamo, g)
		}
	}
	if want := []string{"dynamodb:GetItem Orders_table.arn", "dynamodb:Scan Orders_table.arn/index/ByCustomer"}; !reflect.DeepEqual(dynamo, want) {
		t.Errorf("grants = %v", dynamo)
	}
}

func TestTheTopologyNamesEachScheduleAndItsFunction(t *testing.T) {
	stack := scratchStack(t)
	if _, err := NewScheduledFunction(stack, "Nightly", ScheduleProps{Every: time.Hour, Function: FunctionProps{Package: "./constructs/testdata/echo"}}); err != nil {
		t.Fatal(err)
	}
	got := stack.Topology().Schedules
	if len(got) != 1 || got[0].Function != stack.ResourceName("nightly") || got[0].EverySeconds != 3600 {
		t.Errorf("schedules = %+v", got)
	}
}

func TestAScheduleRefusesARateEventBridgeCannotKeep(t *testing.T) {
	stack := scratchStack(t)
	fn := FunctionProps{Package: "./constructs/testdata/echo"}
	for _, tc := range []struct {
		name  string
		every time.Duration
	}{
		{"no rate", 0},
		{"less than a minute", 30 * time.Second},
		{"a part of a minute", 90 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewScheduledFunction(stack, "Job"+strings.ReplaceAll(tc.name, " ", ""), ScheduleProps{Every: tc.every, Function: fn})
			if err == nil || !strings.Contains(err.Error(), "whole minutes, at least one") {
				t.Errorf("NewScheduledFunction(Every %s) = %v", tc.every, err)
			}
		})
	}
}

func TestRateExpressionsNameTheirUnit(t *testing.T) {
	for every, want := range map[time.Duration]string{time.Minute: "rate(1 minute)", 5 * time.Minute: "rate(5 minutes)", time.Hour: "rate(60 minutes)"} {
		if got, err := rateExpression(every); err != nil || got != want {
			t.Errorf("rateExpression(%s) = %q, %v; want %q", every, got, err, want)
		}
	}
}
