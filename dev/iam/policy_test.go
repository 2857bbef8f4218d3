package iam

import (
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	table = "arn:aws:dynamodb:us-east-1:000000000000:table/persona-dev-persona"
	param = "arn:aws:ssm:us-east-1:000000000000:parameter/persona/dev/MyApiKey"
)

func mustPolicy(t *testing.T, statements ...Statement) *Policy {
	t.Helper()
	p, err := NewPolicy(statements)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAPolicyAllowsOnlyWhatAStatementCovers(t *testing.T) {
	p := mustPolicy(t,
		Statement{Effect: Allow, Actions: []string{"dynamodb:GetItem", "dynamodb:Query"}, Resources: []string{table, table + "/index/*"}},
		Statement{Effect: Allow, Actions: []string{"sqs:Receive*"}, Resources: []string{"arn:aws:sqs:us-east-1:000000000000:*.fifo"}},
		Statement{Effect: Allow, Actions: []string{"logs:PutLogEvents"}, Resources: []string{"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn:*"}},
	)
	tests := []struct {
		name   string
		call   Call
		allows bool
	}{
		{"a listed action on a listed resource", Call{Action: "dynamodb:GetItem", Resource: table}, true},
		{"action names are case-insensitive", Call{Action: "DynamoDB:getitem", Resource: table}, true},
		{"an action no statement lists", Call{Action: "dynamodb:PutItem", Resource: table}, false},
		{"a listed action on another table", Call{Action: "dynamodb:GetItem", Resource: table + "-other"}, false},
		{"an index under the table's index wildcard", Call{Action: "dynamodb:Query", Resource: table + "/index/UserIdIndex"}, true},
		{"the index wildcard does not cover the table of another name", Call{Action: "dynamodb:Query", Resource: table + "x/index/UserIdIndex"}, false},
		{"an action wildcard", Call{Action: "sqs:ReceiveMessage", Resource: "arn:aws:sqs:us-east-1:000000000000:persona.fifo"}, true},
		{"a resource wildcard does not reach into another account", Call{Action: "sqs:ReceiveMessage", Resource: "arn:aws:sqs:us-east-1:111111111111:persona.fifo"}, false},
		{"resource ARNs are case-sensitive", Call{Action: "dynamodb:GetItem", Resource: strings.ToUpper(table)}, false},
		{"a wildcard in the resource part crosses colons", Call{Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn:log-stream:2026/11/30"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Evaluate(tt.call).Allowed; got != tt.allows {
				t.Errorf("Evaluate(%+v).Allowed = %v, want %v", tt.call, got, tt.allows)
			}
		})
	}
}

func TestAnExplicitDenyWinsOverAnAllow(t *testing.T) {
	p := mustPolicy(t,
		Statement{Effect: Allow, Actions: []string{"dynamodb:*"}, Resources: []string{"*"}},
		Statement{Effect: Deny, Actions: []string{"dynamodb:DeleteItem"}, Resources: []string{table}},
	)
	if d := p.Evaluate(Call{Action: "dynamodb:DeleteItem", Resource: table}); d.Allowed || !d.ExplicitDeny {
		t.Errorf("got %+v, want an explicit deny", d)
	}
	if d := p.Evaluate(Call{Action: "dynamodb:PutItem", Resource: table}); !d.Allowed {
		t.Errorf("got %+v, want the allow of dynamodb:*", d)
	}
}

func TestNotActionAndNotResourceCoverEverythingButWhatTheyList(t *testing.T) {
	p := mustPolicy(t, Statement{Effect: Allow, NotActions: []string{"dynamodb:Delete*"}, NotResources: []string{table + "-audit"}})
	tests := []struct {
		call Call
		want bool
	}{
		{Call{Action: "dynamodb:PutItem", Resource: table}, true},
		{Call{Action: "dynamodb:DeleteItem", Resource: table}, false},
		{Call{Action: "dynamodb:PutItem", Resource: table + "-audit"}, false},
	}
	for _, tt := range tests {
		if got := p.Evaluate(tt.call).Allowed; got != tt.want {
			t.Errorf("%+v: allowed = %v, want %v", tt.call, got, tt.want)
		}
	}
}

