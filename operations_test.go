package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/persona"
)

// opsStage is the personal stage the operations tests run against: its queues on moto
// and its table on dynalite, named as the stack names them.
const opsStage = "opstest"

func opsName(s string) string { return "persona-" + opsStage + "-" + s }

// localStage points the AWS SDK at moto (SQS) and dynalite (DynamoDB) and creates the
// stage's persona table there.
func localStage(t *testing.T) (*persona.Store, *sqs.Client) {
	t.Helper()
	moto, dynalite := localawstest.Moto(t), localawstest.Dynalite(t)
	t.Setenv("AWS_REGION", localawstest.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_ENDPOINT_URL_SQS", moto.Endpoint)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", dynalite.Endpoint)
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dynalite.Endpoint) })
	if err := localaws.CreateTable(context.Background(), db, opsName("persona"), persona.TableSchema()); err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(localawstest.Config(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) })
	return persona.NewStore(db, opsName("persona")), client
}

func TestDLQListsEachDeadLetteredTaskWithItsPersonaNowAndLeavesItThere(t *testing.T) {
	store, client := localStage(t)
	ctx := context.Background()
	for _, q := range []string{"persona.fifo", "persona-dlq.fifo"} {
		if _, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(opsName(q)), Attributes: map[string]string{"FifoQueue": "true"}}); err != nil {
			t.Fatal(err)
		}
	}
	at := persona.FormatTime(time.Now())
	for id, status := range map[string]persona.Status{"p-failed": persona.StatusFailed, "p-waiting": persona.StatusProvisioning} {
		p := persona.Persona{ID: id, UserID: "user-" + id, Spec: persona.Spec{Name: "Guide", Instructions: "Be brief."},
			Status: status, CreatedAt: at, UpdatedAt: at, TaskState: persona.TaskPublished}
		if status == persona.StatusFailed {
			p.StatusReason = "provisioning did not finish within 15 minutes; request the persona again"
		} else {
			p.InFlightSince = at
		}
		if err := store.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	found, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(opsName("persona-dlq.fifo"))})
	if err != nil {
		t.Fatal(err)
	}
	dlqURL := aws.ToString(found.QueueUrl)
	for i, body := range []string{
		`{"type":"persona.provision","personaId":"p-failed","userId":"user-p-failed"}`,
		`{"type":"persona.provision","personaId":"p-waiting","userId":"user-p-waiting"}`,
		`not a task`,
	} {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlqURL), MessageBody: aws.String(body),
			MessageGroupId: aws.String(fmt.Sprint("g", i)), MessageDeduplicationId: aws.String(fmt.Sprint("d", i))}); err != nil {
			t.Fatal(err)
		}
	}

	var out bytes.Buffer
	if err := dlq(ctx, opsStage, false, 100, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		opsName("persona-dlq.fifo") + " holds 3 task(s)",
		"p-failed", "failed: provisioning did not finish within 15 minutes",
		"p-waiting", "provisioning",
		"not a provisioning task",
		"go run . dlq --stage opstest --redrive",
		"1 of their personas are failed by now and stay failed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the listing does not say %q:\n%s", want, out.String())
		}
	}
	// The listing consumed nothing.
	resp, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10})
	if err != nil || len(resp.Messages) != 3 {
		t.Fatalf("after the listing the dead-letter queue gives %d messages (%v), want all 3", len(resp.Messages), err)
	}
}

func TestDLQOfAStageNotDeployedSaysSo(t *testing.T) {
	localStage(t)
	err := dlq(context.Background(), opsStage, false, 100, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "deploy the stage first") {
		t.Fatalf("dlq = %v", err)
	}
}

func TestBackfillInFlightReportsWhatItPutIntoTheIndex(t *testing.T) {
	store, _ := localStage(t)
	ctx := context.Background()
	at := persona.FormatTime(time.Now().Add(-time.Hour))
	for id, status := range map[string]persona.Status{"old-requested": persona.StatusRequested, "old-ready": persona.StatusReady} {
		if err := store.Create(ctx, persona.Persona{ID: id, UserID: "user-a", Spec: persona.Spec{Name: "Guide", Instructions: "Be brief."},
			Status: status, CreatedAt: at, UpdatedAt: at, TaskState: persona.TaskPublished}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := backfill(ctx, opsStage, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Read 2 personas") || !strings.Contains(out.String(), "put 1 in flight into StatusIndex") {
		t.Errorf("output %q", out.String())
	}
	if n, err := store.CountInFlight(ctx, "user-a", 10); err != nil || n != 1 {
		t.Errorf("user-a has %d personas in flight (%v), want the old requested one", n, err)
	}
}
