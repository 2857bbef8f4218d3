package dev

import (
	"crypto/rand"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/topology"
)

// functionCredentials are what a function signs its AWS calls with, as Lambda gives a
// function its role's temporary credentials.
type functionCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// newCredentials makes a function credentials of its own, so the stand-ins know
// which function calls them.
func newCredentials() functionCredentials {
	return functionCredentials{
		AccessKeyID:     "ASIA" + randomText(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
		SecretAccessKey: randomText(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
		SessionToken:    randomText(64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
	}
}

func randomText(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// servedServices are the services whose calls the stand-ins authorize; grants of
// others (a function's log group, which Lambda itself writes) are not reported unused.
var servedServices = []string{"dynamodb:", "sns:", "sqs:", "ssm:", "kms:"}

// access holds each function's credentials and IAM policy as the stand-ins enforce
// them, and says which link would grant a call that is denied.
type access struct {
	stack       *topology.Stack
	credentials map[string]functionCredentials // by function name
	authz       *iam.Authorizer
	grants      []compiledGrant
	policies    map[string][]topology.Statement // by function name
	logf        func(format string, args ...any)

	mu     sync.Mutex
	logged map[string]bool // denials already logged
}

type compiledGrant struct {
	topology.Grant
	policy *iam.Policy
}

// newAccess gives every function of the stack credentials of its own and the policy
// its links grant, resolved in the local account.
func newAccess(stack *topology.Stack, logf func(format string, args ...any)) (*access, error) {
	a := &access{stack: stack, credentials: map[string]functionCredentials{}, policies: map[string][]topology.Statement{}, logf: logf, logged: map[string]bool{}}
	a.authz = iam.NewAuthorizer(a.logDenial)
	for _, fn := range stack.Functions {
		if fn.Role == "" {
			return nil, fmt.Errorf("function %s: the stack names no execution role for it: declare it with constructs.NewGoFunction", fn.Name)
		}
		policy, err := iam.NewPolicy(localStatements(fn.Policy, stack.Region))
		if err != nil {
			return nil, fmt.Errorf("function %s: its policy: %w", fn.Name, err)
		}
		creds := newCredentials()
		a.credentials[fn.Name] = creds
		a.policies[fn.Name] = fn.Policy
		a.authz.Add(creds.AccessKeyID, iam.Principal{
			Name: fn.Name,
			// Lambda assumes the function's role in a session named after the function.
			ARN:    fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", iam.LocalAccount, fn.Role, fn.Name),
			Policy: policy,
		})
	}
	for _, g := range stack.Grants {
		policy, err := iam.NewPolicy(localStatements(g.Statements, stack.Region))
		if err != nil {
			return nil, fmt.Errorf("link %s with %s access: %w", g.Link, g.Access, err)
		}
		a.grants = append(a.grants, compiledGrant{Grant: g, policy: policy})
	}
	return a, nil
}

// localStatements are statements with their ARNs in the local account and region.
func localStatements(statements []topology.Statement, region string) []iam.Statement {
	out := make([]iam.Statement, 0, len(statements))
	for _, st := range statements {
		s := iam.Statement{Effect: iam.Allow, Actions: st.Actions}
		for _, r := range st.Resources {
			s.Resources = append(s.Resources, r.In(region, iam.LocalAccount))
		}
		for _, c := range st.Conditions {
			values := append([]string(nil), c.Values...)
			for _, arn := range c.ARNs {
				values = append(values, arn.In(region, iam.LocalAccount))
			}
			s.Conditions = append(s.Conditions, iam.Condition{Operator: c.Operator, Key: c.Key, Values: values})
		}
		out = append(out, s)
	}
	return out
}

// logDenial says, once per function, action and resource, which call was denied and
// which link would allow it.
func (a *access) logDenial(d *iam.Denial) {
	key := d.Principal.Name + " " + d.Call.Action + " " + d.Call.Resource
	a.mu.Lock()
	seen := a.logged[key]
	a.logged[key] = true
	a.mu.Unlock()
	if seen {
		return
	}
	a.logf("%s: denied %s on %s: %s (AWS denies it too; later denials of the same call are not logged)",
		d.Principal.Name, d.Call.Action, d.Call.Resource, a.remedy(d.Principal.Name, d.Call))
}

// remedy names the narrowest link of the stack that would allow call. When the function
// links that resource already, it names an access that allows the call and all the
// present one does, since a resource is linked once.
func (a *access) remedy(function string, call iam.Call) string {
	fn, _ := a.stack.Function(function)
	current := map[string]string{}
	for _, l := range fn.Links {
		current[l.Name] = l.Access
	}
	for _, g := range a.grants {
		if !g.policy.Evaluate(call).Allowed {
			continue
		}
		has, linked := current[g.Link]
		if !linked {
			return fmt.Sprintf("linking %s with %s access would allow it", g.Link, g.Access)
		}
		if a.covers(g, fn, g.Link) {
			return fmt.Sprintf("linking %s with %s access instead of %s would allow it", g.Link, g.Access, has)
		}
	}
	return "no link of the stack allows it"
}

// covers reports whether grant g allows every call that fn's link to the resource
// allows today.
func (a *access) covers(g compiledGrant, fn topology.Function, link string) bool {
	var present []topology.Statement
	for _, st := range fn.Policy {
		if st.Link == link {
			present = append(present, st)
		}
	}
	for _, st := range localStatements(present, a.stack.Region) {
		context := map[string][]string{}
		for _, c := range st.Conditions {
			context[c.Key] = c.Values[:1]
		}
		for _, action := range st.Actions {
			for _, r := range st.Resources {
				if !g.policy.Evaluate(iam.Call{Action: action, Resource: r, Context: context}).Allowed {
					return false
				}
			}
		}
	}
	return true
}

// unusedReport lists, per function and link, the granted actions no call used. It
// leaves out, and names in idle, the functions nothing invokes in dev (no route, no
// queue; dev runs no schedules): their grants went unused for want of a caller.
func (a *access) unusedReport() (report, idle []string) {
	invoked := map[string]bool{}
	for _, r := range a.stack.Routes {
		invoked[r.Function] = true
	}
	for _, src := range a.stack.EventSources {
		invoked[src.Function] = true
	}
	for _, fn := range a.stack.Functions {
		if !invoked[fn.Name] {
			idle = append(idle, fn.Name)
		}
	}
	for _, u := range a.authz.Unused() {
		if !invoked[u.Principal] {
			continue
		}
		st := a.policies[u.Principal][u.Statement]
		var actions []string
		for _, act := range st.Actions {
			if !served(act) || !slices.Contains(u.Actions, strings.ToLower(act)) {
				continue
			}
			actions = append(actions, act)
		}
		if len(actions) == 0 {
			continue
		}
		sort.Strings(actions)
		from := "its own statement"
		if st.Link != "" {
			from = "link " + st.Link
		}
		var on []string
		for _, r := range st.Resources {
			on = append(on, r.Resource)
		}
		report = append(report, fmt.Sprintf("%s: %s on %s (%s)", u.Principal, strings.Join(actions, ", "), strings.Join(on, ", "), from))
	}
	return report, idle
}

func served(action string) bool {
	for _, prefix := range servedServices {
		if strings.HasPrefix(strings.ToLower(action), prefix) {
			return true
		}
	}
	return false
}
