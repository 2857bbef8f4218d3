// Package deployerpolicy derives the least-privilege IAM policy of a stage's deployer,
// the identity that runs deploy and remove, from the stage's synthesized stack: the
// actions each of its resource types needs (constructs.DeployPermissions), scoped to
// the stage's resources, plus its Terraform state and the secrets check deploy makes.
package deployerpolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/personabackend/app/cli/terraform"
	"github.com/personabackend/app/constructs"
)

// Policy is an IAM policy document, as aws iam put-role-policy and Terraform take it.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Policy.
type Statement struct {
	Sid       string                         `json:"Sid"`
	Effect    string                         `json:"Effect"`
	Action    []string                       `json:"Action"`
	Resource  []string                       `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
	// Unscoped says why the statement's resource is "*": its actions take no resource
	// (AWS's Service Authorization Reference names no resource type for them).
	Unscoped string `json:"-"`
}

// Actions returns the policy's distinct actions, sorted.
func (p *Policy) Actions() []string {
	set := map[string]bool{}
	for _, s := range p.Statement {
		for _, a := range s.Action {
			set[a] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// Size is the policy's length as IAM counts it against its quotas: without whitespace.
func (p *Policy) Size() int {
	data, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("encoding a policy of strings cannot fail: %v", err))
	}
	return len(data)
}

// Quotas on a policy's size, in characters without whitespace.
const (
	InlineRolePolicyQuota = 10240 // all of a role's inline policies together
	ManagedPolicyQuota    = 6144
)

// Stack is the synthesized stage a policy is derived for.
type Stack struct {
	Dir   string // the stack's folder, holding cdk.tf.json
	App   string // the app's name: every resource's name starts with "<app>-<stage>-"
	Stage string
	// SecretParameters are the SSM parameters deploy's secrets check reads (values
	// never decrypted), own and fallback.
	SecretParameters []string
	// Account is the AWS account's ID; empty for none known, and ARNs then hold "*".
	Account string
}

// Build derives the deployer's policy for stack. It fails naming any resource type or
// action it cannot scope, rather than granting it on every resource.
func Build(stack Stack) (*Policy, error) {
	doc, err := terraform.ReadConfig(stack.Dir)
	if err != nil {
		return nil, err
	}
	if doc.Region() == "" {
		return nil, fmt.Errorf("the stack in %s configures no AWS provider region", stack.Dir)
	}
	fill := filler(stack, doc.Region())
	perms, err := constructs.DeployPermissions(doc.Types()...)
	if err != nil {
		return nil, err
	}
	actions := map[string]map[string]bool{} // by kind
	var unscopable []string
	for _, p := range perms {
		for _, action := range p.Actions {
			kind, ok := actionKinds[action]
			if action == "iam:PassRole" {
				kind, ok = passRoleKind(p.Type)
			}
			if !ok {
				kind, ok = typeKinds[p.Type]
			}
			if !ok {
				unscopable = append(unscopable, action+" ("+p.Type+")")
				continue
			}
			if actions[kind] == nil {
				actions[kind] = map[string]bool{}
			}
			actions[kind][action] = true
		}
	}
	if len(unscopable) > 0 {
		return nil, fmt.Errorf("no resource scope is known for %s: add each to the kinds of package deployerpolicy", strings.Join(unscopable, ", "))
	}
	policy := &Policy{Version: "2012-10-17"}
	for _, k := range kinds {
		if len(actions[k.sid]) == 0 {
			continue
		}
		s := Statement{Sid: k.sid, Effect: "Allow", Action: slices.Sorted(maps.Keys(actions[k.sid])), Unscoped: k.unscoped}
		switch {
		case k.unscoped != "":
			s.Resource = []string{"*"}
		case k.passedBy != "":
			s.Resource = passedRoles(doc, fill, k.passedBy, k.roleArgument)
		default:
			s.Resource = fillAll(fill, k.resources)
		}
		if len(k.condition) > 0 {
			s.Condition = map[string]map[string][]string{k.condition[0]: {k.condition[1]: {fill(k.condition[2])}}}
		}
		policy.Statement = append(policy.Statement, s)
	}
	policy.Statement = append(policy.Statement, secretStatements(stack, fill)...)
	backend, err := doc.Backend()
	if err != nil {
		return nil, err
	}
	state, err := stateStatements(backend, doc.Region(), stack.Account)
	if err != nil {
		return nil, err
	}
	policy.Statement = append(policy.Statement, state...)
	for _, a := range policy.Actions() {
		if strings.Contains(a, "*") {
			return nil, fmt.Errorf("the deployer policy would grant %q: a wildcard action is never granted", a)
		}
	}
	return policy, nil
}

// kind is a group of resources the deployer acts on; each is one statement.
type kind struct {
	sid string
	// resources are ARN templates holding {partition}, {region}, {account} and {prefix}
	// ("<app>-<stage>").
	resources []string
	// unscoped, when set, says why the kind's actions take Resource "*".
	unscoped string
	// condition, when set, is an operator, a key and a value template.
	condition []string
	// passedBy, when set, makes the kind's statement iam:PassRole on the roles that
	// resources of this type name in roleArgument (a path into their block): a type
	// that hands a role to an AWS service has a statement of its own, for that service.
	passedBy     string
	roleArgument []string
}

// kinds are the statements of a policy, in the order it lists them.
var kinds = []kind{
	{sid: "DynamoDBTables", resources: []string{"arn:{partition}:dynamodb:{region}:{account}:table/{prefix}-*"}},
	{sid: "SNSTopics", resources: []string{"arn:{partition}:sns:{region}:{account}:{prefix}-*"}},
	{sid: "SNSSubscriptions", unscoped: "SNS authorizes GetSubscriptionAttributes, SetSubscriptionAttributes and Unsubscribe on no resource type"},
	{sid: "SQSQueues", resources: []string{"arn:{partition}:sqs:{region}:{account}:{prefix}-*"}},
	{sid: "IAMRoles", resources: []string{"arn:{partition}:iam::{account}:role/{prefix}-*"}},
	// The functions' execution roles only, handed to Lambda only.
	{sid: "PassFunctionRoles", passedBy: "aws_lambda_function", roleArgument: []string{"role"},
		condition: []string{"StringEquals", "iam:PassedToService", "lambda.amazonaws.com"}},
	// The schedules' roles only, handed to EventBridge Scheduler only.
	{sid: "PassScheduleRoles", passedBy: "aws_scheduler_schedule", roleArgument: []string{"target", "role_arn"},
		condition: []string{"StringEquals", "iam:PassedToService", "scheduler.amazonaws.com"}},
	// Cognito's email role, made the first time a pool sends email through SES.
	{sid: "CognitoEmailRole", resources: []string{"arn:{partition}:iam::{account}:role/aws-service-role/email.cognito-idp.amazonaws.com/AWSServiceRoleForAmazonCognitoIdpEmailService"},
		condition: []string{"StringEquals", "iam:AWSServiceName", "email.cognito-idp.amazonaws.com"}},
	{sid: "LambdaFunctions", resources: []string{"arn:{partition}:lambda:{region}:{account}:function:{prefix}-*"}},
	// Schedules are named within their group, and the stage names its groups.
	{sid: "SchedulerScheduleGroups", resources: []string{"arn:{partition}:scheduler:{region}:{account}:schedule-group/{prefix}-*"}},
	{sid: "SchedulerSchedules", resources: []string{"arn:{partition}:scheduler:{region}:{account}:schedule/{prefix}-*/*"}},
	// A mapping's ARN ends in a UUID Lambda chooses.
	{sid: "LambdaEventSourceMappings", resources: []string{"arn:{partition}:lambda:{region}:{account}:event-source-mapping:*"}},
	{sid: "CreateEventSourceMappings", unscoped: "CreateEventSourceMapping takes no resource; its condition keeps it to the stage's functions",
		condition: []string{"ArnLike", "lambda:FunctionArn", "arn:{partition}:lambda:{region}:{account}:function:{prefix}-*"}},
	// Function log groups (/aws/lambda/…) and API access log groups (/aws/apigateway/…,
	// /aws/vendedlogs/…), by the stage's name; the ":*" of a log stream matches too.
	{sid: "LogGroups", resources: []string{"arn:{partition}:logs:{region}:{account}:log-group:/aws/*/{prefix}-*"}},
	// DescribeLogGroups lists the region's log groups, as API Gateway's logging
	// permissions grant it.
	{sid: "ListLogGroups", resources: []string{"arn:{partition}:logs:{region}:{account}:log-group:*"}},
	{sid: "LogDelivery", unscoped: "the log delivery actions of API Gateway's access logging, and the account's CloudWatch Logs resource policy, have no resource type"},
	// API ids are chosen by API Gateway, which authorizes the HTTP method on the path.
	{sid: "APIGateway", resources: []string{"arn:{partition}:apigateway:{region}::/apis", "arn:{partition}:apigateway:{region}::/apis/*", "arn:{partition}:apigateway:{region}::/tags/*"}},
	// Pool ids are chosen by Cognito.
	{sid: "CognitoUserPools", resources: []string{"arn:{partition}:cognito-idp:{region}:{account}:userpool/*"}},
	{sid: "CreateUserPool", unscoped: "CreateUserPool takes no resource"},
	{sid: "S3Buckets", resources: []string{"arn:{partition}:s3:::{prefix}-*"}},
	{sid: "S3Objects", resources: []string{"arn:{partition}:s3:::{prefix}-*/*"}},
	// CloudFront chooses the ids of distributions, key value stores, origin access
	// controls and policies; functions are named.
	{sid: "CloudFrontDistributions", resources: []string{"arn:{partition}:cloudfront::{account}:distribution/*"}},
	{sid: "CloudFrontFunctions", resources: []string{"arn:{partition}:cloudfront::{account}:function/{prefix}-*"}},
	{sid: "CloudFrontKeyValueStores", resources: []string{"arn:{partition}:cloudfront::{account}:key-value-store/*"}},
	{sid: "CloudFrontOriginAccessControls", resources: []string{"arn:{partition}:cloudfront::{account}:origin-access-control/*"}},
	{sid: "CloudFrontResponseHeadersPolicies", resources: []string{"arn:{partition}:cloudfront::{account}:response-headers-policy/*"}},
	{sid: "CloudWatchAlarms", resources: []string{"arn:{partition}:cloudwatch:{region}:{account}:alarm:{prefix}-*"}},
	// Key ids are chosen by KMS; an alias names its key too.
	{sid: "KMSKeys", resources: []string{"arn:{partition}:kms:{region}:{account}:key/*"}},
	{sid: "KMSAliases", resources: []string{"arn:{partition}:kms:{region}:{account}:alias/{prefix}-*", "arn:{partition}:kms:{region}:{account}:key/*"}},
	{sid: "KMSWithoutResource", unscoped: "CreateKey and ListAliases take no resource"},
}

// typeKinds is where a resource type's actions apply, unless actionKinds says otherwise.
var typeKinds = map[string]string{
	"aws_dynamodb_table":                                 "DynamoDBTables",
	"aws_sns_topic":                                      "SNSTopics",
	"aws_sns_topic_subscription":                         "SNSTopics", // Subscribe and ListSubscriptionsByTopic act on the topic
	"aws_sqs_queue":                                      "SQSQueues",
	"aws_sqs_queue_policy":                               "SQSQueues",
	"aws_iam_role":                                       "IAMRoles",
	"aws_iam_role_policy":                                "IAMRoles",
	"aws_lambda_function":                                "LambdaFunctions",
	"aws_lambda_permission":                              "LambdaFunctions",
	"aws_lambda_event_source_mapping":                    "LambdaEventSourceMappings",
	"aws_scheduler_schedule_group":                       "SchedulerScheduleGroups",
	"aws_scheduler_schedule":                             "SchedulerSchedules",
	"aws_cloudwatch_log_group":                           "LogGroups",
	"aws_apigatewayv2_api":                               "APIGateway",
	"aws_apigatewayv2_authorizer":                        "APIGateway",
	"aws_apigatewayv2_integration":                       "APIGateway",
	"aws_apigatewayv2_route":                             "APIGateway",
	"aws_apigatewayv2_stage":                             "APIGateway",
	"aws_cognito_user_pool":                              "CognitoUserPools",
	"aws_cognito_user_pool_client":                       "CognitoUserPools",
	"aws_s3_bucket":                                      "S3Buckets",
	"aws_s3_bucket_ownership_controls":                   "S3Buckets",
	"aws_s3_bucket_policy":                               "S3Buckets",
	"aws_s3_bucket_public_access_block":                  "S3Buckets",
	"aws_s3_bucket_server_side_encryption_configuration": "S3Buckets",
	"aws_s3_object":                                      "S3Objects",
	"aws_cloudfront_distribution":                        "CloudFrontDistributions",
	"aws_cloudfront_function":                            "CloudFrontFunctions",
	"aws_cloudfront_key_value_store":                     "CloudFrontKeyValueStores",
	"aws_cloudfrontkeyvaluestore_key":                    "CloudFrontKeyValueStores",
	"aws_cloudfront_origin_access_control":               "CloudFrontOriginAccessControls",
	"aws_cloudfront_response_headers_policy":             "CloudFrontResponseHeadersPolicies",
	"aws_cloudwatch_metric_alarm":                        "CloudWatchAlarms",
	"aws_kms_key":                                        "KMSKeys",
	"aws_kms_alias":                                      "KMSAliases",
}

// actionKinds are the actions that apply elsewhere than their type's resources.
var actionKinds = map[string]string{
	"iam:CreateServiceLinkedRole":     "CognitoEmailRole",
	"lambda:CreateEventSourceMapping": "CreateEventSourceMappings",
	"sns:GetSubscriptionAttributes":   "SNSSubscriptions",
	"sns:SetSubscriptionAttributes":   "SNSSubscriptions",
	"sns:Unsubscribe":                 "SNSSubscriptions",
	"logs:CreateLogGroup":             "LogGroups", // also among an API stage's logging permissions
	"logs:DescribeLogGroups":          "ListLogGroups",
	"logs:CreateLogDelivery":          "LogDelivery",
	"logs:GetLogDelivery":             "LogDelivery",
	"logs:UpdateLogDelivery":          "LogDelivery",
	"logs:DeleteLogDelivery":          "LogDelivery",
	"logs:ListLogDeliveries":          "LogDelivery",
	"logs:PutResourcePolicy":          "LogDelivery",
	"logs:DescribeResourcePolicies":   "LogDelivery",
	"cognito-idp:CreateUserPool":      "CreateUserPool",
	// A bucket is emptied before it is deleted: its objects' actions act on objects.
	"s3:GetObject":           "S3Objects",
	"s3:PutObject":           "S3Objects",
	"s3:DeleteObject":        "S3Objects",
	"s3:DeleteObjectVersion": "S3Objects",
	"s3:GetObjectTagging":    "S3Objects",
	"s3:PutObjectTagging":    "S3Objects",
	"kms:CreateKey":          "KMSWithoutResource",
	"kms:ListAliases":        "KMSWithoutResource",
	// Deleting a group deletes its schedules.
	"scheduler:DeleteSchedule": "SchedulerSchedules",
}

// secretStatements let deploy's check see which secrets are set: GetParameters on the
// stage's parameters, never kms:Decrypt.
func secretStatements(stack Stack, fill func(string) string) []Statement {
	if len(stack.SecretParameters) == 0 {
		return nil
	}
	var arns []string
	for _, p := range stack.SecretParameters {
		arns = append(arns, fill("arn:{partition}:ssm:{region}:{account}:parameter/"+strings.TrimPrefix(p, "/")))
	}
	return []Statement{{Sid: "SecretsCheck", Effect: "Allow", Action: []string{"ssm:GetParameters"}, Resource: arns}}
}

// stateStatements let terraform use an S3 backend: the stage's state object (and its
// lock file, when it locks with one), listing the bucket where terraform looks for it and
// for workspaces, and the stage's rows of the DynamoDB lock table (the lock,
// "<bucket>/<key>", and the state's checksum, "<bucket>/<key>-md5"). A local state file
// needs none.
func stateStatements(b terraform.Backend, stackRegion, account string) ([]Statement, error) {
	switch b.Type {
	case "local":
		return nil, nil
	case "s3":
	default:
		return nil, fmt.Errorf("the stack keeps its state in a %s backend, which the deployer policy does not know", b.Type)
	}
	bucket, key, region, table := b.Setting("bucket"), b.Setting("key"), b.Setting("region"), b.Setting("dynamodb_table")
	if bucket == "" || key == "" {
		return nil, errors.New("the stack's S3 backend names no bucket or key")
	}
	if region == "" {
		region = stackRegion
	}
	partition := Partition(region)
	objects := []string{fmt.Sprintf("arn:%s:s3:::%s/%s", partition, bucket, key)}
	if b.Settings["use_lockfile"] == true {
		objects = append(objects, objects[0]+".tflock")
	}
	statements := []Statement{
		{Sid: "StateObject", Effect: "Allow", Action: []string{"s3:DeleteObject", "s3:GetObject", "s3:PutObject"}, Resource: objects},
		{Sid: "StateList", Effect: "Allow", Action: []string{"s3:ListBucket"},
			Resource:  []string{fmt.Sprintf("arn:%s:s3:::%s", partition, bucket)},
			Condition: map[string]map[string][]string{"StringLike": {"s3:prefix": {"env:/*", pathDir(key) + "*"}}}},
	}
	if table != "" {
		lock := bucket + "/" + key
		statements = append(statements, Statement{Sid: "StateLock", Effect: "Allow",
			Action:    []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"},
			Resource:  []string{fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", partition, region, orAny(account), table)},
			Condition: map[string]map[string][]string{"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": {lock, lock + "-md5"}}}})
	}
	return statements, nil
}

// pathDir is the folder of an object key, with its slash: "persona/dev/".
func pathDir(key string) string {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i+1]
	}
	return ""
}

func orAny(account string) string {
	if account == "" {
		return "*"
	}
	return account
}

// Partition returns the AWS partition a region belongs to, as ARNs name it.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// filler returns a function that fills in an ARN template's placeholders.
func filler(stack Stack, region string) func(string) string {
	r := strings.NewReplacer("{partition}", Partition(region), "{region}", region, "{account}", orAny(stack.Account),
		"{prefix}", stack.App+"-"+stack.Stage)
	return r.Replace
}

func fillAll(fill func(string) string, templates []string) []string {
	out := make([]string, len(templates))
	for i, t := range templates {
		out[i] = fill(t)
	}
	return out
}

// passRoleKind returns the kind whose statement lets resources of typ pass their roles.
func passRoleKind(typ string) (string, bool) {
	for _, k := range kinds {
		if k.passedBy == typ {
			return k.sid, true
		}
	}
	return "", false
}

// passedRoles returns the ARNs of the roles that the stack's resources of type typ
// name in argument (a path into their blocks): by name where the stack names the
// role, else every role of the stage.
func passedRoles(stack *terraform.Config, fill func(string) string, typ string, argument []string) []string {
	set := map[string]bool{}
	for _, block := range stack.Resources(typ) {
		ref, _ := argumentAt(block, argument).(string)
		refType, role, ok := stack.Referenced(ref)
		name, named := terraform.Literal(role, "name")
		if !ok || refType != "aws_iam_role" || !named {
			set[fill("arn:{partition}:iam::{account}:role/{prefix}-*")] = true
			continue
		}
		set[fill("arn:{partition}:iam::{account}:role/")+name] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// argumentAt returns the argument at path in a block, through nested blocks, which
// Terraform JSON writes as an object or as a list of one; nil when there is none.
func argumentAt(block map[string]any, path []string) any {
	var v any = block
	for _, name := range path {
		if list, ok := v.([]any); ok && len(list) == 1 {
			v = list[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[name]
	}
	return v
}
