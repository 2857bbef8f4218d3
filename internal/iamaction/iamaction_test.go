package iamaction

import (
	"strings"
	"testing"
)

func TestForNamesTheActionThatAuthorizesAnOperation(t *testing.T) {
	for _, tc := range []struct {
		name, service, operation, want string
	}{
		{"an operation is authorized by the action of its name", "dynamodb", "GetItem", "dynamodb:GetItem"},
		{"a batch is authorized by the action of the single operation", "sqs", "DeleteMessageBatch", "sqs:DeleteMessage"},
		{"a transaction of reads is authorized by GetItem", "dynamodb", "TransactGetItems", "dynamodb:GetItem"},
		{"a service whose IAM prefix differs from its package", "cognitoidentityprovider", "AdminGetUser", "cognito-idp:AdminGetUser"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := For(tc.service, tc.operation); err != nil || got != tc.want {
				t.Errorf("For(%s, %s) = %q, %v; want %q", tc.service, tc.operation, got, err, tc.want)
			}
		})
	}
}

func TestForRefusesToGuess(t *testing.T) {
	for _, tc := range []struct {
		name, service, operation, want string
	}{
		{"a transaction's actions depend on its items", "dynamodb", "TransactWriteItems", "ConditionCheckItem"},
		{"a service whose IAM prefix is not known", "ec2", "RunInstances", "iamPrefixes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := For(tc.service, tc.operation); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one naming %q", err, tc.want)
			}
		})
	}
}
