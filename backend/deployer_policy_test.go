package backend

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/personabackend/app/cli/deployerpolicy"
	"github.com/personabackend/app/constructs"
)

// stagePolicy derives the deployer policy of a synthesized stack, for an unknown account.
func stagePolicy(t *testing.T, name string) *deployerpolicy.Policy {
	t.Helper()
	stage := strings.TrimPrefix(name, App+"-")
	policy, err := deployerpolicy.Build(deployerpolicy.Stack{
		Dir: stackDirs[name], App: App, Stage: stage,
		SecretParameters: []string{"/persona/" + stage + "/MyApiKey"},
	})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return policy
}

// stackTypes lists a stack's resource types and data sources ("data.aws_partition").
func stackTypes(doc map[string]any) []string {
	var types []string
	for typ := range doc["resource"].(map[string]any) {
		types = append(types, typ)
	}
	data, _ := doc["data"].(map[string]any)
	for typ := range data {
		types = append(types, "data."+typ)
	}
	slices.Sort(types)
	return types
}

func TestTheDeployerPolicyGrantsWhatEveryResourceTypeOfEachStageNeeds(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	for _, name := range slices.Sorted(maps.Keys(stacks)) {
		policy := stagePolicy(t, name)
		granted := map[string]bool{}
		for _, s := range policy.Statement {
			for _, a := range s.Action {
				granted[a] = true
			}
		}
		for _, typ := range stackTypes(stacks[name].doc) {
			perms, err := constructs.DeployPermissions(typ)
			if err != nil {
				t.Errorf("%s: resource type %s is not covered: %v", name, typ, err)
				continue
			}
			for _, action := range perms[0].Actions {
				if !granted[action] {
					t.Errorf("%s: resource type %s needs %s, which the deployer policy does not grant", name, typ, action)
				}
			}
		}
		t.Logf("%s: %d actions in %d statements, %d characters", name, len(policy.Actions()), len(policy.Statement), policy.Size())
	}
}

var serviceWildcard = regexp.MustCompile(`^[a-z0-9-]+:\*$`)

func TestTheDeployerPolicyGrantsNoWildcardActionAndEveryResourceOnlyWhereAWSNamesNone(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	for _, name := range slices.Sorted(maps.Keys(stacks)) {
		for _, s := range stagePolicy(t, name).Statement {
			for _, a := range s.Action {
				if a == "*" || serviceWildcard.MatchString(a) || strings.Contains(a, "*") {
					t.Errorf("%s: statement %s grants the wildcard action %q", name, s.Sid, a)
				}
			}
			if slices.Contains(s.Resource, "*") && s.Unscoped == "" {
				t.Errorf("%s: statement %s grants %v on every resource without saying why", name, s.Sid, s.Action)
			}
			if s.Unscoped != "" && !slices.Equal(s.Resource, []string{"*"}) {
				t.Errorf("%s: statement %s says its actions take no resource, yet names %v", name, s.Sid, s.Resource)
			}
		}
	}
}

// namedARNs build the ARN of a resource from its name, with "*" for the account as the
// policy has it, and the action that creates it. GROUP is a schedule's group's name.
var namedARNs = map[string]struct{ attribute, arn, create string }{
	"aws_dynamodb_table":       {"name", "arn:aws:dynamodb:us-east-1:*:table/NAME", "dynamodb:CreateTable"},
	"aws_iam_role":             {"name", "arn:aws:iam::*:role/NAME", "iam:CreateRole"},
	"aws_lambda_function":      {"function_name", "arn:aws:lambda:us-east-1:*:function:NAME", "lambda:CreateFunction"},
	"aws_cloudwatch_log_group": {"name", "arn:aws:logs:us-east-1:*:log-group:NAME", "logs:CreateLogGroup"},
	"aws_sqs_queue":            {"name", "arn:aws:sqs:us-east-1:*:NAME", "sqs:CreateQueue"},
	"aws_sns_topic":            {"name", "arn:aws:sns:us-east-1:*:NAME", "sns:CreateTopic"},
	"aws_cloudfront_function":  {"name", "arn:aws:cloudfront::*:function/NAME", "cloudfront:CreateFunction"},
	"aws_s3_bucket":            {"bucket_prefix", "arn:aws:s3:::NAMEgenerated", "s3:CreateBucket"},

	"aws_scheduler_schedule_group": {"name", "arn:aws:scheduler:us-east-1:*:schedule-group/NAME", "scheduler:CreateScheduleGroup"},
	"aws_scheduler_schedule":       {"name", "arn:aws:scheduler:us-east-1:*:schedule/GROUP/NAME", "scheduler:CreateSchedule"},
}

