package dev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/personabackend/app/dev/queues"
	"github.com/personabackend/app/topology"
)

// fakeQueue hands out its batches one receive at a time and records which receipt
// handles the poller deletes.
type fakeQueue struct {
	batches [][]sqstypes.Message
	deleted []string
	// refused are the receipt handles a delete refuses, with SQS's code and message.
	refused map[string][2]string
	// stray are failed entries a delete answers besides those of its request.
	stray []sqstypes.BatchResultErrorEntry
}

func (f *fakeQueue) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{}, nil
}

func (f *fakeQueue) ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	if len(f.batches) == 0 {
		return &sqs.ReceiveMessageOutput{}, nil
	}
	next := f.batches[0]
	f.batches = f.batches[1:]
	return &sqs.ReceiveMessageOutput{Messages: next}, nil
}

func (f *fakeQueue) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	out := &sqs.DeleteMessageBatchOutput{}
	for _, e := range in.Entries {
		if refusal, ok := f.refused[*e.ReceiptHandle]; ok {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String(refusal[0]), Message: aws.String(refusal[1]), SenderFault: true})
			continue
		}
		f.deleted = append(f.deleted, *e.ReceiptHandle)
	}
	out.Failed = append(out.Failed, f.stray...)
	return out, nil
}

// fakeFunction answers every invoke with out or err and keeps the event it got.
type fakeFunction struct {
	out   string
	err   error
	event events.SQSEvent
}

func (f *fakeFunction) Invoke(_ context.Context, _ string, payload []byte) ([]byte, error) {
	if err := json.Unmarshal(payload, &f.event); err != nil {
		return nil, err
	}
	return []byte(f.out), f.err
}

func batch(ids ...string) []sqstypes.Message {
	var msgs []sqstypes.Message
	for _, id := range ids {
		msgs = append(msgs, sqstypes.Message{
			MessageId: aws.String(id), ReceiptHandle: aws.String("rh-" + id), Body: aws.String("body-" + id),
			Attributes:        map[string]string{"ApproximateReceiveCount": "1", "MessageGroupId": "g"},
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"queue": {DataType: aws.String("String"), StringValue: aws.String("persona")}},
		})
	}
	return msgs
}

func TestPollerDeletesOnlyWhatTheFunctionHandled(t *testing.T) {
	tests := []struct {
		name        string
		report      bool
		out         string
		err         error
		wantDeleted string
		wantFailed  int
	}{
		{"a batch without failures is deleted", true, `{"batchItemFailures":[]}`, nil, "rh-a rh-b rh-c", 0},
		{"a null answer counts as success", true, `null`, nil, "rh-a rh-b rh-c", 0},
		{"reported failures stay on the queue", true, `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, nil, "rh-a rh-c", 1},
		{"a failure naming an unknown message fails the batch", true, `{"batchItemFailures":[{"itemIdentifier":"zzz"}]}`, nil, "", 3},
		{"an answer that is not JSON fails the batch", true, `not json`, nil, "", 3},
		{"an answer that is not a batch response fails the batch", true, `["b"]`, nil, "", 3},
		{"an empty answer counts as success", true, ``, nil, "rh-a rh-b rh-c", 0},
		{"a function error fails the whole batch", true, ``, errors.New("Runtime.ExitError"), "", 3},
		{"without ReportBatchItemFailures the answer is not read", false, `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, nil, "rh-a rh-b rh-c", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeQueue{}
			fn := &fakeFunction{out: tt.out, err: tt.err}
			p := &poller{
				source:   topology.EventSource{Queue: "q.fifo", Function: "worker", BatchSize: 10, ReportBatchItemFailures: tt.report},
				queueURL: "http://local/000000000000/q.fifo", queueARN: "arn:aws:sqs:us-east-1:000000000000:q.fifo", region: "us-east-1",
				client: q, invoke: fn, logf: t.Logf,
			}
			res := p.handle(context.Background(), batch("a", "b", "c"))
			sort.Strings(q.deleted)
			if got := strings.Join(q.deleted, " "); got != tt.wantDeleted {
				t.Errorf("deleted %q, want %q", got, tt.wantDeleted)
			}
			if res.failed != tt.wantFailed {
				t.Errorf("failed = %d, want %d", res.failed, tt.wantFailed)
			}
		})
	}
}

