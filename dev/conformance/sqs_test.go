package conformance

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const (
	sqsDocs       = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/"
	sendDoc       = sqsDocs + "APIReference/API_SendMessage.html"
	sendBatchDoc  = sqsDocs + "APIReference/API_SendMessageBatch.html"
	receiveDoc    = sqsDocs + "APIReference/API_ReceiveMessage.html"
	deleteDoc     = sqsDocs + "APIReference/API_DeleteMessage.html"
	deleteBatch   = sqsDocs + "APIReference/API_DeleteMessageBatch.html"
	visibilityDoc = sqsDocs + "APIReference/API_ChangeMessageVisibility.html"
	attributesDoc = sqsDocs + "APIReference/API_GetQueueAttributes.html"
	jsonErrorsDoc = sqsDocs + "SQSDeveloperGuide/sqs-json-api-responses.html"
	quotasDoc     = sqsDocs + "SQSDeveloperGuide/quotas-messages.html"
	metadataDoc   = sqsDocs + "SQSDeveloperGuide/sqs-message-metadata.html"
	fifoDoc       = sqsDocs + "SQSDeveloperGuide/FIFO-queues-exactly-once-processing.html"
	dlqDoc        = sqsDocs + "SQSDeveloperGuide/sqs-dead-letter-queues.html"
	fairDoc       = sqsDocs + "SQSDeveloperGuide/sqs-fair-queues.html"
)

// standard and fifo declare a queue for one scenario.
func standard(c *target) queueDef { return queueDef{name: c.unique("q"), visibilityTimeout: 30} }
func fifo(c *target) queueDef {
	return queueDef{name: c.unique("q.fifo"), fifo: true, visibilityTimeout: 30}
}

// withQueue declares q and runs fn with its URL; a failed declaration is the observation.
func withQueue(ctx context.Context, c *target, q queueDef, fn func(url string) string) string {
	url, err := c.declare.queue(ctx, q)
	if err != nil {
		return "declaring the queue: " + failed(err)
	}
	return fn(url)
}

// sendOne sends one message and describes the outcome.
func sendOne(ctx context.Context, c *target, in *sqs.SendMessageInput) string {
	_, err := c.sqs.SendMessage(ctx, in)
	return failed(err)
}

func stringAttr(v string) sqstypes.MessageAttributeValue {
	return sqstypes.MessageAttributeValue{DataType: str("String"), StringValue: str(v)}
}

// receive takes up to max messages, waiting up to wait seconds, with every attribute.
func receive(ctx context.Context, c *target, url string, max, wait int32, visibility *int32) ([]sqstypes.Message, error) {
	in := &sqs.ReceiveMessageInput{
		QueueUrl: str(url), MaxNumberOfMessages: max, WaitTimeSeconds: wait,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	}
	if visibility != nil {
		in.VisibilityTimeout = *visibility
	}
	out, err := c.sqs.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

func bodies(msgs []sqstypes.Message) string {
	var out []string
	for _, m := range msgs {
		out = append(out, aws.ToString(m.Body))
	}
	return "[" + strings.Join(out, " ") + "]"
}

// counts describes the queue's visible and in-flight messages.
func counts(ctx context.Context, c *target, url string) string {
	out, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       str(url),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"},
	})
	if err != nil {
		return failed(err)
	}
	return fmt.Sprintf("visible %s, in flight %s", out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"])
}

