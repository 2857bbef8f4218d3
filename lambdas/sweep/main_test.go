package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/lambdas/internal/functiontest"
	"github.com/personabackend/app/persona"
)

// settings are the stage's as the stack gives them to the sweep: stuck after 15 minutes.
var settings = persona.Settings{Models: []string{"house-model"}, Tools: []string{"search"}, MaxInFlight: 5, StuckAfterSeconds: 900}

// env is what the deployed function gets, pointed at local servers.
func env(dynamoEndpoint, snsEndpoint, topicArn string) []string {
	return functiontest.Env(map[string]string{"DYNAMODB": dynamoEndpoint, "SNS": snsEndpoint},
		functiontest.TableLink(), functiontest.TopicLink(topicArn), functiontest.Settings(settings))
}

// personaQueue creates on moto the task topic and the persona queue subscribed to it,
// and returns the topic's ARN, a client and the queue's URL.
func personaQueue(t *testing.T, endpoint string) (string, *sqs.Client, string) {
	t.Helper()
	ctx := context.Background()
	topics := sns.NewFromConfig(localawstest.Config(), func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) })
	topic, err := topics.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(functiontest.TopicName), Attributes: map[string]string{"FifoTopic": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	queues := sqs.NewFromConfig(localawstest.Config(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	queue, err := queues.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(functiontest.QueueName), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	arn, err := queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	filter, _ := json.Marshal(persona.QueueFilter())
	if _, err := topics.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(arn.Attributes["QueueArn"]),
		Attributes: map[string]string{"RawMessageDelivery": "true", "FilterPolicy": string(filter)},
	}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(topic.TopicArn), queues, aws.ToString(queue.QueueUrl)
}

func TestTheBootstrapQueuesAgainOrFailsEachStuckPersonaAndSaysWhatItDid(t *testing.T) {
	ctx := context.Background()
	dynalite, moto := localawstest.Dynalite(t), localawstest.Moto(t)
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dynalite.Endpoint) })
	if err := localaws.CreateTable(ctx, db, functiontest.TableName, persona.TableSchema()); err != nil {
		t.Fatal(err)
	}
	store := persona.NewStore(db, functiontest.TableName)
	put := func(id string, status persona.Status, state persona.TaskState, age time.Duration) {
		at := persona.FormatTime(time.Now().Add(-age))
		p := persona.Persona{ID: id, UserID: "user-" + id, Spec: persona.Spec{Name: "Guide", Instructions: "Be brief."},
			Status: status, CreatedAt: at, UpdatedAt: at, TaskState: state, InFlightSince: at}
		if !status.InFlight() {
			p.InFlightSince = ""
		}
		if err := store.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	put("unqueued", persona.StatusRequested, persona.TaskPublishFailed, time.Hour)
	put("dead-lettered", persona.StatusProvisioning, persona.TaskPublished, time.Hour)
	put("working", persona.StatusProvisioning, persona.TaskPublished, time.Minute)
	put("done", persona.StatusReady, persona.TaskPublished, time.Hour)
	topicArn, queues, queueURL := personaQueue(t, moto.Endpoint)
	fn := localawstest.StartBootstrap(t, localawstest.BuildBootstrap(t, "./lambdas/sweep"), env(dynalite.Endpoint, moto.Endpoint, topicArn))

	// EventBridge Scheduler invokes it with the schedule's input, {}.
	res, err := fn.Invoke(ctx, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var got persona.SweepResult
	if err := json.Unmarshal(res.Payload, &got); err != nil || res.Failed {
		t.Fatalf("answer %s (failed %v)", res.Payload, res.Failed)
	}
	if got.Read != 3 || got.Stuck != 2 || got.Requeued != 1 || got.Failed != 1 || got.Errors != 0 {
		t.Fatalf("the sweep answered %+v, want 3 in flight read, 1 requeued and 1 failed", got)
	}
	for id, want := range map[string]persona.Status{"unqueued": persona.StatusRequested, "dead-lettered": persona.StatusFailed, "working": persona.StatusProvisioning, "done": persona.StatusReady} {
		if p, err := store.Get(ctx, id); err != nil || p.Status != want {
			t.Errorf("%s is %s (%v), want %s", id, p.Status, err, want)
		}
	}
	received, err := queues.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := received.Messages; len(msgs) != 1 || !strings.Contains(aws.ToString(msgs[0].Body), `"personaId":"unqueued"`) {
		t.Fatalf("the persona queue holds %+v, want the requeued persona's task", msgs)
	}
	if !strings.Contains(fn.Output(), `"msg":"sweep done"`) {
		t.Errorf("the run is not logged:\n%s", fn.Output())
	}
}

func TestTheBootstrapStopsAtInitWithoutItsSettingsOrThreshold(t *testing.T) {
	bin := localawstest.BuildBootstrap(t, "./lambdas/sweep")
	noThreshold := settings
	noThreshold.StuckAfterSeconds = 0
	for setting, want := range map[string]string{
		"": persona.SettingsEnv + " is not set",
		noThreshold.Environment()[persona.SettingsEnv]: "gives the sweep no stuckAfterSeconds",
	} {
		changed := functiontest.Without(env("http://127.0.0.1:1", "http://127.0.0.1:1", "arn:topic"), persona.SettingsEnv)
		if setting != "" {
			changed = append(changed, persona.SettingsEnv+"="+setting)
		}
		_, err := localawstest.StartFunction(context.Background(), bin, changed)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=%q: err = %v, want an init failure saying %s", persona.SettingsEnv, setting, err, want)
		}
	}
}
