package dev

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/personabackend/app/dev/queues"
	"github.com/personabackend/app/topology"
)

// queueClient is the part of the SQS client the poller uses.
type queueClient interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// invoker runs a function by name.
type invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// poller feeds one queue's messages to a function in SQS event batches, as Lambda's
// event source mapping does: it deletes the messages the function handled and leaves
// the rest to reappear after the visibility timeout, and so to reach the dead-letter queue.
type poller struct {
	source     topology.EventSource
	queueURL   string
	queueARN   string
	region     string
	visibility time.Duration // the queue's visibility timeout
	client     queueClient
	invoke     invoker
	logf       func(format string, args ...any)
}

// batchResult is what one batch came to.
type batchResult struct {
	received, failed int
	err              error
}

func (p *poller) run(ctx context.Context) {
	// Lambda checks, when it creates the mapping, that the function's role can read the queue.
	if _, err := p.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(p.queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	}); err != nil && ctx.Err() == nil {
		p.logf("queue %s -> %s: the function's role cannot read the queue, so Lambda would not create the event source mapping: %v", p.source.Queue, p.source.Function, err)
	}
	lastErr := ""
	for ctx.Err() == nil {
		msgs, err := p.collect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// The same failure each second says nothing new.
			if err.Error() != lastErr {
				p.logf("queue %s: receiving: %v", p.source.Queue, err)
				lastErr = err.Error()
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		lastErr = ""
		if len(msgs) == 0 {
			continue
		}
		begin := time.Now()
		r := p.handle(ctx, msgs)
		line := fmt.Sprintf("queue %s -> %s  %s, %d failed  %s", p.source.Queue, p.source.Function, count(r.received, "message"), r.failed, time.Since(begin).Round(100*time.Microsecond))
		if r.err != nil {
			line += "  " + r.err.Error()
		}
		p.logf("%s", line)
	}
}

// collect long-polls for a batch. With a batching window it keeps receiving, as Lambda
// does, until the batch is full or the window since the first message has passed.
func (p *poller) collect(ctx context.Context) ([]sqstypes.Message, error) {
	size := min(max(p.source.BatchSize, 1), 10)
	msgs, err := p.receive(ctx, size, 20)
	if err != nil || len(msgs) == 0 || p.source.MaxBatchingWindowSeconds <= 0 {
		return msgs, err
	}
	deadline := time.Now().Add(time.Duration(p.source.MaxBatchingWindowSeconds) * time.Second)
	for len(msgs) < size {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		more, err := p.receive(ctx, size-len(msgs), int32((left+time.Second-1)/time.Second))
		if err != nil {
			// What was received is in flight: hand it over rather than let it time out.
			break
		}
		msgs = append(msgs, more...)
	}
	return msgs, nil
}

func (p *poller) receive(ctx context.Context, n int, wait int32) ([]sqstypes.Message, error) {
	out, err := p.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.queueURL),
		MaxNumberOfMessages:         int32(n),
		WaitTimeSeconds:             wait,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// handle invokes the function with one batch and deletes the messages it handled.
func (p *poller) handle(ctx context.Context, msgs []sqstypes.Message) batchResult {
	res := batchResult{received: len(msgs)}
	payload, err := json.Marshal(p.event(msgs))
	if err != nil {
		res.failed, res.err = len(msgs), fmt.Errorf("encoding the event: %w", err)
		return res
	}
	out, err := p.invoke.Invoke(ctx, p.source.Function, payload)
	if err != nil {
		// A failed invoke fails the whole batch: every message comes back.
		res.failed, res.err = len(msgs), err
		return res
	}
	failed, err := p.failures(out, msgs)
	if err != nil {
		res.failed, res.err = len(msgs), err
		return res
	}
	res.failed = len(failed)
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	byEntry := map[string]sqstypes.Message{}
	for i, m := range msgs {
		if !failed[*m.MessageId] {
			id := strconv.Itoa(i)
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: m.ReceiptHandle})
			byEntry[id] = m
		}
	}
	if len(entries) == 0 {
		return res
	}
	del, err := p.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.queueURL), Entries: entries})
	if err != nil {
		res.err = fmt.Errorf("deleting handled messages: %w", err)
		return res
	}
	for _, f := range del.Failed {
		m, ok := byEntry[aws.ToString(f.Id)]
		if !ok {
			p.logf("queue %s -> %s: deleting handled messages: SQS refused entry %q, which the request did not hold: %s: %s",
				p.source.Queue, p.source.Function, aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message))
			continue
		}
		id := aws.ToString(m.MessageId)
		if queues.IsExpiredReceiptHandle(aws.ToString(f.Code), aws.ToString(f.Message)) {
			p.logf("queue %s -> %s: message %s was handled after the queue's visibility timeout (%s) had passed, so SQS refused to delete it and delivers it again, as AWS does: make the function faster or the visibility timeout longer",
				p.source.Queue, p.source.Function, id, p.visibility)
			continue
		}
		p.logf("queue %s -> %s: deleting handled message %s: %s: %s", p.source.Queue, p.source.Function, id, aws.ToString(f.Code), aws.ToString(f.Message))
	}
	return res
}

// failures reads the function's batchItemFailures. As Lambda does, an empty or null
// answer is a success, while one that is not a batch response or names a message not
// in the batch fails the whole batch; without ReportBatchItemFailures
// on the event source the answer is not read.
func (p *poller) failures(out []byte, msgs []sqstypes.Message) (map[string]bool, error) {
	failed := map[string]bool{}
	if !p.source.ReportBatchItemFailures {
		return failed, nil
	}
	if len(out) == 0 || string(out) == "null" {
		return failed, nil
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("the function's answer is not a batch response (%v): the whole batch is retried", err)
	}
	inBatch := map[string]bool{}
	for _, m := range msgs {
		inBatch[*m.MessageId] = true
	}
	for _, f := range resp.BatchItemFailures {
		if !inBatch[f.ItemIdentifier] {
			return nil, errors.New("batchItemFailures names a message that is not in the batch: the whole batch is retried")
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, nil
}

func (p *poller) event(msgs []sqstypes.Message) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		rec := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             m.Attributes,
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			EventSourceARN:         p.queueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              p.region,
		}
		for name, a := range m.MessageAttributes {
			rec.MessageAttributes[name] = events.SQSMessageAttribute{
				DataType:    aws.ToString(a.DataType),
				StringValue: a.StringValue,
				BinaryValue: a.BinaryValue,
			}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}
