package dev

import (
	"fmt"
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
	stack := &topology.Stack{Region: "us-east-1", Functions: []topology.Function{{
		Name: "fn",
		Policy: []topology.Statement{
			{Actions: []string{"logs:CreateLogStream"}, Resources: []topology.ARN{{Service: "logs", Resource: "log-group:/aws/lambda/fn:*"}}},
			{Link: "Things", Actions: []string{"dynamodb:GetItem", "dynamodb:Query"}, Resources: []topology.ARN{{Service: "dynamodb", Resource: "table/things"}}},
		},
	}}}
	a, err := newAccess(stack, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.unusedReport(), "|"); got != "fn: dynamodb:GetItem, dynamodb:Query on table/things (link Things)" {
		t.Errorf("report %q", got)
	}
}
