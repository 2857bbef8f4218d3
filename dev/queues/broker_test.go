package queues

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/personabackend/app/topology"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const (
	topicName    = "persona-test-tasks.fifo"
	personaQueue = "persona-test-persona.fifo"
	dlqName      = "persona-test-persona-dlq.fifo"
)

// personaStack is the messaging part of the persona stack.
func personaStack() *topology.Stack {
	return &topology.Stack{
		Topics: []topology.Topic{{LinkName: "TaskTopic", Name: topicName, FIFO: true}},
		Queues: []topology.Queue{
			{LinkName: "PersonaQueue", Name: personaQueue, FIFO: true, VisibilityTimeoutSeconds: 30, RetentionSeconds: 345600, DeadLetterQueue: dlqName, MaxReceiveCount: 3},
			{Name: dlqName, FIFO: true, VisibilityTimeoutSeconds: 30, RetentionSeconds: 1209600},
			{Name: "plain", VisibilityTimeoutSeconds: 30},
			{Name: "content.fifo", FIFO: true, ContentBasedDeduplication: true, VisibilityTimeoutSeconds: 30},
		},
		Subscriptions: []topology.Subscription{{Topic: topicName, Queue: personaQueue, FilterPolicy: `{"queue":["persona"]}`, RawMessageDelivery: true}},
	}
}

type env struct {
	broker *Broker
	clock  *fakeClock
	sqs    *sqs.Client
	sns    *sns.Client
}

func start(t *testing.T, stack *topology.Stack, opts ...Option) *env {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	b := New("us-east-1", srv.URL, append([]Option{WithClock(clock.Now)}, opts...)...)
	srv.Config.Handler = b
	if err := b.Load(stack); err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
	return &env{
		broker: b,
		clock:  clock,
		sqs:    sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		sns:    sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
	}
}

func (e *env) send(t *testing.T, queue, body, group, dedup string) *sqs.SendMessageOutput {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(e.broker.QueueURL(queue)), MessageBody: aws.String(body)}
	if group != "" {
		in.MessageGroupId = aws.String(group)
	}
	if dedup != "" {
		in.MessageDeduplicationId = aws.String(dedup)
	}
	out, err := e.sqs.SendMessage(context.Background(), in)
	if err != nil {
		t.Fatalf("send %q: %v", body, err)
	}
	return out
}

func (e *env) receive(t *testing.T, queue string, max int32) []sqstypes.Message {
	t.Helper()
	out, err := e.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(e.broker.QueueURL(queue)),
		MaxNumberOfMessages:         max,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return out.Messages
}

func (e *env) delete(t *testing.T, queue string, m sqstypes.Message) {
	t.Helper()
	if _, err := e.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(e.broker.QueueURL(queue)), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("delete: %v", err)
	}
}

func bodies(msgs []sqstypes.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, *m.Body)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPublishRoutesOnlyMatchingMessagesToTheQueue(t *testing.T) {
	e := start(t, personaStack())
	ctx := context.Background()
	publish := func(body, queueAttr, dedup string) {
		t.Helper()
		_, err := e.sns.Publish(ctx, &sns.PublishInput{
			TopicArn:               aws.String(e.broker.TopicARN(topicName)),
			Message:                aws.String(body),
			MessageGroupId:         aws.String("user-1"),
			MessageDeduplicationId: aws.String(dedup),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{
				"queue": {DataType: aws.String("String"), StringValue: aws.String(queueAttr)},
			},
		})
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	publish(`{"personaId":"p1"}`, "persona", "d1")
	publish(`{"invoice":"i1"}`, "billing", "d2")

	msgs := e.receive(t, personaQueue, 10)
	if got := bodies(msgs); !equal(got, []string{`{"personaId":"p1"}`}) {
		t.Fatalf("queue got %v, want only the persona message", got)
	}
	m := msgs[0]
	if got := m.MessageAttributes["queue"]; got.StringValue == nil || *got.StringValue != "persona" {
		t.Errorf("raw delivery lost the message attribute: %+v", m.MessageAttributes)
	}
	if got := m.Attributes["MessageGroupId"]; got != "user-1" {
		t.Errorf("MessageGroupId = %q, want user-1", got)
	}
	if got := m.Attributes["ApproximateReceiveCount"]; got != "1" {
		t.Errorf("ApproximateReceiveCount = %q, want 1", got)
	}
}

func TestSubscriptionsRefuseOnlyAStandardTopicForAFIFOQueue(t *testing.T) {
	tests := []struct {
		name       string
		topicFIFO  bool
		queueFIFO  bool
		wantRefuse string
	}{
		{"a FIFO topic subscribes a FIFO queue", true, true, ""},
		{"a standard topic subscribes a standard queue", false, false, ""},
		{"a FIFO topic subscribes a standard queue", true, false, ""},
		{"a standard topic refuses a FIFO queue", false, true, "a standard topic cannot deliver to a FIFO queue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New("us-east-1", "http://127.0.0.1:1")
			err := b.Load(&topology.Stack{
				Topics:        []topology.Topic{{Name: "t", FIFO: tt.topicFIFO}},
				Queues:        []topology.Queue{{Name: "q", FIFO: tt.queueFIFO, VisibilityTimeoutSeconds: 30}},
				Subscriptions: []topology.Subscription{{Topic: "t", Queue: "q"}},
			})
			switch {
			case tt.wantRefuse == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantRefuse != "" && (err == nil || !strings.Contains(err.Error(), tt.wantRefuse)):
				t.Errorf("got %v, want an error saying %q", err, tt.wantRefuse)
			}
		})
	}
}