func TestPollerSendsARealSQSEvent(t *testing.T) {
	fn := &fakeFunction{out: `{}`}
	p := &poller{
		source:   topology.EventSource{Queue: "q.fifo", Function: "worker", BatchSize: 10},
		queueURL: "http://local/000000000000/q.fifo", queueARN: "arn:aws:sqs:us-east-1:000000000000:q.fifo", region: "us-east-1",
		client: &fakeQueue{}, invoke: fn, logf: t.Logf,
	}
	p.handle(context.Background(), batch("a"))
	if len(fn.event.Records) != 1 {
		t.Fatalf("event has %d records, want 1", len(fn.event.Records))
	}
	r := fn.event.Records[0]
	checks := []struct{ what, got, want string }{
		{"messageId", r.MessageId, "a"},
		{"receiptHandle", r.ReceiptHandle, "rh-a"},
		{"body", r.Body, "body-a"},
		{"eventSource", r.EventSource, "aws:sqs"},
		{"eventSourceARN", r.EventSourceARN, "arn:aws:sqs:us-east-1:000000000000:q.fifo"},
		{"awsRegion", r.AWSRegion, "us-east-1"},
		{"ApproximateReceiveCount", r.Attributes["ApproximateReceiveCount"], "1"},
		{"MessageGroupId", r.Attributes["MessageGroupId"], "g"},
		{"message attribute", aws.ToString(r.MessageAttributes["queue"].StringValue), "persona"},
		{"message attribute type", r.MessageAttributes["queue"].DataType, "String"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
}

func TestPollerFillsABatchWithinItsBatchingWindow(t *testing.T) {
	for _, tt := range []struct {
		name   string
		window int
		want   int
	}{
		{"without a window the first receive is the batch", 0, 1},
		{"with a window later receives join the batch", 1, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeQueue{batches: [][]sqstypes.Message{batch("a"), batch("b", "c")}}
			p := &poller{
				source: topology.EventSource{Queue: "q", Function: "worker", BatchSize: 10, MaxBatchingWindowSeconds: tt.window},
				client: q, logf: t.Logf,
			}
			msgs, err := p.collect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != tt.want {
				t.Errorf("batch of %d messages, want %d", len(msgs), tt.want)
			}
		})
	}
}

func TestPollerSaysWhyItCouldNotDeleteAHandledMessage(t *testing.T) {
	expired := [2]string{"InvalidParameterValue", "Value rh-b for parameter ReceiptHandle is invalid. Reason: " + queues.ExpiredReceiptHandle}
	tests := []struct {
		name    string
		refused map[string][2]string
		stray   []sqstypes.BatchResultErrorEntry
		want    string
	}{
		{"a handle past its visibility timeout names the timeout and what to do", map[string][2]string{"rh-b": expired}, nil,
			"message b was handled after the queue's visibility timeout (2s) had passed, so SQS refused to delete it and delivers it again"},
		{"another refusal is logged with SQS's code and message", map[string][2]string{"rh-b": {"ReceiptHandleIsInvalid", "The input receipt handle is invalid."}}, nil,
			"deleting handled message b: ReceiptHandleIsInvalid: The input receipt handle is invalid."},
		{"a failed entry the request did not hold is logged, not looked up", nil,
			[]sqstypes.BatchResultErrorEntry{{Id: aws.String("7"), Code: aws.String("InternalError"), Message: aws.String("boom")}},
			`SQS refused entry "7", which the request did not hold: InternalError: boom`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeQueue{refused: tt.refused, stray: tt.stray}
			var logged []string
			p := &poller{
				source:   topology.EventSource{Queue: "q.fifo", Function: "worker", BatchSize: 10, ReportBatchItemFailures: true},
				queueURL: "http://local/000000000000/q.fifo", visibility: 2 * time.Second,
				client: q, invoke: &fakeFunction{out: `{}`}, logf: func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) },
			}
			p.handle(context.Background(), batch("a", "b"))
			if len(logged) != 1 || !strings.Contains(logged[0], tt.want) {
				t.Errorf("log = %q, want one line saying %q", logged, tt.want)
			}
		})
	}
}
