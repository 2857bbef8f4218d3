package constructs

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DeployPermission is what the deployer, the identity that runs terraform plan, apply
// and destroy on a stack, needs for one resource or data source type the constructs
// declare: the IAM actions the AWS provider 5.84 calls to create, read, update, tag
// and delete it, configured as the constructs configure it (every resource is tagged
// through the provider's default tags, so tagging on create is always needed).
//
// The lists name actions only; which resources they apply to is the policy's to
// scope, from the stack's names and ARNs (Stack.ResourceName, Stack.GlobalName).
type DeployPermission struct {
	// Type is the Terraform type, e.g. "aws_sqs_queue", or "data.aws_partition" for a
	// data source.
	Type string
	// Actions are IAM actions, "service:Action", sorted; never a wildcard.
	Actions []string
	// Why explains, by action, the actions that are not the type's own create, read,
	// update, delete and tag calls, and how to scope them.
	Why map[string]string
}

// DeployPermissions returns the deployer's permissions for each type, in the order
// given, or an error naming the types no construct declares: a stack that holds one
// was not made by these constructs, or a construct gained a type without its entry.
func DeployPermissions(types ...string) ([]DeployPermission, error) {
	var out []DeployPermission
	var unknown []string
	for _, t := range types {
		p, ok := deployPermissions[t]
		if !ok {
			unknown = append(unknown, t)
			continue
		}
		p.Type = t
		p.Actions = slices.Sorted(slices.Values(p.Actions))
		p.Why = maps.Clone(p.Why)
		out = append(out, p)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("no deploy permissions are known for %s: add each to deployPermissions in constructs/deploy_actions.go", strings.Join(unknown, ", "))
	}
	return out, nil
}

// DeployPermissionTypes lists every type DeployPermissions knows, sorted: the
// resource and data source types the constructs can declare.
func DeployPermissionTypes() []string {
	return slices.Sorted(maps.Keys(deployPermissions))
}

// apiGatewayActions are API Gateway's: it authorizes by the HTTP method of each
// management call on the resource's path (/apis/<id>/…; tags on /tags/<arn>).
var apiGatewayActions = []string{"apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST"}

