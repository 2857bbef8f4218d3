package queues

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/personabackend/app/topology"
)

func sqsAttrs(n int, value string) map[string]sqstypes.MessageAttributeValue {
	attrs := map[string]sqstypes.MessageAttributeValue{}
	for i := range n {
		attrs[fmt.Sprintf("a%d", i)] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(value)}
	}
	return attrs
}

func TestSQSRefusesWhatAWSRefusesWithItsCodeAndReason(t *testing.T) {
	stack := personaStack()
	stack.Queues = append(stack.Queues, topology.Queue{Name: "small", VisibilityTimeoutSeconds: 30, MaximumMessageSize: 1024})
	e := start(t, stack)
	plain := aws.String(e.broker.QueueURL("plain"))
	fifo := aws.String(e.broker.QueueURL(personaQueue))
	attr := func(typ, value string) map[string]sqstypes.MessageAttributeValue {
		return map[string]sqstypes.MessageAttributeValue{"a": {DataType: aws.String(typ), StringValue: aws.String(value)}}
	}
	tests := []struct {
		name     string
		in       *sqs.SendMessageInput
		wantCode string
		wantText string
	}{
		{"an empty body", &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("")}, "MissingParameter", "MessageBody"},
		{"a body over the queue's maximum size", &sqs.SendMessageInput{QueueUrl: aws.String(e.broker.QueueURL("small")), MessageBody: aws.String(strings.Repeat("x", 1025))}, "InvalidParameterValue", "Message must be shorter than 1024 bytes"},
		{"attributes taking a body over the maximum size", &sqs.SendMessageInput{QueueUrl: aws.String(e.broker.QueueURL("small")), MessageBody: aws.String(strings.Repeat("x", 1000)), MessageAttributes: sqsAttrs(1, strings.Repeat("y", 30))}, "InvalidParameterValue", "shorter than 1024"},
		{"a control character in the body", &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("a\x01b")}, "InvalidMessageContents", "#x9 | #xA | #xD"},
		{"eleven attributes", &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("m"), MessageAttributes: sqsAttrs(11, "v")}, "InvalidParameterValue", "[11] exceeds the allowed maximum [10]"},
		{"an empty attribute value", &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("m"), MessageAttributes: attr("String", "")}, "InvalidParameterValue", "non-empty value"},
		{"a Number attribute that is no number", &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("m"), MessageAttributes: attr("Number", "1e")}, "InvalidParameterValue", "to a number"},
		{"an attribute of unknown type", &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("m"), MessageAttributes: attr("Date", "today")}, "InvalidParameterValue", "Binary, Number, String"},
		{"a reserved attribute name", &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("m"), MessageAttributes: map[string]sqstypes.MessageAttributeValue{"amazon.x": {DataType: aws.String("String"), StringValue: aws.String("v")}}}, "InvalidParameterValue", "reserved"},
		{"a delay over 900 seconds", &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("m"), DelaySeconds: 901}, "InvalidParameterValue", "DelaySeconds must be >= 0 and <= 900"},
		{"a deduplication id on a standard queue", &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("m"), MessageDeduplicationId: aws.String("d")}, "InvalidParameterValue", "not valid for this queue type"},
		{"a group id with a space", &sqs.SendMessageInput{QueueUrl: fifo, MessageBody: aws.String("m"), MessageGroupId: aws.String("a b"), MessageDeduplicationId: aws.String("d")}, "InvalidParameterValue", "parameter MessageGroupId is invalid"},
		{"a group id of 129 characters", &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("m"), MessageGroupId: aws.String(strings.Repeat("g", 129))}, "InvalidParameterValue", "1 to 128"},
		{"a deduplication id of 129 characters", &sqs.SendMessageInput{QueueUrl: fifo, MessageBody: aws.String("m"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String(strings.Repeat("d", 129))}, "InvalidParameterValue", "MessageDeduplicationId"},
		{"a FIFO message without a group", &sqs.SendMessageInput{QueueUrl: fifo, MessageBody: aws.String("m"), MessageDeduplicationId: aws.String("d")}, "MissingParameter", "MessageGroupId"},
		{"an unknown queue", &sqs.SendMessageInput{QueueUrl: aws.String(e.broker.QueueURL("nope")), MessageBody: aws.String("m")}, "AWS.SimpleQueueService.NonExistentQueue", "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.sqs.SendMessage(context.Background(), tt.in)
			if apiCode(err) != tt.wantCode || !strings.Contains(fmt.Sprint(err), tt.wantText) {
				t.Errorf("got %v, want %s saying %q", err, tt.wantCode, tt.wantText)
			}
		})
	}
	if n, nv, _ := e.broker.Counts("plain"); n+nv != 0 {
		t.Errorf("a refused message was stored")
	}
	for name, in := range map[string]*sqs.ReceiveMessageInput{
		"VisibilityTimeout":   {QueueUrl: plain, VisibilityTimeout: 43201},
		"WaitTimeSeconds":     {QueueUrl: plain, WaitTimeSeconds: 21},
		"MaxNumberOfMessages": {QueueUrl: plain, MaxNumberOfMessages: 11},
	} {
		if _, err := e.sqs.ReceiveMessage(context.Background(), in); apiCode(err) != "InvalidParameterValue" || !strings.Contains(err.Error(), name) {
			t.Errorf("a receive with too large a %s: got %v, want InvalidParameterValue naming it", name, err)
		}
	}
}

