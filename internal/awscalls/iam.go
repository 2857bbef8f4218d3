package awscalls

import "fmt"

// Permission is an IAM action a call needs.
type Permission struct {
	// Action is the IAM action, e.g. "dynamodb:Query".
	Action string
	// Scope names the resource when the call needs a particular one: "index/UserIdIndex"
	// for a DynamoDB Query or Scan of an index, whose ARN is the table's followed by
	// "/index/UserIdIndex". Empty means the resource the call names at run time.
	Scope string
}

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

// requestDependent are operations whose actions depend on what each request holds,
// which a static analysis does not know.
var requestDependent = map[string]string{
	"dynamodb.TransactWriteItems":    "the action of each item it writes or checks (PutItem, UpdateItem, DeleteItem, ConditionCheckItem)",
	"dynamodb.ExecuteStatement":      "the PartiQL action of its statement (PartiQLSelect, PartiQLInsert, PartiQLUpdate, PartiQLDelete)",
	"dynamodb.BatchExecuteStatement": "the PartiQL action of each statement",
	"dynamodb.ExecuteTransaction":    "the PartiQL action of each statement",
}

// permissionFields are the input fields that change what an operation needs.
var permissionFields = map[string][]string{
	"dynamodb.Query":          {"IndexName"},
	"dynamodb.Scan":           {"IndexName"},
	"ssm.GetParameter":        {"WithDecryption"},
	"ssm.GetParameters":       {"WithDecryption"},
	"ssm.GetParametersByPath": {"WithDecryption"},
}

// Permissions are the IAM actions the call needs: mostly the service's prefix and the
// operation's name. The exceptions: a DynamoDB Query or Scan of an index needs the
// action on the index's ARN, not the table's; a batch operation needs the action of
// the single one; reading a parameter WithDecryption also needs kms:Decrypt on its key,
// which SSM uses on the caller's behalf (the aws/ssm key's own policy allows every
// principal of the account; a customer managed key needs the caller's permission).
func (c Call) Permissions() ([]Permission, error) {
	key := c.Service + "." + c.Operation
	if what, ok := requestDependent[key]; ok {
		return nil, fmt.Errorf("%s needs %s, which cannot be read from the call", key, what)
	}
	prefix, ok := iamPrefixes[c.Service]
	if !ok {
		return nil, fmt.Errorf("IAM's service prefix for the SDK's %s package is not known here: add it to awscalls' iamPrefixes", c.Service)
	}
	p := Permission{Action: prefix + ":" + c.Operation}
	if action, ok := otherActions[key]; ok {
		p.Action = action
	}
	if index := c.Input["IndexName"]; index != "" {
		p.Scope = "index/" + index
	}
	out := []Permission{p}
	if c.Service == "ssm" && c.Input["WithDecryption"] == "true" {
		out = append(out, Permission{Action: "kms:Decrypt"})
	}
	return out, nil
}