func TestConditionsHoldAsIAMEvaluatesThem(t *testing.T) {
	viaSSM := Condition{Operator: "StringEquals", Key: "kms:ViaService", Values: []string{"ssm.us-east-1.amazonaws.com"}}
	forParams := Condition{Operator: "StringEquals", Key: "kms:EncryptionContext:PARAMETER_ARN", Values: []string{param, param + "-fallback"}}
	tests := []struct {
		name      string
		condition []Condition
		context   map[string][]string
		holds     bool
	}{
		{"every key of the block must hold", []Condition{viaSSM, forParams},
			map[string][]string{"kms:ViaService": {"ssm.us-east-1.amazonaws.com"}, "kms:EncryptionContext:PARAMETER_ARN": {param}}, true},
		{"a key holds when one of the policy's values matches", []Condition{forParams},
			map[string][]string{"kms:EncryptionContext:PARAMETER_ARN": {param + "-fallback"}}, true},
		{"condition keys are case-insensitive", []Condition{viaSSM}, map[string][]string{"KMS:VIASERVICE": {"ssm.us-east-1.amazonaws.com"}}, true},
		{"another value fails", []Condition{viaSSM}, map[string][]string{"kms:ViaService": {"secretsmanager.us-east-1.amazonaws.com"}}, false},
		{"a missing key fails a positive operator", []Condition{viaSSM}, nil, false},
		{"a missing key satisfies IfExists", []Condition{{Operator: "StringEqualsIfExists", Key: "kms:ViaService", Values: []string{"x"}}}, nil, true},
		{"a missing key satisfies a negated operator", []Condition{{Operator: "StringNotEquals", Key: "aws:SourceVpc", Values: []string{"vpc-1"}}}, nil, true},
		{"a negated operator fails on a listed value", []Condition{{Operator: "StringNotEquals", Key: "aws:SourceVpc", Values: []string{"vpc-1"}}}, map[string][]string{"aws:SourceVpc": {"vpc-1"}}, false},
		{"StringLike matches wildcards", []Condition{{Operator: "StringLike", Key: "s3:prefix", Values: []string{"home/*"}}}, map[string][]string{"s3:prefix": {"home/ada"}}, true},
		{"ArnLike matches an ARN pattern", []Condition{{Operator: "ArnLike", Key: "aws:SourceArn", Values: []string{"arn:aws:sns:us-east-1:000000000000:*"}}}, map[string][]string{"aws:SourceArn": {"arn:aws:sns:us-east-1:000000000000:tasks.fifo"}}, true},
		{"ArnEquals matches an ARN pattern as ArnLike does", []Condition{{Operator: "ArnEquals", Key: "aws:SourceArn", Values: []string{"arn:aws:sns:us-east-1:000000000000:task?.fifo"}}}, map[string][]string{"aws:SourceArn": {"arn:aws:sns:us-east-1:000000000000:tasks.fifo"}}, true},
		{"ArnNotEquals fails on an ARN its pattern matches", []Condition{{Operator: "ArnNotEquals", Key: "aws:SourceArn", Values: []string{"arn:aws:sns:*:000000000000:*"}}}, map[string][]string{"aws:SourceArn": {"arn:aws:sns:us-east-1:000000000000:tasks.fifo"}}, false},
		{"an ARN wildcard stays within its segment", []Condition{{Operator: "ArnEquals", Key: "aws:SourceArn", Values: []string{"arn:aws:sns:*:tasks.fifo"}}}, map[string][]string{"aws:SourceArn": {"arn:aws:sns:us-east-1:000000000000:tasks.fifo"}}, false},
		{"Bool compares without case", []Condition{{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}}}, map[string][]string{"aws:SecureTransport": {"TRUE"}}, true},
		{"Numeric operators compare numbers", []Condition{{Operator: "NumericLessThanEquals", Key: "dynamodb:ReturnConsumedCapacity", Values: []string{"10"}}}, map[string][]string{"dynamodb:ReturnConsumedCapacity": {"9.5"}}, true},
		{"Null true needs the key absent", []Condition{{Operator: "Null", Key: "aws:TokenIssueTime", Values: []string{"true"}}}, map[string][]string{"aws:TokenIssueTime": {"x"}}, false},
		{"ForAllValues holds when every value is listed", []Condition{{Operator: "ForAllValues:StringEquals", Key: "dynamodb:Attributes", Values: []string{"a", "b"}}}, map[string][]string{"dynamodb:Attributes": {"a", "b"}}, true},
		{"ForAllValues fails on an unlisted value", []Condition{{Operator: "ForAllValues:StringEquals", Key: "dynamodb:Attributes", Values: []string{"a", "b"}}}, map[string][]string{"dynamodb:Attributes": {"a", "c"}}, false},
		{"a missing key fails ForAnyValue", []Condition{{Operator: "ForAnyValue:StringEquals", Key: "dynamodb:Attributes", Values: []string{"a"}}}, nil, false},
		{"a missing key fails a negated ForAnyValue", []Condition{{Operator: "ForAnyValue:StringNotEquals", Key: "dynamodb:Attributes", Values: []string{"a"}}}, nil, false},
		{"an empty set of values fails a negated ForAnyValue", []Condition{{Operator: "ForAnyValue:StringNotLike", Key: "aws:TagKeys", Values: []string{"secret*"}}}, map[string][]string{"aws:TagKeys": {}}, false},
		{"a missing key fails ForAnyValue even with IfExists", []Condition{{Operator: "ForAnyValue:StringEqualsIfExists", Key: "aws:TagKeys", Values: []string{"team"}}}, nil, false},
		{"a missing key satisfies ForAllValues", []Condition{{Operator: "ForAllValues:StringEquals", Key: "dynamodb:Attributes", Values: []string{"a"}}}, nil, true},
		{"ForAnyValue holds on one listed value", []Condition{{Operator: "ForAnyValue:StringEquals", Key: "dynamodb:Attributes", Values: []string{"a"}}}, map[string][]string{"dynamodb:Attributes": {"c", "a"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPolicy(t, Statement{Effect: Allow, Actions: []string{"kms:Decrypt"}, Resources: []string{"*"}, Conditions: tt.condition})
			if got := p.Evaluate(Call{Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:000000000000:key/k", Context: tt.context}).Allowed; got != tt.holds {
				t.Errorf("allowed = %v, want %v", got, tt.holds)
			}
		})
	}
}

func TestAPolicyTheEvaluatorCannotReadIsRefused(t *testing.T) {
	for name, st := range map[string]Statement{
		"an unknown operator":  {Effect: Allow, Actions: []string{"a:b"}, Resources: []string{"*"}, Conditions: []Condition{{Operator: "DateGreaterThan", Key: "aws:CurrentTime", Values: []string{"2026-01-01T00:00:00Z"}}}},
		"an unknown qualifier": {Effect: Allow, Actions: []string{"a:b"}, Resources: []string{"*"}, Conditions: []Condition{{Operator: "ForSome:StringEquals", Key: "k", Values: []string{"v"}}}},
		"no effect":            {Actions: []string{"a:b"}, Resources: []string{"*"}},
		"no action":            {Effect: Allow, Resources: []string{"*"}},
		"no resource":          {Effect: Allow, Actions: []string{"a:b"}},
	} {
		if _, err := NewPolicy([]Statement{st}); err == nil {
			t.Errorf("%s was accepted", name)
		}
	}
}

func TestTheAuthorizerKnowsCallersByAccessKeyAndReportsUnusedGrants(t *testing.T) {
	p := mustPolicy(t,
		Statement{Effect: Allow, Actions: []string{"dynamodb:GetItem", "dynamodb:Scan"}, Resources: []string{table}},
		Statement{Effect: Allow, Actions: []string{"dynamodb:PutItem"}, Resources: []string{table}},
	)
	var denied []*Denial
	a := NewAuthorizer(func(d *Denial) { denied = append(denied, d) })
	a.Add("ASIAREAD", Principal{Name: "persona-dev-list", ARN: "arn:aws:sts::000000000000:assumed-role/persona-dev-list/persona-dev-list", Policy: p})
	req := httptest.NewRequest("POST", "/", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ASIAREAD/20261130/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc")
	if d := a.Authorize(req, Call{Action: "dynamodb:GetItem", Resource: table}); d != nil {
		t.Fatalf("GetItem denied: %v", d.Message("dynamodb:GetItem"))
	}
	d := a.Authorize(req, Call{Action: "dynamodb:DeleteItem", Resource: table})
	if d == nil || len(denied) != 1 || denied[0] != d {
		t.Fatalf("DeleteItem: denial %v, heard %v", d, denied)
	}
	want := "User: arn:aws:sts::000000000000:assumed-role/persona-dev-list/persona-dev-list is not authorized to perform: dynamodb:DeleteItem on resource: " + table + " because no identity-based policy allows the dynamodb:DeleteItem action"
	if got := d.Message("dynamodb:DeleteItem"); got != want {
		t.Errorf("message:\n%s\nwant\n%s", got, want)
	}
	other := httptest.NewRequest("POST", "/", nil)
	other.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIADEVELOPER/20261130/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc")
	if d := a.Authorize(other, Call{Action: "dynamodb:DeleteTable", Resource: table}); d != nil {
		t.Error("a call signed with a key of no principal (the developer's own) was denied")
	}
	unused := a.Unused()
	if len(unused) != 2 || unused[0].Statement != 0 || strings.Join(unused[0].Actions, ",") != "dynamodb:scan" ||
		unused[1].Statement != 1 || strings.Join(unused[1].Actions, ",") != "dynamodb:putitem" {
		t.Errorf("unused = %+v, want Scan of statement 0 and PutItem of statement 1", unused)
	}
}

func TestTheAccessKeyComesFromTheSignatureOrAPresignedURL(t *testing.T) {
	signed := httptest.NewRequest("POST", "/", nil)
	signed.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ASIAONE/20261130/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=abc")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"a signed request", AccessKeyID(signed), "ASIAONE"},
		{"a presigned URL", AccessKeyID(httptest.NewRequest("GET", "/?X-Amz-Credential=ASIATWO%2F20261130%2Fus-east-1%2Fsqs%2Faws4_request", nil)), "ASIATWO"},
		{"an unsigned request", AccessKeyID(httptest.NewRequest("GET", "/", nil)), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: access key %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// BenchmarkAuthorize measures deciding one call of a function with the persona
// worker's policy: what enforcement adds to every call a stand-in serves.
func BenchmarkAuthorize(b *testing.B) {
	queue := "arn:aws:sqs:us-east-1:000000000000:persona-dev-persona.fifo"
	p, err := NewPolicy([]Statement{
		{Effect: Allow, Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resources: []string{"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/persona-dev-worker:*"}},
		{Effect: Allow, Actions: []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}, Resources: []string{queue}},
		{Effect: Allow, Actions: []string{"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}, Resources: []string{table, table + "/index/*"}},
		{Effect: Allow, Actions: []string{"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, Resources: []string{table}},
		{Effect: Allow, Actions: []string{"ssm:GetParameter"}, Resources: []string{param}},
	})
	if err != nil {
		b.Fatal(err)
	}
	a := NewAuthorizer(nil)
	a.Add("ASIAWORKER", Principal{Name: "worker", ARN: "arn:aws:sts::000000000000:assumed-role/worker/worker", Policy: p})
	req := httptest.NewRequest("POST", "/", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ASIAWORKER/20261130/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef")
	call := Call{Action: "dynamodb:Query", Resource: table + "/index/UserIdIndex"}
	for b.Loop() {
		if d := a.Authorize(req, call); d != nil {
			b.Fatal(d.Message(call.Action))
		}
	}
}