func TestSQSBatchesCheckTheirEntriesAsAWSDoes(t *testing.T) {
	e := start(t, personaStack())
	url := aws.String(e.broker.QueueURL("plain"))
	entries := func(ids ...string) []sqstypes.SendMessageBatchRequestEntry {
		out := []sqstypes.SendMessageBatchRequestEntry{}
		for _, id := range ids {
			out = append(out, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String("body of " + id)})
		}
		return out
	}
	var eleven []string
	for i := range 11 {
		eleven = append(eleven, fmt.Sprint("e", i))
	}
	for _, tt := range []struct {
		name, wantCode string
		entries        []sqstypes.SendMessageBatchRequestEntry
	}{
		{"no entries", "AWS.SimpleQueueService.EmptyBatchRequest", entries()},
		{"eleven entries", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", entries(eleven...)},
		{"a repeated id", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", entries("a", "a")},
		{"an id with a dot", "AWS.SimpleQueueService.InvalidBatchEntryId", entries("a.b")},
	} {
		if _, err := e.sqs.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: url, Entries: tt.entries}); apiCode(err) != tt.wantCode {
			t.Errorf("%s: got %v, want %s", tt.name, err, tt.wantCode)
		}
	}
	batch := entries("ok", "bad")
	batch[1].DelaySeconds = 901
	out, err := e.sqs.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: url, Entries: batch})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 1 || *out.Successful[0].Id != "ok" || len(out.Failed) != 1 || *out.Failed[0].Code != "InvalidParameterValue" || !out.Failed[0].SenderFault {
		t.Errorf("successful %v, failed %+v; want ok sent and bad failed with InvalidParameterValue", out.Successful, out.Failed)
	}
	if got := bodies(e.receive(t, "plain", 10)); !equal(got, []string{"body of ok"}) {
		t.Errorf("queue holds %v, want only the valid entry", got)
	}
}

