// Package iam evaluates calls against IAM identity policies the way AWS does: an
// explicit deny wins, an allow is needed, and anything not allowed is denied. Actions
// and resources match with the * and ? wildcards; conditions use IAM's operators.
// The local dev mode's stand-ins use it to answer a function's call as AWS would
// answer that function's role.
package iam

import (
	"fmt"
	"strings"
)

// Statement is one statement of an identity policy.
type Statement struct {
	Effect Effect
	// Actions the statement covers ("dynamodb:GetItem", "sqs:*"); or, with NotActions,
	// every action but those.
	Actions    []string
	NotActions []string
	// Resources are ARNs, possibly with wildcards ("arn:aws:dynamodb:us-east-1:000000000000:table/t/index/*");
	// or, with NotResources, every resource but those.
	Resources    []string
	NotResources []string
	Conditions   []Condition
}

// Effect is what a matching statement does.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Condition is one key of a statement's condition block: the condition holds when the
// request's values for Key compare to Values under Operator.
type Condition struct {
	// Operator is an IAM condition operator, possibly qualified: "StringEquals",
	// "ForAnyValue:StringLike", "ArnLikeIfExists", "Null".
	Operator string
	Key      string
	Values   []string
}

// Policy is a compiled identity policy.
type Policy struct {
	statements []compiled
}

type compiled struct {
	effect       Effect
	actions      []string // lower case
	notActions   []string
	resources    []string
	notResources []string
	conditions   []compiledCondition
}

// NewPolicy compiles statements; an operator the evaluator does not know is an error,
// never a condition silently taken as true.
func NewPolicy(statements []Statement) (*Policy, error) {
	p := &Policy{}
	for i, st := range statements {
		c := compiled{effect: st.Effect, resources: st.Resources, notResources: st.NotResources}
		if st.Effect != Allow && st.Effect != Deny {
			return nil, fmt.Errorf("statement %d: effect %q: use Allow or Deny", i, st.Effect)
		}
		if (len(st.Actions) == 0) == (len(st.NotActions) == 0) {
			return nil, fmt.Errorf("statement %d: give Actions or NotActions, one of them", i)
		}
		if (len(st.Resources) == 0) == (len(st.NotResources) == 0) {
			return nil, fmt.Errorf("statement %d: give Resources or NotResources, one of them", i)
		}
		for _, a := range st.Actions {
			c.actions = append(c.actions, strings.ToLower(a))
		}
		for _, a := range st.NotActions {
			c.notActions = append(c.notActions, strings.ToLower(a))
		}
		for _, cond := range st.Conditions {
			cc, err := compileCondition(cond)
			if err != nil {
				return nil, fmt.Errorf("statement %d: %w", i, err)
			}
			c.conditions = append(c.conditions, cc)
		}
		p.statements = append(p.statements, c)
	}
	return p, nil
}

// Call is what a request asks to do, in IAM's terms.
type Call struct {
	Action   string // "sqs:SendMessage"
	Resource string // the ARN acted on
	// Context holds the request's condition keys and their values ("kms:ViaService").
	Context map[string][]string
}

// Decision is the outcome of evaluating a call.
type Decision struct {
	Allowed bool
	// ExplicitDeny says a Deny statement matched, rather than no Allow.
	ExplicitDeny bool
	// Grants are, for an allowed call, the statements and action patterns that allowed it.
	Grants []Grant
}

// Grant is one action pattern of one statement.
type Grant struct {
	Statement int
	Action    string // as the statement writes it, lower case
}

// Evaluate decides a call as IAM does for an identity policy in one account.
func (p *Policy) Evaluate(call Call) Decision {
	action := strings.ToLower(call.Action)
	context := normalizeContext(call.Context)
	var d Decision
	for i, st := range p.statements {
		pattern, ok := st.matchAction(action)
		if !ok || !st.matchResource(call.Resource) || !st.matchConditions(context) {
			continue
		}
		if st.effect == Deny {
			return Decision{ExplicitDeny: true}
		}
		d.Allowed = true
		d.Grants = append(d.Grants, Grant{Statement: i, Action: pattern})
	}
	return d
}

// matchAction reports whether the statement covers action, and by which pattern.
func (st compiled) matchAction(action string) (string, bool) {
	if len(st.notActions) > 0 {
		for _, a := range st.notActions {
			if wildcardMatch(a, action) {
				return "", false
			}
		}
		return "not " + strings.Join(st.notActions, ","), true
	}
	for _, a := range st.actions {
		if wildcardMatch(a, action) {
			return a, true
		}
	}
	return "", false
}

func (st compiled) matchResource(resource string) bool {
	if len(st.notResources) > 0 {
		for _, r := range st.notResources {
			if MatchARN(r, resource) {
				return false
			}
		}
		return true
	}
	for _, r := range st.resources {
		if MatchARN(r, resource) {
			return true
		}
	}
	return false
}

func (st compiled) matchConditions(context map[string][]string) bool {
	for _, c := range st.conditions {
		if !c.holds(context) {
			return false
		}
	}
	return true
}

// normalizeContext lower-cases the keys: IAM condition keys are case-insensitive.
func normalizeContext(context map[string][]string) map[string][]string {
	if len(context) == 0 {
		return nil
	}
	out := make(map[string][]string, len(context))
	for k, v := range context {
		out[strings.ToLower(k)] = v
	}
	return out
}

// MatchARN reports whether arn matches pattern, an ARN with the * and ? wildcards or
// "*" alone. A wildcard stays within its segment of the ARN (partition, service,
// region, account), except in the resource part, where it matches across "/" and ":".
func MatchARN(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	ps := strings.SplitN(pattern, ":", 6)
	as := strings.SplitN(arn, ":", 6)
	if len(ps) != 6 || len(as) != 6 {
		return pattern == arn
	}
	for i := range ps {
		if !wildcardMatch(ps[i], as[i]) {
			return false
		}
	}
	return true
}

// wildcardMatch reports whether s matches pattern, where * matches any run of
// characters and ? any one character.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