func TestPublishWithoutRawDeliveryWrapsTheMessageInANotification(t *testing.T) {
	stack := &topology.Stack{
		Topics:        []topology.Topic{{Name: "events"}},
		Queues:        []topology.Queue{{Name: "audit", VisibilityTimeoutSeconds: 30}},
		Subscriptions: []topology.Subscription{{Topic: "events", Queue: "audit"}},
	}
	e := start(t, stack)
	_, err := e.sns.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(e.broker.TopicARN("events")), Message: aws.String("hello")})
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.receive(t, "audit", 1)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	var n struct{ Type, Message, TopicArn string }
	if err := json.Unmarshal([]byte(*msgs[0].Body), &n); err != nil {
		t.Fatalf("body is not a notification: %v", err)
	}
	if n.Type != "Notification" || n.Message != "hello" || n.TopicArn != e.broker.TopicARN("events") {
		t.Errorf("notification = %+v", n)
	}
}

func TestFIFOTopicDeduplicatesWithinFiveMinutes(t *testing.T) {
	e := start(t, personaStack())
	ctx := context.Background()
	publish := func() string {
		out, err := e.sns.Publish(ctx, &sns.PublishInput{
			TopicArn:               aws.String(e.broker.TopicARN(topicName)),
			Message:                aws.String("task"),
			MessageGroupId:         aws.String("g"),
			MessageDeduplicationId: aws.String("same"),
			MessageAttributes:      map[string]snstypes.MessageAttributeValue{"queue": {DataType: aws.String("String"), StringValue: aws.String("persona")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return *out.MessageId
	}
	first := publish()
	if again := publish(); again != first {
		t.Errorf("a duplicate publish got a new message ID %s, want %s", again, first)
	}
	if n, _, _ := e.broker.Counts(personaQueue); n != 1 {
		t.Errorf("queue holds %d messages after a duplicate publish, want 1", n)
	}
	e.clock.Advance(DeduplicationWindow + time.Second)
	if later := publish(); later == first {
		t.Error("a publish after the deduplication window was dropped")
	}
}

func TestAContentDeduplicatingFIFOTopicDropsTheSameBodyWithoutAnID(t *testing.T) {
	stack := &topology.Stack{
		Topics:        []topology.Topic{{Name: "events.fifo", FIFO: true, ContentBasedDeduplication: true}},
		Queues:        []topology.Queue{{Name: "audit.fifo", FIFO: true, VisibilityTimeoutSeconds: 30}},
		Subscriptions: []topology.Subscription{{Topic: "events.fifo", Queue: "audit.fifo", RawMessageDelivery: true}},
	}
	e := start(t, stack)
	publish := func(body string) string {
		out, err := e.sns.Publish(context.Background(), &sns.PublishInput{
			TopicArn: aws.String(e.broker.TopicARN("events.fifo")), Message: aws.String(body), MessageGroupId: aws.String("g"),
		})
		if err != nil {
			t.Fatal(err)
		}
		return *out.MessageId
	}
	first := publish("same")
	if again := publish("same"); again != first {
		t.Errorf("the same body got a new message ID %s, want %s", again, first)
	}
	if other := publish("other"); other == first {
		t.Error("another body was taken for a duplicate")
	}
	if n, _, _ := e.broker.Counts("audit.fifo"); n != 2 {
		t.Errorf("queue holds %d messages, want 2", n)
	}
}

func TestFIFOTopicRefusesPublishWithoutGroupOrDeduplicationID(t *testing.T) {
	e := start(t, personaStack())
	for name, in := range map[string]*sns.PublishInput{
		"no group":         {Message: aws.String("m"), MessageDeduplicationId: aws.String("d")},
		"no deduplication": {Message: aws.String("m"), MessageGroupId: aws.String("g")},
	} {
		in.TopicArn = aws.String(e.broker.TopicARN(topicName))
		_, err := e.sns.Publish(context.Background(), in)
		var invalid *snstypes.InvalidParameterException
		if !errors.As(err, &invalid) {
			t.Errorf("%s: got %v, want InvalidParameterException", name, err)
		}
	}
}

func TestFIFOQueueHoldsAGroupWhileAMessageIsInFlight(t *testing.T) {
	e := start(t, personaStack())
	e.send(t, personaQueue, "a1", "A", "1")
	e.send(t, personaQueue, "a2", "A", "2")
	e.send(t, personaQueue, "b1", "B", "3")

	first := e.receive(t, personaQueue, 1)
	if got := bodies(first); !equal(got, []string{"a1"}) {
		t.Fatalf("first receive got %v, want [a1]", got)
	}
	if got := bodies(e.receive(t, personaQueue, 10)); !equal(got, []string{"b1"}) {
		t.Fatalf("while a1 is in flight got %v, want only [b1]", got)
	}
	if got := e.receive(t, personaQueue, 10); len(got) != 0 {
		t.Fatalf("both groups in flight, got %v", bodies(got))
	}
	e.delete(t, personaQueue, first[0])
	if got := bodies(e.receive(t, personaQueue, 10)); !equal(got, []string{"a2"}) {
		t.Fatalf("after deleting a1 got %v, want [a2]", got)
	}
}

func TestFIFOQueueHoldsAGroupWhoseLaterMessageIsInFlight(t *testing.T) {
	e := start(t, personaStack())
	e.send(t, personaQueue, "a1", "A", "1")
	e.send(t, personaQueue, "a2", "A", "2")
	got := e.receive(t, personaQueue, 2)
	if !equal(bodies(got), []string{"a1", "a2"}) {
		t.Fatalf("got %v, want [a1 a2]", bodies(got))
	}
	_, err := e.sqs.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(e.broker.QueueURL(personaQueue)), ReceiptHandle: got[0].ReceiptHandle, VisibilityTimeout: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if again := e.receive(t, personaQueue, 10); len(again) != 0 {
		t.Fatalf("while a2 is in flight got %v, want nothing from its group", bodies(again))
	}
	e.delete(t, personaQueue, got[1])
	if again := bodies(e.receive(t, personaQueue, 10)); !equal(again, []string{"a1"}) {
		t.Fatalf("after deleting a2 got %v, want [a1]", again)
	}
}

func TestFIFOQueueReturnsAGroupInOrderWithinOneBatch(t *testing.T) {
	e := start(t, personaStack())
	for i := 1; i <= 4; i++ {
		e.send(t, personaQueue, "m"+strconv.Itoa(i), "A", strconv.Itoa(i))
	}
	if got := bodies(e.receive(t, personaQueue, 3)); !equal(got, []string{"m1", "m2", "m3"}) {
		t.Fatalf("got %v, want [m1 m2 m3]", got)
	}
}

func TestFIFOQueueDeduplicates(t *testing.T) {
	e := start(t, personaStack())
	first := e.send(t, personaQueue, "x", "A", "dup")
	second := e.send(t, personaQueue, "y", "A", "dup")
	if *first.MessageId != *second.MessageId {
		t.Errorf("duplicate send got a new message ID")
	}
	e.send(t, "content.fifo", "same body", "A", "")
	e.send(t, "content.fifo", "same body", "A", "")
	if n, _, _ := e.broker.Counts(personaQueue); n != 1 {
		t.Errorf("explicit deduplication: queue holds %d, want 1", n)
	}
	if n, _, _ := e.broker.Counts("content.fifo"); n != 1 {
		t.Errorf("content-based deduplication: queue holds %d, want 1", n)
	}
	e.clock.Advance(DeduplicationWindow)
	e.send(t, personaQueue, "x", "A", "dup")
	if n, _, _ := e.broker.Counts(personaQueue); n != 2 {
		t.Errorf("after five minutes: queue holds %d, want 2", n)
	}
}

func TestFIFOQueueRefusesMessagesWithoutGroupOrDeduplicationID(t *testing.T) {
	e := start(t, personaStack())
	ctx := context.Background()
	url := aws.String(e.broker.QueueURL(personaQueue))
	_, err := e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")})
	if err == nil {
		t.Error("a FIFO send without MessageGroupId was accepted")
	}
	_, err = e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("x"), MessageGroupId: aws.String("g")})
	if err == nil {
		t.Error("a FIFO send without deduplication ID on a queue without content-based deduplication was accepted")
	}
}

func TestVisibilityTimeoutHidesAReceivedMessageUntilItLapses(t *testing.T) {
	e := start(t, personaStack())
	e.send(t, "plain", "hello", "", "")
	if got := e.receive(t, "plain", 1); len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	if got := e.receive(t, "plain", 1); len(got) != 0 {
		t.Fatal("an in-flight message was delivered again")
	}
	e.clock.Advance(31 * time.Second)
	got := e.receive(t, "plain", 1)
	if len(got) != 1 {
		t.Fatal("the message did not come back after its visibility timeout")
	}
	if n := got[0].Attributes["ApproximateReceiveCount"]; n != "2" {
		t.Errorf("ApproximateReceiveCount = %s, want 2", n)
	}
	_, err := e.sqs.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(e.broker.QueueURL("plain")), ReceiptHandle: got[0].ReceiptHandle, VisibilityTimeout: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.receive(t, "plain", 1); len(got) != 1 {
		t.Error("a message made visible again was not delivered")
	}
}

func TestMessageMovesToTheDeadLetterQueueAfterMaxReceives(t *testing.T) {
	e := start(t, personaStack())
	e.send(t, personaQueue, "poison", "A", "1")
	for i := 1; i <= 3; i++ {
		if got := e.receive(t, personaQueue, 10); len(got) != 1 {
			t.Fatalf("receive %d: got %d messages, want 1", i, len(got))
		}
		e.clock.Advance(31 * time.Second)
	}
	if got := e.receive(t, personaQueue, 10); len(got) != 0 {
		t.Fatalf("received the message a 4th time with maxReceiveCount 3")
	}
	dead := e.receive(t, dlqName, 10)
	if got := bodies(dead); !equal(got, []string{"poison"}) {
		t.Fatalf("dead-letter queue holds %v, want [poison]", got)
	}
	if g := dead[0].Attributes["MessageGroupId"]; g != "A" {
		t.Errorf("dead-lettered message lost its group: %q", g)
	}
}

func TestALongPollReturnsTheMessageThatArrivesWhileItWaits(t *testing.T) {
	e := start(t, personaStack())
	// The server says when the receive has reached the broker, so the message is sent
	// while it waits.
	waiting := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "AmazonSQS.ReceiveMessage" {
			waiting <- struct{}{}
		}
		e.broker.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	client := sqs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	type result struct {
		out *sqs.ReceiveMessageOutput
		err error
	}
	received := make(chan result, 1)
	go func() {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.broker.QueueURL("plain")), WaitTimeSeconds: 20})
		received <- result{out, err}
	}()
	<-waiting
	e.send(t, "plain", "late", "", "")
	// A wait that ran out would answer no message: this one answers the message.
	r := <-received
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := bodies(r.out.Messages); !equal(got, []string{"late"}) {
		t.Errorf("the long poll answered %v, want the message sent while it waited", got)
	}
}

