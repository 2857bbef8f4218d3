package localawstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

func TestGoawsRoutesAPublishedMessageToASubscribedQueue(t *testing.T) {
	ctx := context.Background()
	srv := Goaws(t)
	sqs := GoawsSQS{Endpoint: srv.Endpoint}
	queueURL, queueArn, err := sqs.CreateQueue(ctx, "routed")
	if err != nil {
		t.Fatal(err)
	}
	client := sns.NewFromConfig(Config(), func(o *sns.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("hello")}); err != nil {
		t.Fatal(err)
	}
	msgs, err := sqs.Receive(ctx, queueURL, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Body != "hello" {
		t.Fatalf("queue holds %+v, want one message with body hello", msgs)
	}
}
