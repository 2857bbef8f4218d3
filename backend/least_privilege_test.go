package backend

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/internal/awscalls"
	"github.com/personabackend/app/topology"
)

// permission is an action on a resource scope: awscalls.Permission's Scope, which for
// DynamoDB tells a table from one of its indexes.
type permission = awscalls.Permission

func (p permissionSet) add(perm permission, why string) { p[perm] = append(p[perm], why) }

// permissionSet holds each permission with what needs or grants it.
type permissionSet map[permission][]string

// serviceNeeds are the permissions AWS uses a function's role for although the
// function's code never calls them.
func serviceNeeds(topo *topology.Stack, fn topology.Function) permissionSet {
	needs := permissionSet{}
	// Lambda writes the function's logs to its log group with the function's role.
	for _, action := range []string{"logs:CreateLogStream", "logs:PutLogEvents"} {
		needs.add(permission{Action: action}, "Lambda writing the function's logs")
	}
	// An SQS event source mapping polls the queue with the function's role; the Lambda
	// and SQS developer guides list exactly these three actions for it.
	for _, es := range topo.EventSources {
		if es.Function == fn.Name {
			for _, action := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
				needs.add(permission{Action: action}, "Lambda's event source mapping polling "+es.Queue)
			}
		}
	}
	return needs
}

// granted reads a function's synthesized IAM policy, naming each resource as a scope:
// a DynamoDB index by its name, any other resource as the one the link names.
func granted(t *testing.T, doc map[string]any, fn string) permissionSet {
	t.Helper()
	var policy string
	for _, r := range doc["resource"].(map[string]any)["aws_iam_role_policy"].(map[string]any) {
		if attrs := r.(map[string]any); attrs["name"] == fn {
			policy = attrs["policy"].(string)
		}
	}
	var parsed struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource []string
		}
	}
	if err := json.Unmarshal([]byte(policy), &parsed); err != nil {
		t.Fatalf("the policy of %s: %v", fn, err)
	}
	out := permissionSet{}
	for _, st := range parsed.Statement {
		if st.Effect != "Allow" {
			t.Fatalf("%s has a %s statement; the test reads Allow statements only", fn, st.Effect)
		}
		for _, action := range st.Action {
			for _, resource := range st.Resource {
				p := permission{Action: action}
				if _, index, ok := strings.Cut(resource, "/index/"); ok && strings.HasPrefix(action, "dynamodb:") {
					p.Scope = "index/" + index
				}
				out.add(p, resource)
			}
		}
	}
	return out
}

// TestEachFunctionIsGrantedExactlyWhatItsCodeCalls derives from each function's main
// package the AWS operations it can call (package awscalls) and compares their IAM
// actions, with what AWS itself needs of the role, to the function's synthesized policy:
// a grant nothing calls, or a call nothing grants, fails, naming both ends.
func TestEachFunctionIsGrantedExactlyWhatItsCodeCalls(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	root, err := build.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	var packages []string
	for _, fn := range stacks["persona-dev"].topo.Functions {
		packages = append(packages, fn.Package)
	}
	calls, err := awscalls.Analyze(root, packages...)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range stacks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := stacks[name]
		for _, fn := range s.topo.Functions {
			needs := serviceNeeds(s.topo, fn)
			for _, call := range calls[fn.Package] {
				perms, err := call.Permissions()
				if err != nil {
					t.Fatalf("%s: %v", fn.Name, err)
				}
				for _, p := range perms {
					needs.add(p, describe(call, root))
				}
			}
			grants := granted(t, s.doc, fn.Name)
			for _, p := range sortedPermissions(grants) {
				if _, ok := needs[p]; !ok {
					t.Errorf("%s is granted %s, which its code (%s) never calls and AWS does not need", fn.Name, show(p), fn.Package)
				}
			}
			for _, p := range sortedPermissions(needs) {
				if _, ok := grants[p]; !ok {
					t.Errorf("%s is not granted %s, needed by %s", fn.Name, show(p), strings.Join(needs[p], "; "))
				}
			}
		}
	}
}

func show(p permission) string {
	if p.Scope != "" {
		return p.Action + " on " + p.Scope
	}
	return p.Action
}

// describe names a call and its site relative to the module.
func describe(c awscalls.Call, root string) string {
	site := c.Site.Filename
	if rel, err := filepath.Rel(root, site); err == nil {
		site = rel
	}
	how := ""
	if c.Via != "" {
		how = " through " + c.Via
	}
	return fmt.Sprintf("%s.%s%s at %s:%d", c.Service, c.Operation, how, site, c.Site.Line)
}

func sortedPermissions(set permissionSet) []permission {
	out := make([]permission, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return show(out[i]) < show(out[j]) })
	return out
}
