package backend

// identity says, for one resource type, which of its arguments the golden files
// record: those whose change makes Terraform destroy and create the resource
// (ForceNew in the AWS provider 5.84's schema), and names AWS changes in place but
// that people and other systems find the resource by.
type identity struct {
	// stateful resources hold data that is lost with them: they must never lose
	// their address without a moved block (TestGoldenStatefulAddresses).
	stateful bool
	// replace lists the arguments whose change replaces the resource.
	replace []string
	// inPlace lists names that change without replacement.
	inPlace []string
	// keyAttributes records the attribute definitions of the table's hash and
	// range keys: DynamoDB cannot change a key's type in place.
	keyAttributes bool
}

// identities covers every resource type the stacks declare. A type missing here
// fails the golden test: add it with the arguments its provider schema marks
// ForceNew (or RequiresReplace), and say whether it holds data.
var identities = map[string]identity{
	"aws_dynamodb_table":              {stateful: true, replace: []string{"name", "hash_key", "range_key", "local_secondary_index"}, keyAttributes: true},
	"aws_cognito_user_pool":           {stateful: true, replace: []string{"name", "alias_attributes", "username_attributes", "username_configuration"}},
	"aws_cognito_user_pool_client":    {replace: []string{"user_pool_id", "generate_secret"}, inPlace: []string{"name"}},
	"aws_sqs_queue":                   {stateful: true, replace: []string{"name", "name_prefix", "fifo_queue"}},
	"aws_sqs_queue_policy":            {replace: []string{"queue_url"}},
	"aws_sns_topic":                   {replace: []string{"name", "name_prefix", "fifo_topic"}},
	"aws_sns_topic_subscription":      {replace: []string{"topic_arn", "protocol", "endpoint"}},
	"aws_cloudwatch_log_group":        {stateful: true, replace: []string{"name", "name_prefix", "log_group_class"}},
	"aws_s3_bucket":                   {stateful: true, replace: []string{"bucket", "bucket_prefix", "object_lock_enabled"}},
	"aws_iam_role":                    {replace: []string{"name", "name_prefix", "path"}},
	"aws_iam_role_policy":             {replace: []string{"name", "name_prefix", "role"}},
	"aws_lambda_function":             {replace: []string{"function_name", "package_type"}},
	"aws_lambda_event_source_mapping": {replace: []string{"event_source_arn", "starting_position", "starting_position_timestamp", "topics", "queues", "self_managed_event_source"}, inPlace: []string{"function_name"}},
	// A permission cannot be updated: every argument replaces it.
	"aws_lambda_permission":        {replace: []string{"statement_id", "statement_id_prefix", "function_name", "action", "principal", "source_arn", "source_account", "qualifier", "event_source_token", "principal_org_id", "function_url_auth_type"}},
	"aws_apigatewayv2_api":         {replace: []string{"protocol_type"}, inPlace: []string{"name"}},
	"aws_apigatewayv2_stage":       {replace: []string{"api_id", "name"}},
	"aws_apigatewayv2_integration": {replace: []string{"api_id", "integration_type"}},
	"aws_apigatewayv2_route":       {replace: []string{"api_id"}, inPlace: []string{"route_key"}},
	"aws_apigatewayv2_authorizer":  {replace: []string{"api_id"}, inPlace: []string{"name"}},
	// The sweep's schedule: a schedule moves groups by being replaced.
	"aws_scheduler_schedule_group": {replace: []string{"name", "name_prefix"}},
	"aws_scheduler_schedule":       {replace: []string{"name", "name_prefix", "group_name"}},
	// The static site (MyWeb). Its bucket is in the list above; its files are a build,
	// uploaded again when an object is replaced.
	"aws_s3_bucket_public_access_block":                  {replace: []string{"bucket"}},
	"aws_s3_bucket_ownership_controls":                   {replace: []string{"bucket"}},
	"aws_s3_bucket_server_side_encryption_configuration": {replace: []string{"bucket", "expected_bucket_owner"}},
	"aws_s3_bucket_policy":                               {replace: []string{"bucket"}},
	"aws_s3_object":                                      {replace: []string{"bucket", "key"}},
	"aws_cloudfront_origin_access_control":               {inPlace: []string{"name"}},
	"aws_cloudfront_response_headers_policy":             {inPlace: []string{"name"}},
	"aws_cloudfront_function":                            {replace: []string{"name"}},
	"aws_cloudfront_key_value_store":                     {replace: []string{"name"}},
	"aws_cloudfrontkeyvaluestore_key":                    {replace: []string{"key", "key_value_store_arn"}},
	"aws_cloudfront_distribution":                        {replace: []string{"staging"}},
	// The alarms. The key encrypts the alarm topic, which keeps no message past its
	// delivery: a new key loses nothing.
	"aws_cloudwatch_metric_alarm": {replace: []string{"alarm_name"}},
	"aws_kms_key":                 {replace: []string{"customer_master_key_spec", "key_usage", "multi_region", "custom_key_store_id", "xks_key_id"}},
	"aws_kms_alias":               {replace: []string{"name", "name_prefix"}},
}