// referencedName returns the name of the resource a reference such as
// "${aws_scheduler_schedule_group.Sweep_group_C86118AE.name}" names, in a stack's resources.
func referencedName(resources map[string]any, reference string) string {
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(reference, "${"), "}"), ".")
	if len(parts) != 3 || parts[2] != "name" {
		return ""
	}
	blocks, _ := resources[parts[0]].(map[string]any)
	block, _ := blocks[parts[1]].(map[string]any)
	name, _ := block["name"].(string)
	return name
}

// iamMatch reports whether an IAM resource pattern matches an ARN: * is any run of
// characters, ? any one.
func iamMatch(pattern, arn string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(arn)
}

func TestTheDeployerPolicyScopesEachNamedResourceByTheStagesNames(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	for _, name := range slices.Sorted(maps.Keys(stacks)) {
		policy := stagePolicy(t, name)
		resources := stacks[name].doc["resource"].(map[string]any)
		for typ, named := range namedARNs {
			blocks, _ := resources[typ].(map[string]any)
			for address, block := range blocks {
				value, _ := block.(map[string]any)[named.attribute].(string)
				if value == "" || strings.Contains(value, "${") {
					t.Errorf("%s: %s.%s has no literal %s to scope it by", name, typ, address, named.attribute)
					continue
				}
				arn := strings.Replace(named.arn, "NAME", value, 1)
				if strings.Contains(arn, "GROUP") {
					reference, _ := block.(map[string]any)["group_name"].(string)
					group := referencedName(resources, reference)
					if group == "" {
						t.Errorf("%s: %s.%s names its group by %q, not a group's name", name, typ, address, reference)
						continue
					}
					arn = strings.Replace(arn, "GROUP", group, 1)
				}
				covered := false
				for _, s := range policy.Statement {
					if slices.Contains(s.Action, named.create) && s.Unscoped == "" {
						covered = covered || slices.ContainsFunc(s.Resource, func(p string) bool { return iamMatch(p, arn) })
					}
				}
				if !covered {
					t.Errorf("%s: no statement grants %s on %s (%s.%s)", name, named.create, arn, typ, address)
				}
			}
		}
		other := strings.Replace(name, App+"-", App+"-other", 1)
		for _, s := range policy.Statement {
			for _, r := range s.Resource {
				if strings.Contains(r, App+"-") && iamMatch(r, strings.Replace(r, name, other, 1)) {
					t.Errorf("%s: statement %s's %s reaches another stage's resources too", name, s.Sid, r)
				}
			}
		}
	}
}

// roleUsers are the resource types that hand a role to an AWS service: the argument
// naming the role (a path into the block), the service, and how many the persona
// stack declares.
var roleUsers = map[string]struct {
	argument []string
	service  string
	count    int
}{
	"aws_lambda_function":    {[]string{"role"}, "lambda.amazonaws.com", 5},
	"aws_scheduler_schedule": {[]string{"target", "role_arn"}, "scheduler.amazonaws.com", 1},
}

func TestTheDeployerMayPassOnlyTheRolesOfFunctionsAndSchedulesEachOnlyToItsService(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	policy := stagePolicy(t, "persona-dev")
	passes := map[string]deployerpolicy.Statement{} // by the service they pass to
	for _, s := range policy.Statement {
		if !slices.Contains(s.Action, "iam:PassRole") {
			continue
		}
		services := s.Condition["StringEquals"]["iam:PassedToService"]
		if len(services) != 1 || len(s.Action) != 1 {
			t.Errorf("statement %s grants %v to %v, want iam:PassRole alone, to one service", s.Sid, s.Action, services)
			continue
		}
		if _, twice := passes[services[0]]; twice {
			t.Errorf("two statements pass roles to %s", services[0])
		}
		passes[services[0]] = s
	}
	// The roles each type's resources use, by their names in the stack.
	resources := stacks["persona-dev"].doc["resource"].(map[string]any)
	roles := resources["aws_iam_role"].(map[string]any)
	for typ, user := range roleUsers {
		var want []string
		for _, block := range resources[typ].(map[string]any) {
			var v any = block
			for _, name := range user.argument {
				v = v.(map[string]any)[name]
			}
			address := strings.TrimSuffix(strings.TrimPrefix(v.(string), "${aws_iam_role."), ".arn}")
			want = append(want, "arn:aws:iam::*:role/"+roles[address].(map[string]any)["name"].(string))
		}
		slices.Sort(want)
		if got := passes[user.service]; len(want) != user.count || !slices.Equal(got.Resource, want) {
			t.Errorf("roles passed to %s: %v, want the %d %s roles %v", user.service, got.Resource, user.count, typ, want)
		}
		delete(passes, user.service)
	}
	for service, s := range passes {
		t.Errorf("statement %s passes roles to %s, which no resource hands a role to", s.Sid, service)
	}
}
