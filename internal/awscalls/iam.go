package awscalls

import "github.com/personabackend/app/internal/iamaction"

// Permission is an IAM action a call needs.
type Permission struct {
	// Action is the IAM action, e.g. "dynamodb:Query".
	Action string
	// Scope names the resource when the call needs a particular one: "index/UserIdIndex"
	// for a DynamoDB Query or Scan of an index, whose ARN is the table's followed by
	// "/index/UserIdIndex". Empty means the resource the call names at run time.
	Scope string
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
	action, err := iamaction.For(c.Service, c.Operation)
	if err != nil {
		return nil, err
	}
	p := Permission{Action: action}
	if index := c.Input["IndexName"]; index != "" {
		p.Scope = "index/" + index
	}
	out := []Permission{p}
	if c.Service == "ssm" && c.Input["WithDecryption"] == "true" {
		out = append(out, Permission{Action: "kms:Decrypt"})
	}
	return out, nil
}
