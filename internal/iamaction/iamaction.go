// Package iamaction names the IAM action that authorizes an AWS API operation: the one
// table that the least-privilege analysis (internal/awscalls) and the dev mode's
// stand-ins (dev/dynamoproxy, dev/queues) read. It imports nothing beyond the standard
// library, so the stand-ins carry no analysis code into the binary.
package iamaction

import "fmt"

// iamPrefixes are IAM's service prefixes for the SDK's service packages; they differ
// for some services, so a service missing here is refused rather than guessed.
var iamPrefixes = map[string]string{
	"cloudwatch":              "cloudwatch",
	"cloudwatchlogs":          "logs",
	"cognitoidentityprovider": "cognito-idp",
	"dynamodb":                "dynamodb",
	"eventbridge":             "events",
	"kms":                     "kms",
	"lambda":                  "lambda",
	"s3":                      "s3",
	"scheduler":               "scheduler",
	"secretsmanager":          "secretsmanager",
	"sfn":                     "states",
	"sns":                     "sns",
	"sqs":                     "sqs",
	"ssm":                     "ssm",
}

// otherActions are operations authorized by an action of another name: a batch
// operation is authorized by the action of the single one.
var otherActions = map[string]string{
	"dynamodb.TransactGetItems":        "dynamodb:GetItem",
	"sns.PublishBatch":                 "sns:Publish",
	"sqs.ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
	"sqs.DeleteMessageBatch":           "sqs:DeleteMessage",
	"sqs.SendMessageBatch":             "sqs:SendMessage",
}

// requestDependent are operations whose actions depend on what each request holds:
// the caller reads them from the request, action by action.
var requestDependent = map[string]string{
	"dynamodb.TransactWriteItems":    "the action of each item it writes or checks (PutItem, UpdateItem, DeleteItem, ConditionCheckItem)",
	"dynamodb.ExecuteStatement":      "the PartiQL action of its statement (PartiQLSelect, PartiQLInsert, PartiQLUpdate, PartiQLDelete)",
	"dynamodb.BatchExecuteStatement": "the PartiQL action of each statement",
	"dynamodb.ExecuteTransaction":    "the PartiQL action of each statement",
}

// For is the IAM action that authorizes operation of service, both named as the AWS
// SDK for Go v2 names them (package "dynamodb", operation "Query"): the service's IAM
// prefix and the operation's name, but for a batch operation, which the single one's
// action authorizes. It refuses a service whose prefix is not known here and an
// operation whose actions depend on what its request holds, saying which.
func For(service, operation string) (string, error) {
	key := service + "." + operation
	if what, ok := requestDependent[key]; ok {
		return "", fmt.Errorf("%s needs %s, which cannot be read from the operation's name", key, what)
	}
	prefix, ok := iamPrefixes[service]
	if !ok {
		return "", fmt.Errorf("IAM's service prefix for the SDK's %s package is not known here: add it to iamaction's iamPrefixes", service)
	}
	if action, ok := otherActions[key]; ok {
		return action, nil
	}
	return prefix + ":" + operation, nil
}
