package persona

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// TaskTypeProvision is the type of the task that asks the worker to provision a persona.
const TaskTypeProvision = "persona.provision"

// Task is the message published to the task topic and received by the worker.
type Task struct {
	Type        string `json:"type"`
	PersonaID   string `json:"personaId"`
	UserID      string `json:"userId"`
	RequestedAt string `json:"requestedAt"`
}

// SNS is the part of the SNS client the publisher uses.
type SNS interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// TaskPublisher publishes tasks to the task topic.
type TaskPublisher struct {
	client   SNS
	topicArn string
	fifo     bool
}

// NewTaskPublisher returns a publisher to the topic topicArn; fifo says whether
// the topic is a FIFO topic, which needs a group and a deduplication id.
func NewTaskPublisher(client SNS, topicArn string, fifo bool) *TaskPublisher {
	return &TaskPublisher{client: client, topicArn: topicArn, fifo: fifo}
}

// Publish sends t to the topic. Tasks of one user share a message group, so the worker
// sees them in order; the persona id is the deduplication id, so a retried request
// publishes at most one task within the topic's five-minute deduplication window.
func (p *TaskPublisher) Publish(ctx context.Context, t Task) error {
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding task for persona %s: %w", t.PersonaID, err)
	}
	in := &sns.PublishInput{
		TopicArn: aws.String(p.topicArn),
		Message:  aws.String(string(body)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			QueueAttribute: {DataType: aws.String("String"), StringValue: aws.String(QueueName)},
		},
	}
	if p.fifo {
		in.MessageGroupId = aws.String(MessageGroup(t.UserID))
		in.MessageDeduplicationId = aws.String(t.PersonaID)
	}
	if _, err := p.client.Publish(ctx, in); err != nil {
		return fmt.Errorf("publishing task for persona %s: %w", t.PersonaID, err)
	}
	return nil
}

// groupIDPattern is what SNS accepts as a MessageGroupId.
var groupIDPattern = regexp.MustCompile(`^[!-~]{1,128}$`)

// MessageGroup returns the message group of a user's tasks: the user id itself when
// SNS accepts it as a group id, else a digest of it.
func MessageGroup(userID string) string {
	if groupIDPattern.MatchString(userID) {
		return userID
	}
	sum := sha256.Sum256([]byte(userID))
	return "user-" + hex.EncodeToString(sum[:])
}