func TestDeleteMessageBatchReportsEachEntry(t *testing.T) {
	e := start(t, personaStack())
	e.send(t, "plain", "one", "", "")
	msgs := e.receive(t, "plain", 1)
	out, err := e.sqs.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(e.broker.QueueURL("plain")),
		Entries: []sqstypes.DeleteMessageBatchRequestEntry{
			{Id: aws.String("ok"), ReceiptHandle: msgs[0].ReceiptHandle},
			{Id: aws.String("bad"), ReceiptHandle: aws.String("not-a-handle")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 1 || *out.Successful[0].Id != "ok" || len(out.Failed) != 1 || *out.Failed[0].Id != "bad" {
		t.Errorf("successful %v, failed %v", out.Successful, out.Failed)
	}
	if v, nv, _ := e.broker.Counts("plain"); v+nv != 0 {
		t.Errorf("queue still holds %d messages", v+nv)
	}
}

func TestQueueLookupsAnswerLikeSQS(t *testing.T) {
	e := start(t, personaStack())
	ctx := context.Background()
	url, err := e.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(personaQueue)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs.Attributes["RedrivePolicy"]; got != `{"deadLetterTargetArn":"`+e.broker.QueueARN(dlqName)+`","maxReceiveCount":3}` {
		t.Errorf("RedrivePolicy = %s", got)
	}
	_, err = e.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var missing *sqstypes.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Errorf("unknown queue: got %v, want QueueDoesNotExist", err)
	}
}
