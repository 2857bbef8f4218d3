package queues

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/topology"
)

// post sends body to the broker as target's operation and answers the response.
func post(t *testing.T, h http.Handler, target, contentType, body string) *http.Response {
	t.Helper()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	if target != "" {
		r.Header.Set("X-Amz-Target", target)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestSQSErrorsCarryTheQueryCodeInTheHeaderAndTheShapeInTheBody(t *testing.T) {
	b := New("us-east-1", "http://local")
	resp := post(t, b, "AmazonSQS.GetQueueUrl", "application/x-amz-json-1.0", `{"QueueName":"nope"}`)
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 400 || resp.Header.Get("x-amzn-query-error") != "AWS.SimpleQueueService.NonExistentQueue;Sender" ||
		body.Type != "com.amazonaws.sqs#QueueDoesNotExist" || body.Message != "The specified queue does not exist." {
		t.Errorf("got %d, x-amzn-query-error %q, body %+v", resp.StatusCode, resp.Header.Get("x-amzn-query-error"), body)
	}
}

func TestSNSErrorsAnswerXMLWithAWSStatus(t *testing.T) {
	b := New("us-east-1", "http://local")
	resp := post(t, b, "", "application/x-www-form-urlencoded", "Action=Publish&TopicArn=arn:aws:sns:us-east-1:000000000000:nope&Message=m")
	data, _ := io.ReadAll(resp.Body)
	var doc struct {
		Error struct{ Type, Code, Message string }
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 404 || doc.Error.Type != "Sender" || doc.Error.Code != "NotFound" || doc.Error.Message != "Topic does not exist" {
		t.Errorf("got %d %s", resp.StatusCode, data)
	}
}

// functionPolicy lets a function publish to the topic events and receive from plain.
func functionPolicy(t *testing.T) *iam.Policy {
	t.Helper()
	p, err := iam.NewPolicy([]iam.Statement{
		{Effect: iam.Allow, Actions: []string{"sns:Publish"}, Resources: []string{"arn:aws:sns:us-east-1:000000000000:events"}},
		{Effect: iam.Allow, Actions: []string{"sqs:ReceiveMessage"}, Resources: []string{"arn:aws:sqs:us-east-1:000000000000:plain"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestACallThePolicyDoesNotAllowIsDeniedAsAWSDeniesIt(t *testing.T) {
	authz := iam.NewAuthorizer(nil)
	authz.Add("ASIAFUNCTION", iam.Principal{Name: "fn", ARN: "arn:aws:sts::000000000000:assumed-role/fn/fn", Policy: functionPolicy(t)})
	e := start(t, &topology.Stack{
		Topics: []topology.Topic{{Name: "events"}, {Name: "other"}},
		Queues: []topology.Queue{{Name: "plain", VisibilityTimeoutSeconds: 30}},
	}, WithAuthorizer(authz))
	srv := httptest.NewServer(e.broker)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("ASIAFUNCTION", "secret", "token")}
	fnSQS := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	fnSNS := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	_, err := fnSQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.broker.QueueURL("plain")), MessageBody: aws.String("m")})
	want := "User: arn:aws:sts::000000000000:assumed-role/fn/fn is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:000000000000:plain because no identity-based policy allows the sqs:sendmessage action"
	var re *smithyhttp.ResponseError
	if apiCode(err) != "AccessDenied" || !strings.Contains(err.Error(), want) || !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
		t.Errorf("SendMessage: got %v, want AccessDenied (403) saying %q", err, want)
	}
	if _, err := fnSQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.broker.QueueURL("plain"))}); err != nil {
		t.Errorf("ReceiveMessage, which the policy allows: %v", err)
	}
	if _, err := fnSQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("absent")}); apiCode(err) != "AccessDenied" {
		t.Errorf("GetQueueUrl of a queue that does not exist: got %v, want AccessDenied before saying it does not exist", err)
	}

	if _, err := fnSNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(e.broker.TopicARN("events")), Message: aws.String("m")}); err != nil {
		t.Errorf("Publish, which the policy allows: %v", err)
	}
	_, err = fnSNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(e.broker.TopicARN("other")), Message: aws.String("m")})
	var denied *snstypes.AuthorizationErrorException
	if !errors.As(err, &denied) || !strings.Contains(err.Error(), "is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:000000000000:other") ||
		!errors.As(err, &re) || re.HTTPStatusCode() != 403 {
		t.Errorf("Publish to another topic: got %v, want AuthorizationError (403)", err)
	}

	if _, err := e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.broker.QueueURL("plain")), MessageBody: aws.String("m")}); err != nil {
		t.Errorf("a caller with credentials of no function (the developer) was refused: %v", err)
	}
}
