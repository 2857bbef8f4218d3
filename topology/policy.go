package topology

import "fmt"

// A function's IAM policy, as the constructs write it into Terraform, with every ARN
// written so that the local dev mode can resolve it in its own account and region.
// The dev mode's stand-ins hold each function to exactly these statements.

// Statement is one Allow statement of a function's policy.
type Statement struct {
	// Link names the linked resource whose access added the statement; empty for the
	// function's own statements (its log group).
	Link       string      `json:"link,omitempty"`
	Actions    []string    `json:"actions"`
	Resources  []ARN       `json:"resources"`
	Conditions []Condition `json:"conditions,omitempty"`
}

// ARN is an ARN in the stack's region and account:
// arn:<partition>:<Service>:<region>:<account>:<Resource>. Resource may end in a
// wildcard, as "table/orders/index/*" does.
type ARN struct {
	Service  string `json:"service"`
	Resource string `json:"resource"`
}

// In is the ARN in the aws partition, in region and account.
func (a ARN) In(region, account string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", a.Service, region, account, a.Resource)
}

// Condition is one key of a statement's condition block: its operator
// ("StringEquals"), key ("kms:ViaService") and values, literal or ARNs.
type Condition struct {
	Operator string   `json:"operator"`
	Key      string   `json:"key"`
	Values   []string `json:"values,omitempty"`
	ARNs     []ARN    `json:"arns,omitempty"`
}

// Grant is what linking a resource with an access level adds to a function's
// policy, for every access level a linked resource of the stack offers: what the dev
// mode names when a call is denied that another link would allow.
type Grant struct {
	Link       string      `json:"link"`
	Access     string      `json:"access"`
	Statements []Statement `json:"statements"`
}
