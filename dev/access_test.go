package dev

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/topology"
)

func TestADeniedCallNamesTheLinkThatWouldAllowIt(t *testing.T) {
	stack := personaStack(t, "dev")
	var logged []string
	a, err := newAccess(stack, func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) })
	if err != nil {
		t.Fatal(err)
	}
	table := "arn:aws:dynamodb:us-east-1:000000000000:table/persona-dev-persona"
	tests := []struct {
		function string
		call     iam.Call
		want     string
	}{
		{"persona-dev-list", iam.Call{Action: "dynamodb:PutItem", Resource: table},
			"linking PersonaTable with read-write access instead of Query:index/UserIdIndex would allow it"},
		{"persona-dev-list", iam.Call{Action: "sns:Publish", Resource: "arn:aws:sns:us-east-1:000000000000:persona-dev-tasks.fifo"},
			"linking TaskTopic with publish access would allow it"},
		{"persona-dev-get", iam.Call{Action: "dynamodb:DeleteTable", Resource: table},
			"no link of the stack allows it"},
	}
	for _, tt := range tests {
		if got := a.remedy(tt.function, tt.call); got != tt.want {
			t.Errorf("%s calling %s: remedy %q, want %q", tt.function, tt.call.Action, got, tt.want)
		}
	}
	denial := &iam.Denial{Principal: iam.Principal{Name: "persona-dev-list"}, Call: tests[0].call}
	a.logDenial(denial)
	a.logDenial(denial)
	if len(logged) != 1 || !strings.HasPrefix(logged[0], "persona-dev-list: denied dynamodb:PutItem on "+table+": linking PersonaTable with read-write access") {
		t.Errorf("logged %q, want one line naming the function, action, resource and link", logged)
	}
}

func TestTheReportOfUnusedGrantsNamesTheirLinksAndSkipsWhatLambdaItselfUses(t *testing.T) {
	policy := func(fn string) []topology.Statement {
		return []topology.Statement{
			{Actions: []string{"logs:CreateLogStream"}, Resources: []topology.ARN{{Service: "logs", Resource: "log-group:/aws/lambda/" + fn + ":*"}}},
			{Link: "Things", Actions: []string{"dynamodb:GetItem", "dynamodb:Query"}, Resources: []topology.ARN{{Service: "dynamodb", Resource: "table/things"}}},
		}
	}
	stack := &topology.Stack{
		Region: "us-east-1",
		Functions: []topology.Function{
			{Name: "fn", Role: "app-dev-us-east-1-fn", Policy: policy("fn")},
			{Name: "worker", Role: "app-dev-us-east-1-worker", Policy: policy("worker")},
			{Name: "sweep", Role: "app-dev-us-east-1-sweep", Policy: policy("sweep")},
		},
		Routes:       []topology.Route{{RouteKey: "GET /things", Function: "fn"}},
		EventSources: []topology.EventSource{{Queue: "q", Function: "worker"}},
		Schedules:    []topology.Schedule{{Function: "sweep", EverySeconds: 300}},
	}
	a, err := newAccess(stack, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	report, idle := a.unusedReport()
	if got, want := strings.Join(report, "|"), "fn: dynamodb:GetItem, dynamodb:Query on table/things (link Things)|worker: dynamodb:GetItem, dynamodb:Query on table/things (link Things)"; got != want {
		t.Errorf("report %q, want %q", got, want)
	}
	// Dev runs no schedules: the sweep's grants go unused for want of a caller.
	if strings.Join(idle, ",") != "sweep" {
		t.Errorf("functions left out %v, want the scheduled one", idle)
	}
}

func TestADenialNamesTheFunctionsRoleAsTheConstructsNameIt(t *testing.T) {
	stack := personaStack(t, "dev")
	a, err := newAccess(stack, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	creds := a.credentials["persona-dev-list"]
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+creds.AccessKeyID+"/20261201/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
	d := a.authz.Authorize(r, iam.Call{Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:us-east-1:000000000000:table/persona-dev-persona"})
	if d == nil {
		t.Fatal("the list function may write the table")
	}
	// IAM names are account-wide, so the role's name carries the region too.
	if want := "arn:aws:sts::000000000000:assumed-role/persona-dev-us-east-1-list/persona-dev-list"; d.Principal.ARN != want {
		t.Errorf("denied principal %s, want %s", d.Principal.ARN, want)
	}
}

func TestAFunctionWithoutARoleIsRefused(t *testing.T) {
	stack := &topology.Stack{Region: "us-east-1", Functions: []topology.Function{{Name: "fn"}}}
	if _, err := newAccess(stack, func(string, ...any) {}); err == nil || !strings.Contains(err.Error(), "function fn: the stack names no execution role") {
		t.Errorf("got %v, want the function without a role refused", err)
	}
}
