package awscalls

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// summary is a call without its line number: what it calls, how, and in which file.
func summary(c Call) string {
	s := c.Service + "." + c.Operation
	for _, k := range sortedKeys(c.Input) {
		s += fmt.Sprintf(" %s=%s", k, c.Input[k])
	}
	if c.Via != "" {
		s += " through " + c.Via
	}
	return s + " in " + filepath.Base(c.Site.Filename)
}

func TestAnalyzeFindsTheOperationsEachProgramCanReach(t *testing.T) {
	programs := map[string][]string{
		// Get is reached through the handler lambda.Start is given; Put and ByOwner of the
		// same store are not, so their operations are not charged to reader.
		"./testdata/reader": {"dynamodb.GetItem through shared.DB.GetItem in shared.go"},
		"./testdata/writer": {
			"dynamodb.DeleteItem in main.go",
			"dynamodb.PutItem through shared.DB.PutItem in shared.go",
		},
		"./testdata/indexed": {
			"dynamodb.Query IndexName=OwnerIndex through shared.DB.Query in shared.go",
			"ssm.GetParameter WithDecryption=true in main.go",
		},
		// net/http calls ServeHTTP, encoding/json MarshalJSON; nothing calls Purge, whose
		// signature no interface outside the module can name.
		"./testdata/server": {"dynamodb.DescribeTable in main.go", "dynamodb.UpdateItem in main.go"},
	}
	var patterns []string
	for p := range programs {
		patterns = append(patterns, p)
	}
	got, err := Analyze(".", patterns...)
	if err != nil {
		t.Fatal(err)
	}
	for program, want := range programs {
		var calls []string
		for _, c := range got[program] {
			calls = append(calls, summary(c))
		}
		if !reflect.DeepEqual(calls, want) {
			t.Errorf("%s calls:\n  %s\nwant:\n  %s", program, strings.Join(calls, "\n  "), strings.Join(want, "\n  "))
		}
	}
}

func TestAnalyzeRefusesWhatItCannotSee(t *testing.T) {
	for _, tc := range []struct {
		name, program, want string
	}{
		{"a paginator driving the client", "./testdata/paginated", "dynamodb.NewScanPaginator is given a dynamodb client and calls its operations itself"},
		{"an index named at run time", "./testdata/dynamicindex", "dynamodb.Query: IndexName is not a constant"},
		{"a package that is not a program", "./testdata/shared", "is not a main package"},
		{"a folder with no package", "./testdata/none", "testdata/none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Analyze(".", tc.program)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestPermissionsNameTheIAMActionsACallNeeds(t *testing.T) {
	for _, tc := range []struct {
		name string
		call Call
		want []Permission
	}{
		{"an item operation needs the action of its name", Call{Service: "dynamodb", Operation: "GetItem"},
			[]Permission{{Action: "dynamodb:GetItem"}}},
		{"a query of the table needs the table", Call{Service: "dynamodb", Operation: "Query"},
			[]Permission{{Action: "dynamodb:Query"}}},
		{"a query of an index needs the index", Call{Service: "dynamodb", Operation: "Query", Input: map[string]string{"IndexName": "ByOwner"}},
			[]Permission{{Action: "dynamodb:Query", Scope: "index/ByOwner"}}},
		{"a batch needs the action of the single operation", Call{Service: "sqs", Operation: "SendMessageBatch"},
			[]Permission{{Action: "sqs:SendMessage"}}},
		{"a decrypted parameter needs kms:Decrypt too", Call{Service: "ssm", Operation: "GetParameter", Input: map[string]string{"WithDecryption": "true"}},
			[]Permission{{Action: "ssm:GetParameter"}, {Action: "kms:Decrypt"}}},
		{"a parameter read as stored needs no key", Call{Service: "ssm", Operation: "GetParameter"},
			[]Permission{{Action: "ssm:GetParameter"}}},
		{"a service whose IAM prefix differs from its package", Call{Service: "cognitoidentityprovider", Operation: "AdminGetUser"},
			[]Permission{{Action: "cognito-idp:AdminGetUser"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.call.Permissions()
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("permissions = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestPermissionsRefuseToGuess(t *testing.T) {
	for _, tc := range []struct {
		name string
		call Call
		want string
	}{
		{"a transaction's actions depend on its items", Call{Service: "dynamodb", Operation: "TransactWriteItems"}, "ConditionCheckItem"},
		{"a service whose IAM prefix is not known", Call{Service: "ec2", Operation: "RunInstances"}, "iamPrefixes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.call.Permissions(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one naming %q", err, tc.want)
			}
		})
	}
}
