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
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/personabackend/app/internal/localaws/localawstest"
)

// taskTopic is a task topic in moto with, subscribed to it as the stack subscribes
// them (raw delivery, filter on the queue attribute), a persona queue and a queue
// for some other kind of task.
type taskTopic struct {
	sns          *sns.Client
	sqs          *sqs.Client
	arn          string
	personaQueue string // URL
	otherQueue   string
}

func newTaskTopic(t *testing.T, fifo bool) taskTopic {
	t.Helper()
	ctx := context.Background()
	endpoint := motoEndpoint(t)
	tt := taskTopic{
		sns: sns.NewFromConfig(localawstest.Config(), func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) }),
		sqs: sqs.NewFromConfig(localawstest.Config(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) }),
	}
	suffix, attrs := "", map[string]string{}
	if fifo {
		suffix, attrs = ".fifo", map[string]string{"FifoQueue": "true"}
	}
	topicAttrs := map[string]string{}
	if fifo {
		topicAttrs["FifoTopic"] = "true"
	}
	topic, err := tt.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(uniqueName("tasks") + suffix), Attributes: topicAttrs})
	if err != nil {
		t.Fatal(err)
	}
	tt.arn = aws.ToString(topic.TopicArn)
	subscribe := func(queue, filter string) string {
		q, err := tt.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(uniqueName(queue) + suffix), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		arn, err := tt.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tt.sns.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(arn.Attributes["QueueArn"]),
			Attributes: map[string]string{"RawMessageDelivery": "true", "FilterPolicy": filter},
		}); err != nil {
			t.Fatal(err)
		}
		return aws.ToString(q.QueueUrl)
	}
	tt.personaQueue = subscribe("persona", `{"queue":["persona"]}`)
	tt.otherQueue = subscribe("other", `{"queue":["other"]}`)
	return tt
}

// receive returns the messages waiting in the queue, with their attributes and FIFO ids.
func (tt taskTopic) receive(t *testing.T, queueURL string) []sqstypes.Message {
	t.Helper()
	out, err := tt.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10,
		MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{
			sqstypes.MessageSystemAttributeNameMessageGroupId, sqstypes.MessageSystemAttributeNameMessageDeduplicationId,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func TestAPublishedTaskReachesThePersonaQueueWithItsAttributes(t *testing.T) {
	topic := newTaskTopic(t, true)
	task := Task{Type: TaskTypeProvision, PersonaID: "p1", UserID: "user-a", RequestedAt: "2026-11-25T10:00:00.000Z"}

	if err := NewTaskPublisher(topic.sns, topic.arn, true).Publish(context.Background(), task); err != nil {
		t.Fatal(err)
	}

	msgs := topic.receive(t, topic.personaQueue)
	if len(msgs) != 1 {
		t.Fatalf("persona queue holds %d messages, want 1", len(msgs))
	}
	var got Task
	if err := json.Unmarshal([]byte(aws.ToString(msgs[0].Body)), &got); err != nil {
		t.Fatalf("body %q is not the task (raw delivery expected): %v", aws.ToString(msgs[0].Body), err)
	}
	if got != task {
		t.Fatalf("received %+v, want %+v", got, task)
	}
	if attr := msgs[0].MessageAttributes[QueueAttribute]; aws.ToString(attr.StringValue) != QueueName {
		t.Fatalf("message attribute %s = %q, want %s", QueueAttribute, aws.ToString(attr.StringValue), QueueName)
	}
	if other := topic.receive(t, topic.otherQueue); len(other) != 0 {
		t.Fatalf("the other queue received the persona task: %+v", other)
	}
}

func TestAMessageForAnotherQueueIsNotRoutedToThePersonaQueue(t *testing.T) {
	topic := newTaskTopic(t, true)
	_, err := topic.sns.Publish(context.Background(), &sns.PublishInput{
		TopicArn: aws.String(topic.arn), Message: aws.String(`{"type":"report.build"}`),
		MessageGroupId: aws.String("user-a"), MessageDeduplicationId: aws.String("r1"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			QueueAttribute: {DataType: aws.String("String"), StringValue: aws.String("other")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := topic.receive(t, topic.personaQueue); len(msgs) != 0 {
		t.Fatalf("persona queue received %+v, want nothing", msgs)
	}
	if msgs := topic.receive(t, topic.otherQueue); len(msgs) != 1 {
		t.Fatalf("the other queue holds %d messages, want 1 (the filter is doing nothing)", len(msgs))
	}
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
			topic := newTaskTopic(t, tt.fifo)
			task := Task{Type: TaskTypeProvision, PersonaID: "p1", UserID: tt.user}
			publisher := NewTaskPublisher(topic.sns, topic.arn, tt.fifo)
			// A retried request publishes the same task again.
			for range 2 {
				if err := publisher.Publish(context.Background(), task); err != nil {
					t.Fatal(err)
				}
			}
			msgs := topic.receive(t, topic.personaQueue)
			wantMessages, wantDedup := 2, ""
			if tt.fifo {
				wantMessages, wantDedup = 1, "p1"
			}
			if len(msgs) != wantMessages {
				t.Fatalf("persona queue holds %d messages after two publishes, want %d", len(msgs), wantMessages)
			}
			if got := msgs[0].Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]; got != tt.wantGroup {
				t.Errorf("MessageGroupId = %q, want %q", got, tt.wantGroup)
			}
			if got := msgs[0].Attributes[string(sqstypes.MessageSystemAttributeNameMessageDeduplicationId)]; got != wantDedup {
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
