package constructs

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
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
	Actions   []string
	Resources []string
	// Condition is an IAM condition block: operator, then key, then value(s).
	Condition map[string]map[string]any
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
		entry := map[string]any{
			"Sid":      fmt.Sprintf("Statement%d", i),
			"Effect":   "Allow",
			"Action":   actions,
			"Resource": st.Resources,
		}
		if len(st.Condition) > 0 {
			entry["Condition"] = st.Condition
		}
		out = append(out, entry)
	}
	return map[string]any{"Version": "2012-10-17", "Statement": out}
}
