package deadletter

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/personabackend/app/internal/localaws/localawstest"
)

// queues creates, on moto, a FIFO queue named name and its dead-letter queue, and
// returns a client and the dead-letter queue's URL.
func queues(t *testing.T, name string) (*sqs.Client, string) {
	t.Helper()
	srv := localawstest.Moto(t)
	cfg := localawstest.Config()
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	ctx := context.Background()
	dlq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	dlqArn, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":3}`, dlqArn.Attributes["QueueArn"])
	if _, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + ".fifo"),
		Attributes: map[string]string{"FifoQueue": "true", "RedrivePolicy": redrive}}); err != nil {
		t.Fatal(err)
	}
	return client, aws.ToString(dlq.QueueUrl)
}

func send(t *testing.T, client *sqs.Client, url string, bodies ...string) {
	t.Helper()
	for i, body := range bodies {
		if _, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(url), MessageBody: aws.String(body),
			MessageGroupId: aws.String(fmt.Sprintf("user-%d", i)), MessageDeduplicationId: aws.String(fmt.Sprintf("task-%d", i)),
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func bodies(ms []Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Body)
	}
	slices.Sort(out)
	return out
}

func TestPeekShowsEveryDeadLetteredMessageAndLeavesItThere(t *testing.T) {
	client, url := queues(t, "shop-dev-orders")
	send(t, client, url, "task a", "task b", "task c")
	ctx := context.Background()
	dlq, err := Find(ctx, client, "shop-dev-orders-dlq.fifo")
	if err != nil {
		t.Fatal(err)
	}
	if dlq.Messages != 3 || !strings.HasSuffix(dlq.Arn, ":shop-dev-orders-dlq.fifo") {
		t.Errorf("found %+v", dlq)
	}
	for look := 1; look <= 2; look++ {
		got, err := Peek(ctx, client, dlq, 100)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"task a", "task b", "task c"}; !slices.Equal(bodies(got), want) {
			t.Fatalf("look %d saw %v, want %v", look, bodies(got), want)
		}
		for _, m := range got {
			if m.ID == "" || m.Group == "" || m.SentAt.IsZero() || m.Receives != look {
				t.Errorf("look %d: message %+v lacks its id, group, sending time or receive count", look, m)
			}
		}
	}
	// Nothing is held back: a consumer receives every message at once.
	resp, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Messages) != 3 {
		t.Errorf("after two looks a consumer receives %d messages, want all 3", len(resp.Messages))
	}
}

func TestPeekStopsAtItsLimitAndKeepsTheRest(t *testing.T) {
	client, url := queues(t, "shop-dev-mail")
	var many []string
	for i := range 12 {
		many = append(many, fmt.Sprintf("task %02d", i))
	}
	send(t, client, url, many...)
	ctx := context.Background()
	dlq, err := Find(ctx, client, "shop-dev-mail-dlq.fifo")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Peek(ctx, client, dlq, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Errorf("peek with limit 5 returned %d messages", len(got))
	}
	if all, err := Peek(ctx, client, dlq, 100); err != nil || len(all) != 12 {
		t.Errorf("a second look found %d messages (%v), want all 12", len(all), err)
	}
}

func TestFindingAQueueThatIsNotThereSaysToDeployFirst(t *testing.T) {
	client, _ := queues(t, "shop-dev-other")
	_, err := Find(context.Background(), client, "shop-prod-orders-dlq.fifo")
	if err == nil || !strings.Contains(err.Error(), "does not exist in this account and region: deploy the stage first") {
		t.Errorf("Find = %v", err)
	}
}

// moves answers StartMessageMoveTask and ListMessageMoveTasks, which moto 5.2.1 does
// not implement, with the move statuses it is given, and records what it was asked;
// every other call goes to moto.
type moves struct {
	*sqs.Client
	started  []*sqs.StartMessageMoveTaskInput
	statuses []types.ListMessageMoveTasksResultEntry
	listed   int
}