// waitVisible polls until the queue shows n visible messages: a visibility timeout passed.
func waitVisible(ctx context.Context, c *target, url string, n int) error {
	want := fmt.Sprintf("visible %d,", n)
	for {
		if strings.HasPrefix(counts(ctx, c, url), want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the queue never showed %d visible messages", n)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sqsScenarios() []scenario {
	seconds := func(n int32) *int32 { return &n }
	return []scenario{
		{
			name: "GetQueueUrl of an unknown queue is NonExistentQueue in the query error header and QueueDoesNotExist in the body",
			doc:  jsonErrorsDoc, want: "error AWS.SimpleQueueService.NonExistentQueue (QueueDoesNotExist) 400",
			run: func(ctx context.Context, c *target) string {
				_, err := c.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: str(c.unique("absent"))})
				return failed(err)
			},
		},
		{
			name: "SendMessage to an unknown queue URL is NonExistentQueue",
			doc:  jsonErrorsDoc, want: "error AWS.SimpleQueueService.NonExistentQueue (QueueDoesNotExist) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url + "-absent"), MessageBody: str("x")})
				})
			},
		},
		{
			name: "GetQueueUrl of a declared queue answers its URL",
			doc:  sqsDocs + "APIReference/API_GetQueueUrl.html", want: "ok ends with the queue name",
			run: func(ctx context.Context, c *target) string {
				q := standard(c)
				return withQueue(ctx, c, q, func(string) string {
					out, err := c.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: str(q.name)})
					if err != nil {
						return failed(err)
					}
					if !strings.HasSuffix(*out.QueueUrl, "/"+q.name) {
						return "URL " + *out.QueueUrl
					}
					return "ok ends with the queue name"
				})
			},
		},
		{
			name: "a message is received with its body and the MD5 of its body",
			doc:  receiveDoc, want: "hello md5 ok",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					if got := sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("hello")}); got != "ok" {
						return got
					}
					msgs, err := receive(ctx, c, url, 1, 1, nil)
					if err != nil || len(msgs) != 1 {
						return fmt.Sprintf("received %d: %s", len(msgs), failed(err))
					}
					md5OK := "md5 differs"
					if aws.ToString(msgs[0].MD5OfBody) == md5Hex("hello") {
						md5OK = "md5 ok"
					}
					return aws.ToString(msgs[0].Body) + " " + md5OK
				})
			},
		},
		{
			name: "string, number, binary and custom attributes arrive as sent with matching MD5s",
			doc:  metadataDoc, want: "b=Binary:[1 2 3] c=String.custom:v n=Number:1.50 s=String:text md5 matches",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					sent, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageAttributes: map[string]sqstypes.MessageAttributeValue{
						"s": stringAttr("text"),
						"n": {DataType: str("Number"), StringValue: str("1.50")},
						"b": {DataType: str("Binary"), BinaryValue: []byte{1, 2, 3}},
						"c": {DataType: str("String.custom"), StringValue: str("v")},
					}})
					if err != nil {
						return failed(err)
					}
					msgs, err := receive(ctx, c, url, 1, 1, nil)
					if err != nil || len(msgs) != 1 {
						return fmt.Sprintf("received %d: %s", len(msgs), failed(err))
					}
					var parts []string
					for name, a := range msgs[0].MessageAttributes {
						v := aws.ToString(a.StringValue)
						if a.BinaryValue != nil {
							v = fmt.Sprint(a.BinaryValue)
						}
						parts = append(parts, name+"="+aws.ToString(a.DataType)+":"+v)
					}
					sort.Strings(parts)
					match := "md5 differs"
					if aws.ToString(msgs[0].MD5OfMessageAttributes) == aws.ToString(sent.MD5OfMessageAttributes) && sent.MD5OfMessageAttributes != nil {
						match = "md5 matches"
					}
					return strings.Join(parts, " ") + " " + match
				})
			},
		},
		{
			name: "a receive returns only the message attributes it names, by name or by prefix",
			doc:  receiveDoc, want: "a.x a.y",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					if got := sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageAttributes: map[string]sqstypes.MessageAttributeValue{
						"a.x": stringAttr("1"), "a.y": stringAttr("2"), "b": stringAttr("3"),
					}}); got != "ok" {
						return got
					}
					out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: str(url), WaitTimeSeconds: 1, MessageAttributeNames: []string{"a.*"}})
					if err != nil || len(out.Messages) != 1 {
						return "receive: " + failed(err)
					}
					var names []string
					for n := range out.Messages[0].MessageAttributes {
						names = append(names, n)
					}
					sort.Strings(names)
					return strings.Join(names, " ")
				})
			},
		},
		{
			name: "an empty message body is MissingParameter",
			doc:  sendDoc, want: "error MissingParameter (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("")})
				})
			},
		},
		{
			name: "a body longer than the queue's MaximumMessageSize is InvalidParameterValue",
			doc:  sendDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				q := standard(c)
				q.maximumMessageSize = 1024
				return withQueue(ctx, c, q, func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str(strings.Repeat("x", 1025))})
				})
			},
		},
		{
			name: "a body of exactly the queue's MaximumMessageSize is accepted",
			doc:  sendDoc, want: "ok",
			run: func(ctx context.Context, c *target) string {
				q := standard(c)
				q.maximumMessageSize = 1024
				return withQueue(ctx, c, q, func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str(strings.Repeat("x", 1024))})
				})
			},
		},
		{
			name: "message attributes count toward the queue's MaximumMessageSize",
			doc:  quotasDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				q := standard(c)
				q.maximumMessageSize = 1024
				return withQueue(ctx, c, q, func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str(strings.Repeat("x", 1000)),
						MessageAttributes: map[string]sqstypes.MessageAttributeValue{"attribute": stringAttr(strings.Repeat("y", 30))}})
				})
			},
		},
		{
			name: "a body holding a character outside XML's allowed set is InvalidMessageContents",
			doc:  sendDoc, want: "error InvalidMessageContents (InvalidMessageContents) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("bell \x07 rings")})
				})
			},
		},
		{
			name: "eleven message attributes are InvalidParameterValue",
			doc:  quotasDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				attrs := map[string]sqstypes.MessageAttributeValue{}
				for i := range 11 {
					attrs[fmt.Sprintf("a%d", i)] = stringAttr("v")
				}
				return withQueue(ctx, c, standard(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageAttributes: attrs})
				})
			},
		},
		{
			name: "a String attribute with an empty value is InvalidParameterValue",
			doc:  metadataDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"),
						MessageAttributes: map[string]sqstypes.MessageAttributeValue{"empty": stringAttr("")}})
				})
			},
		},
		{
			name: "a Number attribute that is not a number is InvalidParameterValue",
			doc:  metadataDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"),
						MessageAttributes: map[string]sqstypes.MessageAttributeValue{"n": {DataType: str("Number"), StringValue: str("twelve")}}})
				})
			},
		},
		{
			name: "an attribute whose type is not String, Number or Binary is InvalidParameterValue",
			doc:  metadataDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"),
						MessageAttributes: map[string]sqstypes.MessageAttributeValue{"when": {DataType: str("Date"), StringValue: str("today")}}})
				})
			},
		},
		{
			name: "an attribute name starting with AWS. is InvalidParameterValue",
			doc:  metadataDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"),
						MessageAttributes: map[string]sqstypes.MessageAttributeValue{"AWS.mine": stringAttr("v")}})
				})
			},
		},
		{
			name: "DelaySeconds over 900 is InvalidParameterValue",
			doc:  sendDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), DelaySeconds: 901})
				})
			},
		},
		{
			name: "a per-message DelaySeconds on a FIFO queue is InvalidParameterValue",
			doc:  sendDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), DelaySeconds: 5,
						MessageGroupId: str("g"), MessageDeduplicationId: str("d")})
				})
			},
		},
		{
			name: "a delayed message is received only once its delay has passed",
			doc:  sendDoc, want: "hidden, then [later]",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					if got := sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("later"), DelaySeconds: 2}); got != "ok" {
						return got
					}
					now, err := receive(ctx, c, url, 1, 0, nil)
					if err != nil {
						return failed(err)
					}
					later, err := receive(ctx, c, url, 1, 10, nil)
					if err != nil {
						return failed(err)
					}
					if len(now) != 0 {
						return "received at once: " + bodies(now)
					}
					return "hidden, then " + bodies(later)
				})
			},
		},
		{
			name: "a FIFO send without MessageGroupId is MissingParameter",
			doc:  sendDoc, want: "error MissingParameter (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageDeduplicationId: str("d")})
				})
			},
		},
		{
			name: "a FIFO send without deduplication id to a queue without content-based deduplication is InvalidParameterValue",
			doc:  sendDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageGroupId: str("g")})
				})
			},
		},
		{
			name: "a FIFO queue with content-based deduplication keeps one of two identical bodies",
			doc:  fifoDoc, want: "visible 1, in flight 0",
			run: func(ctx context.Context, c *target) string {
				q := fifo(c)
				q.contentBasedDeduplication = true
				return withQueue(ctx, c, q, func(url string) string {
					return sendTwice(ctx, c, url, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("same"), MessageGroupId: str("g")})
				})
			},
		},
		{
			name: "a FIFO queue keeps one of two messages with the same deduplication id",
			doc:  fifoDoc, want: "visible 1, in flight 0",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					return sendTwice(ctx, c, url, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageGroupId: str("g"), MessageDeduplicationId: str("d")})
				})
			},
		},
		{
			name: "a MessageGroupId holding a space is InvalidParameterValue",
			doc:  quotasDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageGroupId: str("two words"), MessageDeduplicationId: str("d")})
				})
			},
		},
		{
			name: "a MessageGroupId of 129 characters is InvalidParameterValue",
			doc:  quotasDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageGroupId: str(strings.Repeat("g", 129)), MessageDeduplicationId: str("d")})
				})
			},
		},
		{
			name: "a MessageDeduplicationId of 129 characters is InvalidParameterValue",
			doc:  sendDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageGroupId: str("g"), MessageDeduplicationId: str(strings.Repeat("d", 129))})
				})
			},
		},
		{
			name: "a standard queue accepts a MessageGroupId, which makes it a fair queue",
			doc:  fairDoc, want: "ok [m]",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					if got := sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageGroupId: str("tenant-1")}); got != "ok" {
						return got
					}
					msgs, err := receive(ctx, c, url, 10, 1, nil)
					return failed(err) + " " + bodies(msgs)
				})
			},
		},
		{
			name: "a standard queue refuses a MessageDeduplicationId",
			doc:  sendDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					return sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageDeduplicationId: str("d")})
				})
			},
		},
		{
			name: "a FIFO queue returns a group's messages in order within one batch",
			doc:  fifoDoc, want: "[a1 a2 a3]",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					for i, b := range []string{"a1", "a2", "a3"} {
						if got := sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str(b), MessageGroupId: str("A"), MessageDeduplicationId: str(fmt.Sprint(i))}); got != "ok" {
							return got
						}
					}
					msgs, err := receive(ctx, c, url, 10, 1, nil)
					if err != nil {
						return failed(err)
					}
					return bodies(msgs)
				})
			},
		},
		{
			name: "a FIFO queue holds back a group while one of its messages is in flight",
			doc:  fifoDoc, want: "[a1] then [b1]",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					for i, m := range [][2]string{{"a1", "A"}, {"a2", "A"}, {"b1", "B"}} {
						if got := sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str(m[0]), MessageGroupId: str(m[1]), MessageDeduplicationId: str(fmt.Sprint(i))}); got != "ok" {
							return got
						}
					}
					first, err := receive(ctx, c, url, 1, 1, nil)
					if err != nil {
						return failed(err)
					}
					second, err := receive(ctx, c, url, 10, 1, nil)
					if err != nil {
						return failed(err)
					}
					return bodies(first) + " then " + bodies(second)
				})
			},
		},
		{
			name: "a FIFO send answers a sequence number",
			doc:  sendDoc, want: "sequence number given",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					out, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageGroupId: str("g"), MessageDeduplicationId: str("d")})
					if err != nil {
						return failed(err)
					}
					if aws.ToString(out.SequenceNumber) == "" {
						return "no sequence number"
					}
					return "sequence number given"
				})
			},
		},
		{
			name: "a FIFO message carries its group, deduplication id, sequence number and receive count",
			doc:  receiveDoc, want: "ApproximateReceiveCount=1 MessageDeduplicationId=d MessageGroupId=g SequenceNumber=given SentTimestamp=given",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					if got := sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m"), MessageGroupId: str("g"), MessageDeduplicationId: str("d")}); got != "ok" {
						return got
					}
					msgs, err := receive(ctx, c, url, 1, 1, nil)
					if err != nil || len(msgs) != 1 {
						return fmt.Sprintf("received %d: %s", len(msgs), failed(err))
					}
					a := msgs[0].Attributes
					given := func(k string) string {
						if a[k] == "" {
							return "missing"
						}
						return "given"
					}
					return fmt.Sprintf("ApproximateReceiveCount=%s MessageDeduplicationId=%s MessageGroupId=%s SequenceNumber=%s SentTimestamp=%s",
						a["ApproximateReceiveCount"], a["MessageDeduplicationId"], a["MessageGroupId"], given("SequenceNumber"), given("SentTimestamp"))
				})
			},
		},
		{
			name: "receiving more than 10 messages at once is InvalidParameterValue",
			doc:  receiveDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					_, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: str(url), MaxNumberOfMessages: 11})
					return failed(err)
				})
			},
		},
		{
			name: "a WaitTimeSeconds over 20 is InvalidParameterValue",
			doc:  receiveDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					_, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: str(url), WaitTimeSeconds: 21})
					return failed(err)
				})
			},
		},
		{
			name: "a receive VisibilityTimeout over 43200 seconds is InvalidParameterValue",
			doc:  receiveDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					_, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: str(url), VisibilityTimeout: 43201})
					return failed(err)
				})
			},
		},
		{
			name: "ChangeMessageVisibility over 43200 seconds is InvalidParameterValue",
			doc:  visibilityDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					msg, obs := sendAndReceive(ctx, c, url, nil)
					if msg == nil {
						return obs
					}
					_, err := c.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: str(url), ReceiptHandle: msg.ReceiptHandle, VisibilityTimeout: 43201})
					return failed(err)
				})
			},
		},
		{
			name: "a receipt handle that SQS never issued is ReceiptHandleIsInvalid",
			doc:  deleteDoc, want: "error ReceiptHandleIsInvalid (ReceiptHandleIsInvalid) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					_, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: str(url), ReceiptHandle: str("not-a-receipt-handle")})
					return failed(err)
				})
			},
		},
		{
			name: "a deleted message is gone from the queue",
			doc:  deleteDoc, want: "ok visible 0, in flight 0",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					msg, obs := sendAndReceive(ctx, c, url, nil)
					if msg == nil {
						return obs
					}
					_, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: str(url), ReceiptHandle: msg.ReceiptHandle})
					return failed(err) + " " + counts(ctx, c, url)
				})
			},
		},
		{
			name: "a message made visible with ChangeMessageVisibility 0 is received again",
			doc:  visibilityDoc, want: "received again, receive count 2",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					msg, obs := sendAndReceive(ctx, c, url, nil)
					if msg == nil {
						return obs
					}
					if _, err := c.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: str(url), ReceiptHandle: msg.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
						return failed(err)
					}
					again, err := receive(ctx, c, url, 1, 1, nil)
					if err != nil || len(again) != 1 {
						return fmt.Sprintf("received %d: %s", len(again), failed(err))
					}
					return "received again, receive count " + again[0].Attributes["ApproximateReceiveCount"]
				})
			},
		},
		{
			name: "on a FIFO queue a receipt handle whose visibility timeout has passed cannot delete the message, which comes back",
			doc:  deleteDoc, want: "error InvalidParameterValue (generic) 400, then [m]",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					msg, obs := sendAndReceive(ctx, c, url, seconds(1))
					if msg == nil {
						return obs
					}
					if err := waitVisible(ctx, c, url, 1); err != nil {
						return err.Error()
					}
					_, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: str(url), ReceiptHandle: msg.ReceiptHandle})
					again, rerr := receive(ctx, c, url, 10, 1, nil)
					if rerr != nil {
						return failed(rerr)
					}
					return failed(err) + ", then " + bodies(again)
				})
			},
		},
		{
			name: "on a FIFO queue ChangeMessageVisibility with a receipt handle whose timeout has passed is InvalidParameterValue",
			doc:  visibilityDoc, want: "error InvalidParameterValue (generic) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, fifo(c), func(url string) string {
					msg, obs := sendAndReceive(ctx, c, url, seconds(1))
					if msg == nil {
						return obs
					}
					if err := waitVisible(ctx, c, url, 1); err != nil {
						return err.Error()
					}
					_, err := c.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: str(url), ReceiptHandle: msg.ReceiptHandle, VisibilityTimeout: 30})
					return failed(err)
				})
			},
		},
		{
			name: "on a standard queue a receipt handle whose visibility timeout has passed still deletes a message not received since",
			doc:  deleteDoc, want: "ok visible 0, in flight 0",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					msg, obs := sendAndReceive(ctx, c, url, seconds(1))
					if msg == nil {
						return obs
					}
					if err := waitVisible(ctx, c, url, 1); err != nil {
						return err.Error()
					}
					_, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: str(url), ReceiptHandle: msg.ReceiptHandle})
					return failed(err) + " " + counts(ctx, c, url)
				})
			},
		},
		{
			name: "on a standard queue the receipt handle of an earlier receive succeeds but leaves the message",
			doc:  deleteDoc, want: "ok visible 0, in flight 1",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					msg, obs := sendAndReceive(ctx, c, url, seconds(1))
					if msg == nil {
						return obs
					}
					if err := waitVisible(ctx, c, url, 1); err != nil {
						return err.Error()
					}
					if again, err := receive(ctx, c, url, 1, 1, nil); err != nil || len(again) != 1 {
						return fmt.Sprintf("received again %d: %s", len(again), failed(err))
					}
					_, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: str(url), ReceiptHandle: msg.ReceiptHandle})
					return failed(err) + " " + counts(ctx, c, url)
				})
			},
		},
		{
			name: "DeleteMessageBatch without entries is EmptyBatchRequest",
			doc:  deleteBatch, want: "error AWS.SimpleQueueService.EmptyBatchRequest (EmptyBatchRequest) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					_, err := c.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: str(url), Entries: []sqstypes.DeleteMessageBatchRequestEntry{}})
					return failed(err)
				})
			},
		},
		{
			name: "DeleteMessageBatch with eleven entries is TooManyEntriesInBatchRequest",
			doc:  deleteBatch, want: "error AWS.SimpleQueueService.TooManyEntriesInBatchRequest (TooManyEntriesInBatchRequest) 400",
			run: func(ctx context.Context, c *target) string {
				var entries []sqstypes.DeleteMessageBatchRequestEntry
				for i := range 11 {
					entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: str(fmt.Sprint("e", i)), ReceiptHandle: str(fmt.Sprint("h", i))})
				}
				return withQueue(ctx, c, standard(c), func(url string) string {
					_, err := c.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: str(url), Entries: entries})
					return failed(err)
				})
			},
		},
		{
			name: "DeleteMessageBatch with a repeated entry id is BatchEntryIdsNotDistinct",
			doc:  deleteBatch, want: "error AWS.SimpleQueueService.BatchEntryIdsNotDistinct (BatchEntryIdsNotDistinct) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					_, err := c.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: str(url), Entries: []sqstypes.DeleteMessageBatchRequestEntry{
						{Id: str("same"), ReceiptHandle: str("h1")}, {Id: str("same"), ReceiptHandle: str("h2")},
					}})
					return failed(err)
				})
			},
		},
		{
			name: "DeleteMessageBatch with an entry id holding a dot is InvalidBatchEntryId",
			doc:  deleteBatch, want: "error AWS.SimpleQueueService.InvalidBatchEntryId (InvalidBatchEntryId) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					_, err := c.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: str(url), Entries: []sqstypes.DeleteMessageBatchRequestEntry{
						{Id: str("a.b"), ReceiptHandle: str("h1")},
					}})
					return failed(err)
				})
			},
		},
		{
			name: "DeleteMessageBatch deletes the entries it can and reports the others",
			doc:  deleteBatch, want: "deleted [good] failed [bad:ReceiptHandleIsInvalid sender] visible 0, in flight 0",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					msg, obs := sendAndReceive(ctx, c, url, nil)
					if msg == nil {
						return obs
					}
					out, err := c.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: str(url), Entries: []sqstypes.DeleteMessageBatchRequestEntry{
						{Id: str("good"), ReceiptHandle: msg.ReceiptHandle}, {Id: str("bad"), ReceiptHandle: str("not-a-receipt-handle")},
					}})
					if err != nil {
						return failed(err)
					}
					var ok, bad []string
					for _, s := range out.Successful {
						ok = append(ok, aws.ToString(s.Id))
					}
					for _, f := range out.Failed {
						fault := "receiver"
						if f.SenderFault {
							fault = "sender"
						}
						bad = append(bad, aws.ToString(f.Id)+":"+aws.ToString(f.Code)+" "+fault)
					}
					return fmt.Sprintf("deleted %v failed %v %s", ok, bad, counts(ctx, c, url))
				})
			},
		},
		{
			name: "SendMessageBatch sends every entry and answers each entry's MD5",
			doc:  sendBatchDoc, want: "sent [one two] md5 ok [m1 m2]",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					out, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: str(url), Entries: []sqstypes.SendMessageBatchRequestEntry{
						{Id: str("one"), MessageBody: str("m1")}, {Id: str("two"), MessageBody: str("m2")},
					}})
					if err != nil {
						return failed(err)
					}
					var ids []string
					md5OK := "md5 ok"
					for _, s := range out.Successful {
						ids = append(ids, aws.ToString(s.Id))
						want := map[string]string{"one": md5Hex("m1"), "two": md5Hex("m2")}[aws.ToString(s.Id)]
						if aws.ToString(s.MD5OfMessageBody) != want {
							md5OK = "md5 differs"
						}
					}
					sort.Strings(ids)
					msgs, err := receive(ctx, c, url, 10, 1, nil)
					if err != nil {
						return failed(err)
					}
					got := strings.Fields(strings.Trim(bodies(msgs), "[]"))
					sort.Strings(got)
					return fmt.Sprintf("sent %v %s %v", ids, md5OK, got)
				})
			},
		},
		{
			name: "SendMessageBatch with a repeated entry id is BatchEntryIdsNotDistinct",
			doc:  sendBatchDoc, want: "error AWS.SimpleQueueService.BatchEntryIdsNotDistinct (BatchEntryIdsNotDistinct) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					_, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: str(url), Entries: []sqstypes.SendMessageBatchRequestEntry{
						{Id: str("x"), MessageBody: str("m1")}, {Id: str("x"), MessageBody: str("m2")},
					}})
					return failed(err)
				})
			},
		},
		{
			name: "GetQueueAttributes describes a FIFO queue with its limits and redrive policy",
			doc:  attributesDoc,
			want: "ContentBasedDeduplication=false FifoQueue=true MaximumMessageSize=2048 VisibilityTimeout=30 redrive maxReceiveCount=3",
			run: func(ctx context.Context, c *target) string {
				dlq := fifo(c)
				if _, err := c.declare.queue(ctx, dlq); err != nil {
					return "declaring the dead-letter queue: " + failed(err)
				}
				q := fifo(c)
				q.maximumMessageSize, q.deadLetterQueue, q.maxReceiveCount = 2048, dlq.name, 3
				return withQueue(ctx, c, q, func(url string) string {
					out, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: str(url), AttributeNames: []sqstypes.QueueAttributeName{"All"}})
					if err != nil {
						return failed(err)
					}
					a := out.Attributes
					var redrive struct {
						MaxReceiveCount json.Number `json:"maxReceiveCount"`
					}
					if err := json.Unmarshal([]byte(a["RedrivePolicy"]), &redrive); err != nil {
						return "RedrivePolicy " + a["RedrivePolicy"]
					}
					return fmt.Sprintf("ContentBasedDeduplication=%s FifoQueue=%s MaximumMessageSize=%s VisibilityTimeout=%s redrive maxReceiveCount=%s",
						a["ContentBasedDeduplication"], a["FifoQueue"], a["MaximumMessageSize"], a["VisibilityTimeout"], redrive.MaxReceiveCount)
				})
			},
		},
		{
			name: "GetQueueAttributes of an attribute SQS does not have is InvalidAttributeName",
			doc:  attributesDoc, want: "error InvalidAttributeName (InvalidAttributeName) 400",
			run: func(ctx context.Context, c *target) string {
				return withQueue(ctx, c, standard(c), func(url string) string {
					_, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: str(url), AttributeNames: []sqstypes.QueueAttributeName{"Colour"}})
					return failed(err)
				})
			},
		},
		{
			name: "a message received maxReceiveCount times moves to the dead-letter queue",
			doc:  dlqDoc, want: "received 3 times, then [] and the dead-letter queue holds [poison]",
			run: func(ctx context.Context, c *target) string {
				dlq := standard(c)
				dlqURL, err := c.declare.queue(ctx, dlq)
				if err != nil {
					return "declaring the dead-letter queue: " + failed(err)
				}
				q := standard(c)
				q.deadLetterQueue, q.maxReceiveCount = dlq.name, 3
				return withQueue(ctx, c, q, func(url string) string {
					if got := sendOne(ctx, c, &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("poison")}); got != "ok" {
						return got
					}
					n := 0
					for range 3 {
						msgs, err := receive(ctx, c, url, 1, 1, nil)
						if err != nil || len(msgs) != 1 {
							return fmt.Sprintf("receive %d got %d: %s", n+1, len(msgs), failed(err))
						}
						n++
						// Visible again at once: SDK v2 omits a receive's VisibilityTimeout of 0.
						if _, err := c.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: str(url), ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
							return failed(err)
						}
					}
					after, err := receive(ctx, c, url, 1, 0, nil)
					if err != nil {
						return failed(err)
					}
					dead, err := receive(ctx, c, dlqURL, 10, 2, nil)
					if err != nil {
						return failed(err)
					}
					return fmt.Sprintf("received %d times, then %s and the dead-letter queue holds %s", n, bodies(after), bodies(dead))
				})
			},
		},
	}
}

// sendAndReceive sends a message and receives it, with visibility as the receive's timeout if set.
func sendAndReceive(ctx context.Context, c *target, url string, visibility *int32) (*sqstypes.Message, string) {
	in := &sqs.SendMessageInput{QueueUrl: str(url), MessageBody: str("m")}
	if strings.HasSuffix(url, ".fifo") {
		in.MessageGroupId, in.MessageDeduplicationId = str("g"), str("d")
	}
	if got := sendOne(ctx, c, in); got != "ok" {
		return nil, got
	}
	msgs, err := receive(ctx, c, url, 1, 1, visibility)
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Sprintf("received %d: %s", len(msgs), failed(err))
	}
	return &msgs[0], ""
}

// sendTwice sends in twice and describes what the queue then holds.
func sendTwice(ctx context.Context, c *target, url string, in *sqs.SendMessageInput) string {
	for range 2 {
		if _, err := c.sqs.SendMessage(ctx, in); err != nil {
			return failed(err)
		}
	}
	return counts(ctx, c, url)
}
