package constructs

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/personabackend/app/topology"
)

// The account a deployed stack's ARNs are resolved in, for comparing the two policies.
const testAccount = "123456789012"

// tfReference is a Terraform reference inside a string: ${type.name.attribute} or
// ${data.type.name.attribute}.
var tfReference = regexp.MustCompile(`\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_]+)\.([a-z_]+)\}`)

// terraformARNs resolves the references a policy holds the way AWS names the
// resources: from each resource's name, by the ARN format AWS documents for its type.
func terraformARNs(t *testing.T, s *synthStack, region string) func(string) string {
	t.Helper()
	formats := map[string]string{
		"aws_dynamodb_table":       "arn:aws:dynamodb:%s:%s:table/%s",
		"aws_sqs_queue":            "arn:aws:sqs:%s:%s:%s",
		"aws_sns_topic":            "arn:aws:sns:%s:%s:%s",
		"aws_cloudwatch_log_group": "arn:aws:logs:%s:%s:log-group:%s",
	}
	return func(v string) string {
		return tfReference.ReplaceAllStringFunc(v, func(ref string) string {
			m := tfReference.FindStringSubmatch(ref)
			data, typ, name, attr := m[1] != "", m[2], m[3], m[4]
			switch {
			case data && typ == "aws_partition" && attr == "partition":
				return "aws"
			case data && typ == "aws_caller_identity" && attr == "account_id":
				return testAccount
			}
			format, ok := formats[typ]
			r, found := s.resources(typ)[name]
			if data || !ok || !found || attr != "arn" {
				t.Fatalf("the policy refers to %s, which this test cannot resolve", ref)
			}
			return fmt.Sprintf(format, region, testAccount, r["name"])
		})
	}
}

// grantLines flattens statements into sorted "action resource if conditions" lines.
type grantLine struct {
	actions, resources []string
	conditions         map[string][]string // "operator key" to values
}

func lines(statements []grantLine) []string {
	var out []string
	for _, st := range statements {
		var conds []string
		for k, v := range st.conditions {
			sorted := append([]string(nil), v...)
			sort.Strings(sorted)
			conds = append(conds, k+"="+strings.Join(sorted, ","))
		}
		sort.Strings(conds)
		for _, a := range st.actions {
			for _, r := range st.resources {
				out = append(out, a+" "+r+" if "+strings.Join(conds, " & "))
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestEachFunctionsTopologyPolicyIsItsTerraformPolicy(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		s := stackFor(t, stage)
		topo, err := topology.Read(filepath.Join(s.dir, topology.FileName))
		if err != nil {
			t.Fatal(err)
		}
		resolve := terraformARNs(t, s, topo.Region)
		for _, fn := range topo.Functions {
			var terraform []grantLine
			for _, raw := range decodeJSON(t, s.only(t, "aws_iam_role_policy", "name", fn.Name)["policy"])["Statement"].([]any) {
				st := raw.(map[string]any)
				g := grantLine{conditions: map[string][]string{}}
				for _, a := range st["Action"].([]any) {
					g.actions = append(g.actions, a.(string))
				}
				for _, r := range st["Resource"].([]any) {
					g.resources = append(g.resources, resolve(r.(string)))
				}
				for op, keys := range asMap(st["Condition"]) {
					for key, v := range asMap(keys) {
						var values []string
						switch v := v.(type) {
						case string:
							values = []string{resolve(v)}
						case []any:
							for _, x := range v {
								values = append(values, resolve(x.(string)))
							}
						}
						g.conditions[op+" "+key] = values
					}
				}
				terraform = append(terraform, g)
			}
			var local []grantLine
			for _, st := range fn.Policy {
				g := grantLine{actions: st.Actions, conditions: map[string][]string{}}
				for _, r := range st.Resources {
					g.resources = append(g.resources, r.In(topo.Region, testAccount))
				}
				for _, c := range st.Conditions {
					values := append([]string(nil), c.Values...)
					for _, a := range c.ARNs {
						values = append(values, a.In(topo.Region, testAccount))
					}
					g.conditions[c.Operator+" "+c.Key] = values
				}
				local = append(local, g)
			}
			if got, want := lines(local), lines(terraform); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: the topology grants\n  %s\nthe Terraform policy grants\n  %s", fn.Name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if len(fn.Policy) < 2 && len(fn.Links) > 0 {
				t.Errorf("%s has links but its topology policy holds only %d statements", fn.Name, len(fn.Policy))
			}
		}
	}
}

func TestTheTopologyListsWhatEachAccessOfALinkedResourceGrants(t *testing.T) {
	s := stackFor(t, "dev")
	topo, err := topology.Read(filepath.Join(s.dir, topology.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var offered []string
	for _, g := range topo.Grants {
		var actions []string
		for _, st := range g.Statements {
			actions = append(actions, st.Actions...)
		}
		offered = append(offered, fmt.Sprintf("%s %s: %d actions", g.Link, g.Access, len(actions)))
	}
	sort.Strings(offered)
	want := []string{
		"Events publish: 1 actions",
		"Orders read-write: 8 actions", "Orders read: 4 actions", "Orders write: 4 actions",
		"PaymentKey read: 2 actions",
		"Shipping consume: 3 actions", "Shipping send: 1 actions",
	}
	if strings.Join(offered, "|") != strings.Join(want, "|") {
		t.Errorf("grants offered:\n  %s\nwant\n  %s", strings.Join(offered, "\n  "), strings.Join(want, "\n  "))
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func TestALinkWhoseARNsTheDevModeCannotResolveIsRefused(t *testing.T) {
	stack := scratchStack(t)
	fn, err := NewGoFunction(stack, "Fn", FunctionProps{Package: "./constructs/testdata/echo"})
	if err != nil {
		t.Fatal(err)
	}
	err = fn.Link(opaque{}, Read)
	if err == nil || !strings.Contains(err.Error(), "needs its Service and Resource") {
		t.Errorf("got %v, want the link refused for an ARN without its service and resource", err)
	}
}

// opaque is a linkable resource that names its ARN only as Terraform resolves it.
type opaque struct{}

func (opaque) LinkName() string { return "Opaque" }

func (opaque) Link(Access) (LinkGrant, error) {
	return LinkGrant{Properties: map[string]string{}, Statements: []Statement{{Actions: []string{"s3:GetObject"}, Resources: []ARN{{Expr: "arn:aws:s3:::bucket/*"}}}}}, nil
}