func (m *moves) StartMessageMoveTask(_ context.Context, in *sqs.StartMessageMoveTaskInput, _ ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error) {
	m.started = append(m.started, in)
	return &sqs.StartMessageMoveTaskOutput{TaskHandle: aws.String("task-1")}, nil
}

func (m *moves) ListMessageMoveTasks(_ context.Context, in *sqs.ListMessageMoveTasksInput, _ ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error) {
	entry := m.statuses[min(m.listed, len(m.statuses)-1)]
	m.listed++
	entry.SourceArn = in.SourceArn
	return &sqs.ListMessageMoveTasksOutput{Results: []types.ListMessageMoveTasksResultEntry{
		{TaskHandle: aws.String("an-older-move"), Status: aws.String("COMPLETED")},
		entry,
	}}, nil
}

func entry(status string, moved, toMove int64) types.ListMessageMoveTasksResultEntry {
	return types.ListMessageMoveTasksResultEntry{TaskHandle: aws.String("task-1"), Status: aws.String(status),
		ApproximateNumberOfMessagesMoved: moved, ApproximateNumberOfMessagesToMove: aws.Int64(toMove)}
}

func TestRedriveMovesTheDeadLetterQueueBackToItsQueueAndFollowsTheMoveToItsEnd(t *testing.T) {
	client, _ := queues(t, "shop-dev-orders")
	ctx := context.Background()
	dlq, err := Find(ctx, client, "shop-dev-orders-dlq.fifo")
	if err != nil {
		t.Fatal(err)
	}
	queue, err := Find(ctx, client, "shop-dev-orders.fifo")
	if err != nil {
		t.Fatal(err)
	}
	sqsMoves := &moves{Client: client, statuses: []types.ListMessageMoveTasksResultEntry{
		entry("RUNNING", 0, 3), entry("RUNNING", 2, 3), entry("COMPLETED", 3, 3),
	}}
	handle, err := Redrive(ctx, sqsMoves, dlq, queue)
	if err != nil {
		t.Fatal(err)
	}
	if len(sqsMoves.started) != 1 || aws.ToString(sqsMoves.started[0].SourceArn) != dlq.Arn || aws.ToString(sqsMoves.started[0].DestinationArn) != queue.Arn {
		t.Fatalf("started %+v, want one move from %s to %s", sqsMoves.started, dlq.Arn, queue.Arn)
	}
	var seen []int64
	move, err := Follow(ctx, sqsMoves, dlq, handle, time.Millisecond, func(m Move) { seen = append(seen, m.Moved) })
	if err != nil {
		t.Fatal(err)
	}
	if move.Status != "COMPLETED" || move.Moved != 3 || !slices.Equal(seen, []int64{0, 2, 3}) {
		t.Errorf("move %+v, progress %v", move, seen)
	}
}

func TestFollowingAMoveThatFailedReturnsWhySQSGaveUp(t *testing.T) {
	client, _ := queues(t, "shop-dev-orders")
	ctx := context.Background()
	dlq, err := Find(ctx, client, "shop-dev-orders-dlq.fifo")
	if err != nil {
		t.Fatal(err)
	}
	failed := entry("FAILED", 1, 3)
	failed.FailureReason = aws.String("AccessDenied")
	move, err := Follow(ctx, &moves{Client: client, statuses: []types.ListMessageMoveTasksResultEntry{failed}}, dlq, "task-1", time.Millisecond, func(Move) {})
	if err != nil || !move.Done() || move.Failure != "AccessDenied" {
		t.Errorf("Follow = %+v, %v", move, err)
	}
	if _, err := Follow(ctx, &moves{Client: client, statuses: []types.ListMessageMoveTasksResultEntry{failed}}, dlq, "task-9", time.Millisecond, func(Move) {}); err == nil {
		t.Error("following a move SQS does not list succeeded")
	}
}
