package persona

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

// goawsTopic starts goaws with a FIFO task topic and, subscribed to it as the stack
// subscribes them (raw delivery, filter on the queue attribute), a persona queue and
// a queue for some other kind of task.
func goawsTopic(t *testing.T) (client *sns.Client, topicArn string, sqs localawstest.GoawsSQS, personaQueue, otherQueue string) {
	t.Helper()
	ctx := context.Background()
	srv := localawstest.Goaws(t)
	sqs = localawstest.GoawsSQS{Endpoint: srv.Endpoint}
	client = sns.NewFromConfig(localawstest.Config(), func(o *sns.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{
		Name:       aws.String("tasks.fifo"),
		Attributes: map[string]string{"FifoTopic": "true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	subscribe := func(queue, filter string) string {
		url, arn, err := sqs.CreateQueue(ctx, queue)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(arn),
			Attributes: map[string]string{"RawMessageDelivery": "true", "FilterPolicy": filter},
		}); err != nil {
			t.Fatal(err)
		}
		return url
	}
	personaQueue = subscribe("persona.fifo", `{"queue":["persona"]}`)
	otherQueue = subscribe("other.fifo", `{"queue":["other"]}`)
	return client, *topic.TopicArn, sqs, personaQueue, otherQueue
}

func TestAPublishedTaskReachesThePersonaQueueWithItsAttributes(t *testing.T) {
	ctx := context.Background()
	client, topicArn, sqs, personaQueue, otherQueue := goawsTopic(t)
	task := Task{Type: TaskTypeProvision, PersonaID: "p1", UserID: "user-a", RequestedAt: "2026-11-25T10:00:00.000Z"}

	if err := NewTaskPublisher(client, topicArn, true).Publish(ctx, task); err != nil {
		t.Fatal(err)
	}

	msgs, err := sqs.Receive(ctx, personaQueue, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("persona queue holds %d messages, want 1", len(msgs))
	}
	var got Task
	if err := json.Unmarshal([]byte(msgs[0].Body), &got); err != nil {
		t.Fatalf("body %q is not the task (raw delivery expected): %v", msgs[0].Body, err)
	}
	if got != task {
		t.Fatalf("received %+v, want %+v", got, task)
	}
	if msgs[0].Attributes[QueueAttribute] != QueueName {
		t.Fatalf("message attributes %v, want %s=%s", msgs[0].Attributes, QueueAttribute, QueueName)
	}
	if other, _ := sqs.Receive(ctx, otherQueue, 10); len(other) != 0 {
		t.Fatalf("the other queue received the persona task: %+v", other)
	}
}

func TestAMessageForAnotherQueueIsNotRoutedToThePersonaQueue(t *testing.T) {
	ctx := context.Background()
	client, topicArn, sqs, personaQueue, otherQueue := goawsTopic(t)
	_, err := client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topicArn), Message: aws.String(`{"type":"report.build"}`),
		MessageGroupId: aws.String("user-a"), MessageDeduplicationId: aws.String("r1"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			QueueAttribute: {DataType: aws.String("String"), StringValue: aws.String("other")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if msgs, _ := sqs.Receive(ctx, personaQueue, 10); len(msgs) != 0 {
		t.Fatalf("persona queue received %+v, want nothing", msgs)
	}
	if msgs, _ := sqs.Receive(ctx, otherQueue, 10); len(msgs) != 1 {
		t.Fatalf("the other queue holds %d messages, want 1 (the filter is doing nothing)", len(msgs))
	}
}

// recordingSNS keeps what was published; goaws does not report FIFO group or
// deduplication ids back, so these are checked on the request itself.
type recordingSNS struct{ inputs []*sns.PublishInput }

func (r *recordingSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	r.inputs = append(r.inputs, in)
	return &sns.PublishOutput{}, nil
}

func TestPublishGroupsTasksByUserAndDeduplicatesByPersona(t *testing.T) {
	tests := []struct {
		name      string
		fifo      bool
		user      string
		wantGroup string
	}{
		{"a FIFO topic gets the user as group and the persona as deduplication id", true, "user-a", "user-a"},
		{"a user id SNS refuses as a group id is replaced by its digest", true, "ünïcode user", "user-" + sha256Hex("ünïcode user")},
		{"a standard topic gets neither", false, "user-a", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingSNS{}
			task := Task{Type: TaskTypeProvision, PersonaID: "p1", UserID: tt.user}
			if err := NewTaskPublisher(rec, "arn:topic", tt.fifo).Publish(context.Background(), task); err != nil {
				t.Fatal(err)
			}
			in := rec.inputs[0]
			if got := aws.ToString(in.MessageGroupId); got != tt.wantGroup {
				t.Errorf("MessageGroupId = %q, want %q", got, tt.wantGroup)
			}
			wantDedup := ""
			if tt.fifo {
				wantDedup = "p1"
			}
			if got := aws.ToString(in.MessageDeduplicationId); got != wantDedup {
				t.Errorf("MessageDeduplicationId = %q, want %q", got, wantDedup)
			}
		})
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestMessageGroupOfAnUnusualUserIDIsAValidGroupID(t *testing.T) {
	for _, user := range []string{"ünïcode", "has space", strings.Repeat("x", 129), ""} {
		if g := MessageGroup(user); !groupIDPattern.MatchString(g) {
			t.Errorf("MessageGroup(%q) = %q, not a valid group id", user, g)
		}
	}
}
