package iam

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// LocalAccount is the account of every ARN in the local dev mode.
const LocalAccount = "000000000000"

// Principal is a caller with a policy of its own: in the dev mode, a function
// running with its role's permissions.
type Principal struct {
	// Name names the caller in logs, e.g. the function's name.
	Name string
	// ARN is the caller as AWS names it in a denial, e.g.
	// arn:aws:sts::000000000000:assumed-role/<role>/<session>.
	ARN    string
	Policy *Policy
}

// Denial is a call a principal's policy does not allow.
type Denial struct {
	Principal Principal
	Call      Call
	// Explicit says a Deny statement denied the call, rather than no Allow allowing it.
	Explicit bool
}

// Message is AWS's text for the denial, with the action spelled as the service
// answering spells it (SQS writes "sqs:sendmessage", SNS "SNS:Publish").
func (d *Denial) Message(action string) string {
	reason := "because no identity-based policy allows the " + action + " action"
	if d.Explicit {
		reason = "with an explicit deny in an identity-based policy"
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", d.Principal.ARN, action, d.Call.Resource, reason)
}

// Authorizer knows the principals by access key ID and decides their calls. It
// remembers which grants were used, so a session can report those never needed.
// Requests signed with any other key are the developer's own and allowed, as an
// account administrator's would be.
type Authorizer struct {
	onDeny func(*Denial)

	mu         sync.Mutex
	principals map[string]*principal // by access key ID
}

type principal struct {
	Principal
	used map[Grant]bool
}

// NewAuthorizer returns an authorizer without principals; onDeny, if not nil, hears of
// every denied call.
func NewAuthorizer(onDeny func(*Denial)) *Authorizer {
	return &Authorizer{onDeny: onDeny, principals: map[string]*principal{}}
}

// Add makes requests signed with accessKeyID calls of p.
func (a *Authorizer) Add(accessKeyID string, p Principal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.principals[accessKeyID] = &principal{Principal: p, used: map[Grant]bool{}}
}

// Authorize decides the call r makes; it answers nil when the call is allowed.
func (a *Authorizer) Authorize(r *http.Request, call Call) *Denial {
	key := AccessKeyID(r)
	a.mu.Lock()
	p, ok := a.principals[key]
	a.mu.Unlock()
	if !ok {
		return nil
	}
	d := p.Policy.Evaluate(call)
	if d.Allowed {
		a.mu.Lock()
		for _, g := range d.Grants {
			p.used[g] = true
		}
		a.mu.Unlock()
		return nil
	}
	denial := &Denial{Principal: p.Principal, Call: call, Explicit: d.ExplicitDeny}
	if a.onDeny != nil {
		a.onDeny(denial)
	}
	return denial
}

// Use records which of the caller's grants cover a call that another policy allows
// anyway (a KMS key policy, say), without deciding it or reporting a denial.
func (a *Authorizer) Use(r *http.Request, call Call) {
	a.mu.Lock()
	p, ok := a.principals[AccessKeyID(r)]
	a.mu.Unlock()
	if !ok {
		return
	}
	if d := p.Policy.Evaluate(call); d.Allowed {
		a.mu.Lock()
		for _, g := range d.Grants {
			p.used[g] = true
		}
		a.mu.Unlock()
	}
}

// Unused is what a principal was granted and never used.
type Unused struct {
	Principal string
	// Statement is the statement's index in the principal's policy.
	Statement int
	Actions   []string // lower case, as the statement's patterns
}

// Unused lists, by principal name and statement, the Allow statements' action
// patterns that allowed no call.
func (a *Authorizer) Unused() []Unused {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Unused
	for _, p := range a.principals {
		for i, st := range p.Policy.statements {
			if st.effect != Allow {
				continue
			}
			var actions []string
			for _, act := range st.actions {
				if !p.used[Grant{Statement: i, Action: act}] {
					actions = append(actions, act)
				}
			}
			if len(actions) > 0 {
				out = append(out, Unused{Principal: p.Name, Statement: i, Actions: actions})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Principal != out[j].Principal {
			return out[i].Principal < out[j].Principal
		}
		return out[i].Statement < out[j].Statement
	})
	return out
}

// AccessKeyID is the access key a request is signed with, from its Authorization
// header (Signature Version 4) or, for a presigned request, its X-Amz-Credential.
func AccessKeyID(r *http.Request) string {
	var credential string
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, after, ok := strings.Cut(auth, "Credential=")
		if !ok {
			return ""
		}
		credential, _, _ = strings.Cut(after, ",")
	} else {
		credential = r.URL.Query().Get("X-Amz-Credential")
	}
	key, _, _ := strings.Cut(strings.TrimSpace(credential), "/")
	return key
}
