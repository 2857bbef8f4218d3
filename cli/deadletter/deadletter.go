// Package deadletter shows what a queue's dead-letter queue holds without consuming it,
// and moves its messages back to the queue with SQS's dead-letter queue redrive.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS is the part of the SQS client the dead-letter tools use.
type SQS interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	StartMessageMoveTask(ctx context.Context, in *sqs.StartMessageMoveTaskInput, optFns ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	ListMessageMoveTasks(ctx context.Context, in *sqs.ListMessageMoveTasksInput, optFns ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error)
}

// Queue is a queue found by name: where to call it and what IAM and redrive call it.
type Queue struct {
	Name string
	URL  string
	Arn  string
	// Messages is how many messages the queue holds that no consumer has in flight,
	// as SQS estimates it (ApproximateNumberOfMessages).
	Messages int
}

// Find looks the queue up by name.
func Find(ctx context.Context, client SQS, name string) (Queue, error) {
	url, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	var missing *types.QueueDoesNotExist
	if errors.As(err, &missing) {
		return Queue{}, fmt.Errorf("queue %s does not exist in this account and region: deploy the stage first, or check AWS_PROFILE and AWS_REGION", name)
	}
	if err != nil {
		return Queue{}, fmt.Errorf("finding queue %s: %w", name, err)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       url.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn, types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return Queue{}, fmt.Errorf("reading the attributes of queue %s: %w", name, err)
	}
	q := Queue{Name: name, URL: aws.ToString(url.QueueUrl), Arn: attrs.Attributes[string(types.QueueAttributeNameQueueArn)]}
	if n := attrs.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)]; n != "" {
		if q.Messages, err = strconv.Atoi(n); err != nil {
			return Queue{}, fmt.Errorf("queue %s reports %q messages, which is not a number", name, n)
		}
	}
	return q, nil
}

// Message is a message of the dead-letter queue.
type Message struct {
	ID   string
	Body string
	// SentAt is when the message was first sent, to the queue it came from.
	SentAt time.Time
	// Receives counts every time the message was received, including its attempts on
	// the queue it came from and any looks at it here.
	Receives int
	// Group is the message group of a FIFO queue's message.
	Group string
}

// peekHold is how long a look at the dead-letter queue holds the messages it received:
// long enough to read all of them, each of which is then made visible again at once.
const peekHold = 60 * time.Second

// Peek returns up to limit messages of the dead-letter queue and leaves all of them in
// it. SQS has no read without a receive, so it receives them, holding each for
// peekHold so that the next receive returns others, then makes each visible again. A
// receive still counts: each message's receive count grows by one, which a
// dead-letter queue, having no dead-letter queue of its own, ignores. Of a FIFO
// queue it sees at most one receive's worth (10) per message group: the rest of a
// group stays locked behind the messages held.
func Peek(ctx context.Context, client SQS, dlq Queue, limit int) ([]Message, error) {
	var (
		out     []Message
		seen    = map[string]bool{}
		handles []types.ChangeMessageVisibilityBatchRequestEntry
	)
	var peekErr error
	for len(out) < limit {
		batch := int32(min(10, limit-len(out)))
		resp, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(dlq.URL),
			MaxNumberOfMessages: batch,
			VisibilityTimeout:   int32(peekHold.Seconds()),
			WaitTimeSeconds:     1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{
				types.MessageSystemAttributeNameSentTimestamp,
				types.MessageSystemAttributeNameApproximateReceiveCount,
				types.MessageSystemAttributeNameMessageGroupId,
			},
		})
		if err != nil {
			peekErr = fmt.Errorf("receiving from %s: %w", dlq.Name, err)
			break
		}
		if len(resp.Messages) == 0 {
			break
		}
		for _, m := range resp.Messages {
			handles = append(handles, types.ChangeMessageVisibilityBatchRequestEntry{
				Id:                aws.String(strconv.Itoa(len(handles))),
				ReceiptHandle:     m.ReceiptHandle,
				VisibilityTimeout: 0,
			})
			id := aws.ToString(m.MessageId)
			if seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, message(m))
		}
	}
	// Let go of what was received even when a receive failed or ctx ended meanwhile.
	release := context.WithoutCancel(ctx)
	if err := releaseAll(release, client, dlq, handles); err != nil {
		return out, errors.Join(peekErr, err)
	}
	return out, peekErr
}

func message(m types.Message) Message {
	out := Message{ID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), Group: m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]}
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		out.SentAt = time.UnixMilli(ms).UTC()
	}
	out.Receives, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	return out
}

// releaseAll makes the received messages visible again, ten at a time.
func releaseAll(ctx context.Context, client SQS, dlq Queue, handles []types.ChangeMessageVisibilityBatchRequestEntry) error {
	failed := 0
	for start := 0; start < len(handles); start += 10 {
		resp, err := client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: aws.String(dlq.URL),
			Entries:  handles[start:min(start+10, len(handles))],
		})
		if err != nil {
			return fmt.Errorf("making the messages of %s visible again (they will be in %s anyway): %w", dlq.Name, peekHold, err)
		}
		failed += len(resp.Failed)
	}
	if failed > 0 {
		return fmt.Errorf("%d message(s) of %s could not be made visible again at once; they will be in %s", failed, dlq.Name, peekHold)
	}
	return nil
}

// Move is a message move task: a redrive from a dead-letter queue.
type Move struct {
	Handle string
	// Status is RUNNING, COMPLETED, CANCELLING, CANCELLED or FAILED.
	Status  string
	Moved   int64
	ToMove  int64 // 0 when SQS does not know yet
	Failure string
}

// Done reports whether the move has ended.
func (m Move) Done() bool { return m.Status != "RUNNING" && m.Status != "CANCELLING" }

// Redrive starts moving every message of dlq back to queue, as fast as SQS chooses,
// and returns the task's handle. SQS runs one move at a time per dead-letter queue.
func Redrive(ctx context.Context, client SQS, dlq, queue Queue) (string, error) {
	resp, err := client.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{
		SourceArn:      aws.String(dlq.Arn),
		DestinationArn: aws.String(queue.Arn),
	})
	if err != nil {
		return "", fmt.Errorf("starting to move the messages of %s back to %s: %w", dlq.Name, queue.Name, err)
	}
	return aws.ToString(resp.TaskHandle), nil
}

// Follow reports the move of handle every interval until it ends or ctx does.
func Follow(ctx context.Context, client SQS, dlq Queue, handle string, interval time.Duration, report func(Move)) (Move, error) {
	for {
		resp, err := client.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(dlq.Arn), MaxResults: aws.Int32(10)})
		if err != nil {
			return Move{}, fmt.Errorf("reading the moves from %s: %w", dlq.Name, err)
		}
		var move *Move
		for _, entry := range resp.Results {
			if aws.ToString(entry.TaskHandle) == handle {
				m := Move{
					Handle: handle, Status: aws.ToString(entry.Status), Moved: entry.ApproximateNumberOfMessagesMoved,
					ToMove: aws.ToInt64(entry.ApproximateNumberOfMessagesToMove), Failure: aws.ToString(entry.FailureReason),
				}
				move = &m
			}
		}
		if move == nil {
			return Move{}, fmt.Errorf("SQS lists no move %s from %s among its recent ones", handle, dlq.Name)
		}
		report(*move)
		if move.Done() {
			return *move, nil
		}
		select {
		case <-ctx.Done():
			return *move, ctx.Err()
		case <-time.After(interval):
		}
	}
}
