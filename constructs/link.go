package constructs

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/personabackend/app/topology"
)

// Access is what a linked function may do with a resource: a Level naming a common
// case, or an access that names operations exactly, such as a table's TableAccess.
type Access interface {
	// AccessName names the access in the topology and in errors, e.g. "read".
	AccessName() string
}

// Level is an access named by a word. Each kind of resource accepts some levels.
type Level string

// AccessName is the level's word.
func (l Level) AccessName() string { return string(l) }

// Access levels.
const (
	Read      Level = "read"       // tables, secrets
	Write     Level = "write"      // tables
	ReadWrite Level = "read-write" // tables
	Publish   Level = "publish"    // topics
	Send      Level = "send"       // queues
	Consume   Level = "consume"    // queues
)

// accessLevels are every access level, narrowest first within each kind of resource.
var accessLevels = []Access{Read, Write, ReadWrite, Publish, Send, Consume}

// Linkable is a resource that can be linked to a function: linking gives the function
// the resource's run-time properties (read with package resource) and exactly the IAM
// permissions the access level needs.
type Linkable interface {
	// LinkName names the resource to handlers, e.g. resource.GetTable("PersonaTable").
	LinkName() string
	// Link describes what linking with access grants, or says which levels the resource accepts.
	Link(access Access) (LinkGrant, error)
}

// LinkGrant is what a link adds to a function.
type LinkGrant struct {
	// Properties become the JSON value of the function's RESOURCE_<LinkName> variable.
	Properties any
	// Statements are added to the function's IAM policy.
	Statements []Statement
}

// Statement is one IAM policy statement that allows Actions on Resources.
type Statement struct {
	Actions    []string
	Resources  []ARN
	Conditions []Condition
}

// ARN names a resource in a policy statement twice over, and both must agree: as the
// Terraform policy holds it (Expr), and as its service and resource part (what follows
// the account), which the local dev mode resolves in its own account and region.
type ARN struct {
	// Expr is the ARN as Terraform resolves it: a resource's arn attribute, or an ARN
	// built in the stack's partition, region and account.
	Expr string
	// Service and Resource are the ARN's service ("dynamodb") and resource part
	// ("table/orders"), which may end in a wildcard.
	Service, Resource string
}

// Sub is the ARN with suffix appended, e.g. a table's "/index/*".
func (a ARN) Sub(suffix string) ARN {
	return ARN{Expr: a.Expr + suffix, Service: a.Service, Resource: a.Resource + suffix}
}

// Condition is one key of a statement's condition block: its operator
// ("StringEquals"), key ("kms:ViaService") and values, literal strings or ARNs.
type Condition struct {
	Operator, Key string
	Values        []string
	ARNs          []ARN
}

// topology is the statement as the dev mode reads it, added by the link named link.
func (st Statement) topology(link string) (topology.Statement, error) {
	out := topology.Statement{Link: link, Actions: append([]string(nil), st.Actions...)}
	for _, a := range st.Resources {
		r, err := a.topology()
		if err != nil {
			return out, err
		}
		out.Resources = append(out.Resources, r)
	}
	for _, c := range st.Conditions {
		tc := topology.Condition{Operator: c.Operator, Key: c.Key, Values: c.Values}
		for _, a := range c.ARNs {
			r, err := a.topology()
			if err != nil {
				return out, err
			}
			tc.ARNs = append(tc.ARNs, r)
		}
		out.Conditions = append(out.Conditions, tc)
	}
	return out, nil
}

func (a ARN) topology() (topology.ARN, error) {
	if a.Service == "" || a.Resource == "" {
		return topology.ARN{}, fmt.Errorf("the ARN %s in a policy statement needs its Service and Resource (what follows the account) too, so the dev mode can enforce it", a.Expr)
	}
	return topology.ARN{Service: a.Service, Resource: a.Resource}, nil
}

var linkNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

func validateLinkName(name string) error {
	if !linkNamePattern.MatchString(name) {
		return fmt.Errorf("invalid link name %q: use letters, digits and underscores, starting with a letter", name)
	}
	return nil
}

// unsupportedAccess says which accesses a kind of resource accepts.
func unsupportedAccess(kind, name string, access Access, allowed ...string) error {
	given := "no"
	if access != nil {
		given = fmt.Sprintf("%q", access.AccessName())
	}
	return fmt.Errorf("cannot link %s %q with %s access: a %s accepts %s", kind, name, given, kind, strings.Join(allowed, ", "))
}

// policyDocument renders statements as an IAM policy, with a stable Sid per statement.
func policyDocument(statements []Statement) map[string]any {
	out := make([]map[string]any, 0, len(statements))
	for i, st := range statements {
		actions := append([]string(nil), st.Actions...)
		sort.Strings(actions)
		resources := make([]string, len(st.Resources))
		for j, r := range st.Resources {
			resources[j] = r.Expr
		}
		entry := map[string]any{
			"Sid":      fmt.Sprintf("Statement%d", i),
			"Effect":   "Allow",
			"Action":   actions,
			"Resource": resources,
		}
		if len(st.Conditions) > 0 {
			block := map[string]map[string]any{}
			for _, c := range st.Conditions {
				if block[c.Operator] == nil {
					block[c.Operator] = map[string]any{}
				}
				block[c.Operator][c.Key] = conditionValue(c)
			}
			entry["Condition"] = block
		}
		out = append(out, entry)
	}
	return map[string]any{"Version": "2012-10-17", "Statement": out}
}

// conditionValue is a condition's value in the policy: one literal as a string, or a list.
func conditionValue(c Condition) any {
	if len(c.Values) == 1 && len(c.ARNs) == 0 {
		return c.Values[0]
	}
	values := append([]string(nil), c.Values...)
	for _, a := range c.ARNs {
		values = append(values, a.Expr)
	}
	return values
}
