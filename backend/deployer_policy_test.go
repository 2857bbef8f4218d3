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
// policy has it, and the action that creates it.
var namedARNs = map[string]struct{ attribute, arn, create string }{
	"aws_dynamodb_table":       {"name", "arn:aws:dynamodb:us-east-1:*:table/NAME", "dynamodb:CreateTable"},
	"aws_iam_role":             {"name", "arn:aws:iam::*:role/NAME", "iam:CreateRole"},
	"aws_lambda_function":      {"function_name", "arn:aws:lambda:us-east-1:*:function:NAME", "lambda:CreateFunction"},
	"aws_cloudwatch_log_group": {"name", "arn:aws:logs:us-east-1:*:log-group:NAME", "logs:CreateLogGroup"},
	"aws_sqs_queue":            {"name", "arn:aws:sqs:us-east-1:*:NAME", "sqs:CreateQueue"},
	"aws_sns_topic":            {"name", "arn:aws:sns:us-east-1:*:NAME", "sns:CreateTopic"},
	"aws_cloudfront_function":  {"name", "arn:aws:cloudfront::*:function/NAME", "cloudfront:CreateFunction"},
	"aws_s3_bucket":            {"bucket_prefix", "arn:aws:s3:::NAMEgenerated", "s3:CreateBucket"},
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

func TestTheDeployerMayPassOnlyTheFunctionsRolesAndOnlyToLambda(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	policy := stagePolicy(t, "persona-dev")
	var passes []deployerpolicy.Statement
	for _, s := range policy.Statement {
		if slices.Contains(s.Action, "iam:PassRole") {
			passes = append(passes, s)
		}
	}
	// The roles the stack's functions run with, by their names in the stack.
	resources := stacks["persona-dev"].doc["resource"].(map[string]any)
	roles := resources["aws_iam_role"].(map[string]any)
	var want []string
	for _, fn := range resources["aws_lambda_function"].(map[string]any) {
		ref := fn.(map[string]any)["role"].(string)
		address := strings.TrimSuffix(strings.TrimPrefix(ref, "${aws_iam_role."), ".arn}")
		want = append(want, "arn:aws:iam::*:role/"+roles[address].(map[string]any)["name"].(string))
	}
	slices.Sort(want)
	if len(want) != 4 || len(passes) != 1 || !slices.Equal(passes[0].Resource, want) || len(passes[0].Action) != 1 ||
		passes[0].Condition["StringEquals"]["iam:PassedToService"][0] != "lambda.amazonaws.com" {
		t.Errorf("iam:PassRole is granted by %+v, want once, on the 4 functions' roles %v, to lambda.amazonaws.com only", passes, want)
	}
}