var deployPermissions = map[string]DeployPermission{
	// It calls sts:GetCallerIdentity, which every identity may call.
	"data.aws_caller_identity": {},
	"data.aws_partition":       {},

	"aws_dynamodb_table": {Actions: []string{
		"dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable",
		"dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
		"dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive",
		"dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource",
	}},

	"aws_sns_topic": {Actions: []string{
		"sns:CreateTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:DeleteTopic",
		"sns:ListTagsForResource", "sns:TagResource", "sns:UntagResource",
	}},
	"aws_sns_topic_subscription": {Actions: []string{
		"sns:Subscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe",
		"sns:ListSubscriptionsByTopic",
	}, Why: map[string]string{
		"sns:ListSubscriptionsByTopic": "finds an email subscription that is still pending confirmation, which has no ARN yet",
	}},
	"aws_sqs_queue": {Actions: []string{
		"sqs:CreateQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:DeleteQueue",
		"sqs:ListQueueTags", "sqs:TagQueue", "sqs:UntagQueue",
	}},
	"aws_sqs_queue_policy": {Actions: []string{"sqs:GetQueueAttributes", "sqs:SetQueueAttributes"}},

	"aws_iam_role": {Actions: []string{
		"iam:CreateRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole",
		"iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
		"iam:ListRoleTags", "iam:TagRole", "iam:UntagRole",
	}, Why: map[string]string{
		"iam:ListRolePolicies":            "the provider reads a role's inline and attached policies, and removes them before deleting it",
		"iam:GetRolePolicy":               "the provider reads a role's inline policies",
		"iam:ListAttachedRolePolicies":    "the provider reads a role's attached policies",
		"iam:ListInstanceProfilesForRole": "the provider detaches a role from instance profiles before deleting it",
	}},
	"aws_iam_role_policy": {Actions: []string{"iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"}},

	"aws_lambda_function": {Actions: []string{
		"lambda:CreateFunction", "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig",
		"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction",
		"lambda:ListVersionsByFunction", "lambda:ListTags", "lambda:TagResource", "lambda:UntagResource",
		"iam:PassRole",
	}, Why: map[string]string{
		"iam:PassRole":                        "hands the function its execution role: scope it to the stack's roles, with the condition iam:PassedToService = lambda.amazonaws.com",
		"lambda:GetFunctionCodeSigningConfig": "the provider reads it with every function",
		"lambda:ListVersionsByFunction":       "the provider reads the function's latest version",
	}},
	"aws_lambda_permission": {Actions: []string{"lambda:AddPermission", "lambda:GetPolicy", "lambda:RemovePermission"}},
	"aws_lambda_event_source_mapping": {Actions: []string{
		"lambda:CreateEventSourceMapping", "lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping",
		"lambda:ListTags", "lambda:TagResource", "lambda:UntagResource",
	}},

	// EventBridge Scheduler tags schedule groups alone, never a schedule.
	"aws_scheduler_schedule_group": {Actions: []string{
		"scheduler:CreateScheduleGroup", "scheduler:GetScheduleGroup", "scheduler:DeleteScheduleGroup",
		"scheduler:DeleteSchedule",
		"scheduler:ListTagsForResource", "scheduler:TagResource", "scheduler:UntagResource",
	}, Why: map[string]string{
		"scheduler:DeleteSchedule": "deleting a group deletes its schedules, which EventBridge Scheduler authorizes as DeleteSchedule on each",
	}},
	"aws_scheduler_schedule": {Actions: []string{
		"scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule",
		"iam:PassRole",
	}, Why: map[string]string{
		"iam:PassRole": "hands the schedule the role it invokes its target with: scope it to the schedules' roles, with the condition iam:PassedToService = scheduler.amazonaws.com",
	}},

	"aws_cloudwatch_log_group": {Actions: []string{
		"logs:CreateLogGroup", "logs:DescribeLogGroups", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:DeleteLogGroup",
		"logs:ListTagsForResource", "logs:TagResource", "logs:UntagResource",
	}},

	"aws_apigatewayv2_api":         {Actions: apiGatewayActions},
	"aws_apigatewayv2_integration": {Actions: apiGatewayActions},
	"aws_apigatewayv2_route":       {Actions: apiGatewayActions},
	"aws_apigatewayv2_authorizer":  {Actions: apiGatewayActions},
	"aws_apigatewayv2_stage": {Actions: append(slices.Clone(apiGatewayActions),
		"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
		"logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups", "logs:CreateLogGroup",
	), Why: map[string]string{
		"logs:CreateLogDelivery":        "the stage's access logs are a vended log delivery to its log group (API Gateway's HTTP API logging permissions); the log delivery actions take Resource \"*\"",
		"logs:GetLogDelivery":           "reads the access log delivery",
		"logs:UpdateLogDelivery":        "changes the access log delivery",
		"logs:DeleteLogDelivery":        "removes the access log delivery",
		"logs:ListLogDeliveries":        "finds the access log delivery",
		"logs:PutResourcePolicy":        "lets API Gateway write to /aws/vendedlogs/ groups, through the account's CloudWatch Logs resource policy; give it on log-group:* as AWS asks",
		"logs:DescribeResourcePolicies": "reads that resource policy; give it on log-group:*",
		"logs:DescribeLogGroups":        "checks the access log group; give it on log-group:*",
		"logs:CreateLogGroup":           "API Gateway's documented logging permissions include it, for a group that does not exist yet",
	}},

	"aws_cognito_user_pool": {Actions: []string{
		"cognito-idp:CreateUserPool", "cognito-idp:DescribeUserPool", "cognito-idp:UpdateUserPool", "cognito-idp:DeleteUserPool",
		"cognito-idp:GetUserPoolMfaConfig", "cognito-idp:SetUserPoolMfaConfig",
		"cognito-idp:ListTagsForResource", "cognito-idp:TagResource", "cognito-idp:UntagResource",
		"iam:CreateServiceLinkedRole",
	}, Why: map[string]string{
		"iam:CreateServiceLinkedRole": "a pool that sends email through SES (Stage.EmailSender) creates Cognito's email role the first time in the account: scope it with the condition iam:AWSServiceName = email.cognito-idp.amazonaws.com, or leave it out on stages without a sender",
	}},
	"aws_cognito_user_pool_client": {Actions: []string{
		"cognito-idp:CreateUserPoolClient", "cognito-idp:DescribeUserPoolClient", "cognito-idp:UpdateUserPoolClient", "cognito-idp:DeleteUserPoolClient",
	}},

	// The provider reads every bucket setting it has ever had an argument for: each
	// Get below is one of those reads.
	"aws_s3_bucket": {Actions: []string{
		"s3:CreateBucket", "s3:ListBucket", "s3:DeleteBucket",
		"s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration",
		"s3:GetBucketRequestPayment", "s3:GetBucketLogging", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
		"s3:GetEncryptionConfiguration", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketPolicy",
		"s3:GetBucketTagging", "s3:PutBucketTagging",
		"s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion",
	}, Why: map[string]string{
		"s3:ListBucketVersions":  "an unprotected stage's site bucket is emptied before it is deleted (force_destroy)",
		"s3:DeleteObject":        "an unprotected stage's site bucket is emptied before it is deleted (force_destroy)",
		"s3:DeleteObjectVersion": "an unprotected stage's site bucket is emptied before it is deleted (force_destroy)",
	}},
	"aws_s3_bucket_public_access_block":                  {Actions: []string{"s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"}},
	"aws_s3_bucket_ownership_controls":                   {Actions: []string{"s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls"}},
	"aws_s3_bucket_server_side_encryption_configuration": {Actions: []string{"s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"}},
	"aws_s3_bucket_policy":                               {Actions: []string{"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"}},
	"aws_s3_object": {Actions: []string{
		"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:GetObjectTagging", "s3:PutObjectTagging",
	}},

	"aws_cloudfront_distribution": {Actions: []string{
		"cloudfront:CreateDistribution", "cloudfront:GetDistribution", "cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution",
		"cloudfront:ListTagsForResource", "cloudfront:TagResource", "cloudfront:UntagResource",
	}},
	"aws_cloudfront_origin_access_control": {Actions: []string{
		"cloudfront:CreateOriginAccessControl", "cloudfront:GetOriginAccessControl", "cloudfront:UpdateOriginAccessControl", "cloudfront:DeleteOriginAccessControl",
	}},
	"aws_cloudfront_response_headers_policy": {Actions: []string{
		"cloudfront:CreateResponseHeadersPolicy", "cloudfront:GetResponseHeadersPolicy", "cloudfront:UpdateResponseHeadersPolicy", "cloudfront:DeleteResponseHeadersPolicy",
	}},
	"aws_cloudfront_function": {Actions: []string{
		"cloudfront:CreateFunction", "cloudfront:DescribeFunction", "cloudfront:GetFunction", "cloudfront:UpdateFunction",
		"cloudfront:PublishFunction", "cloudfront:DeleteFunction",
	}},
	"aws_cloudfront_key_value_store": {Actions: []string{
		"cloudfront:CreateKeyValueStore", "cloudfront:DescribeKeyValueStore", "cloudfront:UpdateKeyValueStore", "cloudfront:DeleteKeyValueStore",
	}},
	"aws_cloudfrontkeyvaluestore_key": {Actions: []string{
		"cloudfront-keyvaluestore:DescribeKeyValueStore", "cloudfront-keyvaluestore:GetKey", "cloudfront-keyvaluestore:PutKey", "cloudfront-keyvaluestore:DeleteKey",
	}},

	"aws_cloudwatch_metric_alarm": {Actions: []string{
		"cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms",
		"cloudwatch:ListTagsForResource", "cloudwatch:TagResource", "cloudwatch:UntagResource",
	}},
	"aws_kms_key": {Actions: []string{
		"kms:CreateKey", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:UpdateKeyDescription",
		"kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion",
		"kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
	}},
	"aws_kms_alias": {Actions: []string{"kms:CreateAlias", "kms:ListAliases", "kms:UpdateAlias", "kms:DeleteAlias"}},
}
