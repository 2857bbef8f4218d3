package constructs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/schedulerschedule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/schedulerschedulegroup"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/personabackend/app/topology"
)

// ScheduleProps describes a function run at a fixed rate.
type ScheduleProps struct {
	// Every is the time between runs: whole minutes, at least one.
	Every time.Duration
	// Function is what each run invokes, with the event {}.
	Function FunctionProps
}

// ScheduledFunction is a Go function that EventBridge Scheduler invokes every Every.
type ScheduledFunction struct {
	function *GoFunction
	every    time.Duration
}

// NewScheduledFunction declares the function and its schedule. The schedule sits in a
// schedule group of its own and invokes the function through a role of its own: only
// EventBridge Scheduler may assume it, only for schedules of that group in this account
// (the scope AWS's confused-deputy guidance gives a schedule's role), and it may invoke
// this function and nothing else. A run that cannot be delivered is retried until the
// next one is due, never later, so runs do not pile up.
func NewScheduledFunction(stack *Stack, id string, props ScheduleProps) (*ScheduledFunction, error) {
	expression, err := rateExpression(props.Every)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", id, err)
	}
	short := firstNonEmpty(props.Function.Name, kebab(id))
	props.Function.Name = short
	// IAM role names are unique across the account's regions (Stack.GlobalName).
	roleName := stack.GlobalName(short + "-scheduler")
	if len(roleName) > 64 {
		return nil, fmt.Errorf("schedule %s: role name %q is longer than IAM's 64 characters: shorten the function or stage name", id, roleName)
	}
	function, err := NewGoFunction(stack, stack.derive(id, "Function"), props.Function)
	if err != nil {
		return nil, fmt.Errorf("schedule %s: %w", id, err)
	}
	name := stack.ResourceName(short)
	scope := stack.scope(id)
	group := schedulerschedulegroup.NewSchedulerScheduleGroup(scope, jsii.String("group"), &schedulerschedulegroup.SchedulerScheduleGroupConfig{
		Name: jsii.String(name),
	})
	trust, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Action":    "sts:AssumeRole",
			"Principal": map[string]string{"Service": "scheduler.amazonaws.com"},
			"Condition": map[string]any{
				"StringEquals": map[string]string{"aws:SourceAccount": stack.accountID()},
				"ArnEquals":    map[string]string{"aws:SourceArn": *group.Arn()},
			},
		}},
	})
	if err != nil {
		return nil, err
	}
	// A renamed role is made anew, and the schedule moved onto it, before the old one goes.
	role := iamrole.NewIamRole(scope, jsii.String("role"), &iamrole.IamRoleConfig{
		Name:             jsii.String(roleName),
		AssumeRolePolicy: jsii.String(string(trust)),
		Lifecycle:        createBeforeDestroy(),
	})
	target := ARN{Expr: function.Arn(), Service: "lambda", Resource: "function:" + function.Name()}
	invoke, err := json.Marshal(policyDocument([]Statement{{Actions: []string{"lambda:InvokeFunction"}, Resources: []ARN{target}}}))
	if err != nil {
		return nil, err
	}
	// A role's inline policy is named within the role, so the schedule's name does.
	policy := iamrolepolicy.NewIamRolePolicy(scope, jsii.String("policy"), &iamrolepolicy.IamRolePolicyConfig{
		Name:      jsii.String(name + "-scheduler"),
		Role:      role.Id(),
		Policy:    jsii.String(string(invoke)),
		Lifecycle: createBeforeDestroy(),
	})
	schedulerschedule.NewSchedulerSchedule(scope, jsii.String("schedule"), &schedulerschedule.SchedulerScheduleConfig{
		Name:               jsii.String(name),
		GroupName:          group.Name(),
		ScheduleExpression: jsii.String(expression),
		FlexibleTimeWindow: &schedulerschedule.SchedulerScheduleFlexibleTimeWindow{Mode: jsii.String("OFF")},
		Target: &schedulerschedule.SchedulerScheduleTarget{
			Arn:     jsii.String(function.Arn()),
			RoleArn: role.Arn(),
			Input:   jsii.String("{}"),
			RetryPolicy: &schedulerschedule.SchedulerScheduleTargetRetryPolicy{
				MaximumEventAgeInSeconds: jsii.Number(max(props.Every.Seconds(), 60)),
				MaximumRetryAttempts:     jsii.Number(3),
			},
		},
		// The first run would fail if the role could not yet invoke the function.
		DependsOn: &[]cdktf.ITerraformDependable{policy},
	})
	stack.topo.Schedules = append(stack.topo.Schedules, topology.Schedule{
		Function: function.Name(), EverySeconds: int(props.Every.Seconds()),
	})
	return &ScheduledFunction{function: function, every: props.Every}, nil
}

// rateExpression is EventBridge Scheduler's rate expression for every: whole minutes.
func rateExpression(every time.Duration) (string, error) {
	if every < time.Minute || every%time.Minute != 0 {
		return "", fmt.Errorf("Every %s: give whole minutes, at least one (EventBridge Scheduler's rate)", every)
	}
	minutes := int(every / time.Minute)
	if minutes == 1 {
		return "rate(1 minute)", nil
	}
	return fmt.Sprintf("rate(%d minutes)", minutes), nil
}

// Function is the function the schedule runs.
func (s *ScheduledFunction) Function() *GoFunction { return s.function }

// Every is the time between runs.
func (s *ScheduledFunction) Every() time.Duration { return s.every }