func TestSNSRefusesWhatAWSRefusesWithItsCodeAndReason(t *testing.T) {
	e := start(t, &topology.Stack{
		Topics: []topology.Topic{{Name: "events"}, {Name: "events.fifo", FIFO: true}},
	})
	plain := aws.String(e.broker.TopicARN("events"))
	fifo := aws.String(e.broker.TopicARN("events.fifo"))
	attr := func(typ, value string) map[string]snstypes.MessageAttributeValue {
		return map[string]snstypes.MessageAttributeValue{"a": {DataType: aws.String(typ), StringValue: aws.String(value)}}
	}
	tests := []struct {
		name     string
		in       *sns.PublishInput
		wantCode string
		wantText string
	}{
		{"an empty message", &sns.PublishInput{TopicArn: plain, Message: aws.String("")}, "InvalidParameter", "Empty message"},
		{"a message over 256 KiB", &sns.PublishInput{TopicArn: plain, Message: aws.String(strings.Repeat("x", 256<<10+1))}, "InvalidParameter", "Message too long"},
		{"attributes taking a message over 256 KiB", &sns.PublishInput{TopicArn: plain, Message: aws.String(strings.Repeat("x", 256<<10-5)), MessageAttributes: attr("String", "long value")}, "InvalidParameter", "Message too long"},
		{"a subject with a line break", &sns.PublishInput{TopicArn: plain, Message: aws.String("m"), Subject: aws.String("a\nb")}, "InvalidParameter", "Subject"},
		{"an empty attribute value", &sns.PublishInput{TopicArn: plain, Message: aws.String("m"), MessageAttributes: attr("String", "")}, "ParameterValueInvalid", "non-empty message attribute value"},
		{"a Number attribute that is no number", &sns.PublishInput{TopicArn: plain, Message: aws.String("m"), MessageAttributes: attr("Number", "ten")}, "ParameterValueInvalid", "Could not cast message attribute 'a' value to number"},
		{"a String.Array that is no JSON array", &sns.PublishInput{TopicArn: plain, Message: aws.String("m"), MessageAttributes: attr("String.Array", "a,b")}, "ParameterValueInvalid", "JSON array"},
		{"a deduplication id on a standard topic", &sns.PublishInput{TopicArn: plain, Message: aws.String("m"), MessageDeduplicationId: aws.String("d")}, "InvalidParameter", "not valid for this topic type"},
		{"a group id of 129 characters", &sns.PublishInput{TopicArn: plain, Message: aws.String("m"), MessageGroupId: aws.String(strings.Repeat("g", 129))}, "InvalidParameter", "MessageGroupId"},
		{"a FIFO message without a group", &sns.PublishInput{TopicArn: fifo, Message: aws.String("m"), MessageDeduplicationId: aws.String("d")}, "InvalidParameter", "MessageGroupId parameter is required"},
		{"a FIFO message without deduplication id", &sns.PublishInput{TopicArn: fifo, Message: aws.String("m"), MessageGroupId: aws.String("g")}, "InvalidParameter", "ContentBasedDeduplication"},
		{"an unknown topic", &sns.PublishInput{TopicArn: aws.String(e.broker.TopicARN("nope")), Message: aws.String("m")}, "NotFound", "Topic does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.sns.Publish(context.Background(), tt.in)
			if apiCode(err) != tt.wantCode || !strings.Contains(fmt.Sprint(err), tt.wantText) {
				t.Errorf("got %v, want %s saying %q", err, tt.wantCode, tt.wantText)
			}
		})
	}
}

func TestRawDeliveryDropsAMessageTheQueueWouldRefuseAndSaysSo(t *testing.T) {
	var logged []string
	e := start(t, &topology.Stack{
		Topics: []topology.Topic{{Name: "events"}},
		Queues: []topology.Queue{{Name: "raw", VisibilityTimeoutSeconds: 30}, {Name: "wrapped", VisibilityTimeoutSeconds: 30}},
		Subscriptions: []topology.Subscription{
			{Topic: "events", Queue: "raw", RawMessageDelivery: true},
			{Topic: "events", Queue: "wrapped"},
		},
	}, WithLog(func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }))
	attrs := map[string]snstypes.MessageAttributeValue{}
	for i := range 11 {
		attrs[fmt.Sprintf("a%d", i)] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("v")}
	}
	if _, err := e.sns.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(e.broker.TopicARN("events")), Message: aws.String("m"), MessageAttributes: attrs}); err != nil {
		t.Fatalf("SNS accepts eleven attributes: %v", err)
	}
	if n, _, _ := e.broker.Counts("raw"); n != 0 {
		t.Error("raw delivery put a message with eleven attributes on the queue")
	}
	if n, _, _ := e.broker.Counts("wrapped"); n != 1 {
		t.Error("a notification of a message with eleven attributes was not delivered")
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "dropped a message for queue raw") || !strings.Contains(logged[0], "11") {
		t.Errorf("log = %q, want one line saying the delivery to raw was dropped", logged)
	}
}

func TestAFIFOTopicDeliversToAStandardQueueWithoutItsDeduplicationID(t *testing.T) {
	e := start(t, &topology.Stack{
		Topics:        []topology.Topic{{Name: "events.fifo", FIFO: true}},
		Queues:        []topology.Queue{{Name: "plain", VisibilityTimeoutSeconds: 30}},
		Subscriptions: []topology.Subscription{{Topic: "events.fifo", Queue: "plain", RawMessageDelivery: true}},
	})
	_, err := e.sns.Publish(context.Background(), &sns.PublishInput{
		TopicArn: aws.String(e.broker.TopicARN("events.fifo")), Message: aws.String("m"),
		MessageGroupId: aws.String("tenant"), MessageDeduplicationId: aws.String("d"),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := e.receive(t, "plain", 1)
	if len(got) != 1 || got[0].Attributes["MessageGroupId"] != "tenant" {
		t.Fatalf("got %v, want the message with its group", bodies(got))
	}
	if _, ok := got[0].Attributes["MessageDeduplicationId"]; ok {
		t.Error("a standard queue's message carries a deduplication id")
	}
}
