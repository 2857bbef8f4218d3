package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

const (
	snsDocs      = "https://docs.aws.amazon.com/sns/latest/"
	publishDoc   = snsDocs + "api/API_Publish.html"
	subscribeDoc = snsDocs + "api/API_Subscribe.html"
	filterDoc    = snsDocs + "dg/sns-message-filtering.html"
	stringMatch  = snsDocs + "dg/string-value-matching.html"
	numericMatch = snsDocs + "dg/numeric-value-matching.html"
	keyMatch     = snsDocs + "dg/attribute-key-matching.html"
	orLogicDoc   = snsDocs + "dg/and-or-logic.html"
	scopeDoc     = snsDocs + "dg/sns-message-filtering-scope.html"
	snsAttrsDoc  = snsDocs + "dg/SNSMessageAttributes.html"
	rawDoc       = snsDocs + "dg/sns-large-payload-raw-message-delivery.html"
	snsDedupDoc  = snsDocs + "dg/fifo-message-dedup.html"
	fifoDelivery = snsDocs + "dg/fifo-message-delivery.html"
)

func snsAttr(v string) snstypes.MessageAttributeValue {
	return snstypes.MessageAttributeValue{DataType: str("String"), StringValue: str(v)}
}

// fanout is a topic subscribed by one queue, declared for one scenario.
type fanout struct {
	topicARN, queueURL string
}

// withFanout declares a topic, a queue and the subscription between them; a refused
// declaration is the observation.
func withFanout(ctx context.Context, c *target, t topicDef, q queueDef, s subscriptionDef, fn func(f fanout) string) string {
	arn, err := c.declare.topic(ctx, t)
	if err != nil {
		return "declaring the topic: " + failed(err)
	}
	url, err := c.declare.queue(ctx, q)
	if err != nil {
		return "declaring the queue: " + failed(err)
	}
	s.topic, s.queue = t.name, q.name
	if err := c.declare.subscribe(ctx, s); err != nil {
		return "subscribing: " + failed(err)
	}
	return fn(fanout{topicARN: arn, queueURL: url})
}

func plainTopic(c *target) topicDef { return topicDef{name: c.unique("t")} }
func fifoTopic(c *target) topicDef  { return topicDef{name: c.unique("t.fifo"), fifo: true} }

// delivered receives everything the queue holds and lists the bodies in order of name.
func delivered(ctx context.Context, c *target, url string) string {
	var all []string
	for {
		msgs, err := receive(ctx, c, url, 10, 1, nil)
		if err != nil {
			return failed(err)
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			all = append(all, aws.ToString(m.Body))
		}
	}
	sort.Strings(all)
	return "[" + strings.Join(all, " ") + "]"
}

// publication is one message for a filter scenario.
type publication struct {
	body  string
	attrs map[string]snstypes.MessageAttributeValue
}

// filtered publishes msgs through a raw subscription with the filter policy and lists
// what the queue received.
func filtered(ctx context.Context, c *target, policy, scope string, msgs []publication) string {
	return withFanout(ctx, c, plainTopic(c), standard(c), subscriptionDef{filterPolicy: policy, filterScope: scope, raw: true}, func(f fanout) string {
		for _, m := range msgs {
			if _, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: str(f.topicARN), Message: str(m.body), MessageAttributes: m.attrs}); err != nil {
				return "publishing " + m.body + ": " + failed(err)
			}
		}
		return delivered(ctx, c, f.queueURL)
	})
}

func publishTo(ctx context.Context, c *target, t topicDef, in *sns.PublishInput) string {
	arn, err := c.declare.topic(ctx, t)
	if err != nil {
		return "declaring the topic: " + failed(err)
	}
	in.TopicArn = str(arn)
	_, err = c.sns.Publish(ctx, in)
	return failed(err)
}

func snsScenarios() []scenario {
	tag := func(k, v string) map[string]snstypes.MessageAttributeValue {
		return map[string]snstypes.MessageAttributeValue{k: snsAttr(v)}
	}
	number := func(k, v string) map[string]snstypes.MessageAttributeValue {
		return map[string]snstypes.MessageAttributeValue{k: {DataType: str("Number"), StringValue: str(v)}}
	}
	return []scenario{
		{
			name: "publishing to an unknown topic is NotFound with HTTP 404",
			doc:  publishDoc, want: "error NotFound (NotFoundException) 404",
			run: func(ctx context.Context, c *target) string {
				arn, err := c.declare.topic(ctx, plainTopic(c))
				if err != nil {
					return failed(err)
				}
				_, err = c.sns.Publish(ctx, &sns.PublishInput{TopicArn: str(arn + "-absent"), Message: str("m")})
				return failed(err)
			},
		},
		{
			name: "publishing an empty message is InvalidParameter",
			doc:  publishDoc, want: "error InvalidParameter (InvalidParameterException) 400",
			run: func(ctx context.Context, c *target) string {
				return publishTo(ctx, c, plainTopic(c), &sns.PublishInput{Message: str("")})
			},
		},
		{
			name: "a message over the topic's 256 KiB is InvalidParameter",
			doc:  publishDoc, want: "error InvalidParameter (InvalidParameterException) 400",
			run: func(ctx context.Context, c *target) string {
				return publishTo(ctx, c, plainTopic(c), &sns.PublishInput{Message: str(strings.Repeat("x", 256*1024+1))})
			},
		},
		{
			name: "a message of exactly 256 KiB is accepted",
			doc:  publishDoc, want: "ok",
			run: func(ctx context.Context, c *target) string {
				return publishTo(ctx, c, plainTopic(c), &sns.PublishInput{Message: str(strings.Repeat("x", 256*1024))})
			},
		},
		{
			name: "message attributes count toward the topic's 256 KiB",
			doc:  publishDoc, want: "error InvalidParameter (InvalidParameterException) 400",
			run: func(ctx context.Context, c *target) string {
				return publishTo(ctx, c, plainTopic(c), &sns.PublishInput{Message: str(strings.Repeat("x", 256*1024-10)), MessageAttributes: tag("attribute", strings.Repeat("y", 20))})
			},
		},
		{
			name: "a FIFO publish without MessageGroupId is InvalidParameter",
			doc:  publishDoc, want: "error InvalidParameter (InvalidParameterException) 400",
			run: func(ctx context.Context, c *target) string {
				return publishTo(ctx, c, fifoTopic(c), &sns.PublishInput{Message: str("m"), MessageDeduplicationId: str("d")})
			},
		},
		{
			name: "a FIFO publish without deduplication id to a topic without content-based deduplication is InvalidParameter",
			doc:  publishDoc, want: "error InvalidParameter (InvalidParameterException) 400",
			run: func(ctx context.Context, c *target) string {
				return publishTo(ctx, c, fifoTopic(c), &sns.PublishInput{Message: str("m"), MessageGroupId: str("g")})
			},
		},
		{
			name: "a MessageGroupId of 129 characters is InvalidParameter",
			doc:  publishDoc, want: "error InvalidParameter (InvalidParameterException) 400",
			run: func(ctx context.Context, c *target) string {
				return publishTo(ctx, c, fifoTopic(c), &sns.PublishInput{Message: str("m"), MessageGroupId: str(strings.Repeat("g", 129)), MessageDeduplicationId: str("d")})
			},
		},
		{
			name: "a subject with a line break is InvalidParameter",
			doc:  publishDoc, want: "error InvalidParameter (InvalidParameterException) 400",
			run: func(ctx context.Context, c *target) string {
				return publishTo(ctx, c, plainTopic(c), &sns.PublishInput{Message: str("m"), Subject: str("two\nlines")})
			},
		},
		{
			name: "a String attribute with an empty value is ParameterValueInvalid",
			doc:  snsAttrsDoc, want: "error ParameterValueInvalid (InvalidParameterValueException) 400",
			run: func(ctx context.Context, c *target) string {
				return publishTo(ctx, c, plainTopic(c), &sns.PublishInput{Message: str("m"), MessageAttributes: tag("empty", "")})
			},
		},
		{
			name: "a Number attribute that is not a number is ParameterValueInvalid",
			doc:  snsAttrsDoc, want: "error ParameterValueInvalid (InvalidParameterValueException) 400",
			run: func(ctx context.Context, c *target) string {
				return publishTo(ctx, c, plainTopic(c), &sns.PublishInput{Message: str("m"), MessageAttributes: number("n", "twelve")})
			},
		},
		{
			name: "a FIFO publish answers a sequence number",
			doc:  publishDoc, want: "sequence number given",
			run: func(ctx context.Context, c *target) string {
				arn, err := c.declare.topic(ctx, fifoTopic(c))
				if err != nil {
					return failed(err)
				}
				out, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: str(arn), Message: str("m"), MessageGroupId: str("g"), MessageDeduplicationId: str("d")})
				if err != nil {
					return failed(err)
				}
				if aws.ToString(out.SequenceNumber) == "" {
					return "no sequence number"
				}
				return "sequence number given"
			},
		},
		{
			name: "a FIFO topic delivers one of two messages with the same deduplication id",
			doc:  snsDedupDoc, want: "[m]",
			run: func(ctx context.Context, c *target) string {
				return withFanout(ctx, c, fifoTopic(c), fifo(c), subscriptionDef{raw: true}, func(f fanout) string {
					return publishTwice(ctx, c, f, &sns.PublishInput{Message: str("m"), MessageGroupId: str("g"), MessageDeduplicationId: str("d")})
				})
			},
		},
		{
			name: "a FIFO topic with content-based deduplication delivers one of two identical bodies",
			doc:  snsDedupDoc, want: "[m]",
			run: func(ctx context.Context, c *target) string {
				t := fifoTopic(c)
				t.contentBasedDeduplication = true
				return withFanout(ctx, c, t, fifo(c), subscriptionDef{raw: true}, func(f fanout) string {
					return publishTwice(ctx, c, f, &sns.PublishInput{Message: str("m"), MessageGroupId: str("g")})
				})
			},
		},
		{
			name: "a standard topic accepts a MessageGroupId and delivers to a standard queue",
			doc:  publishDoc, want: "ok [m]",
			run: func(ctx context.Context, c *target) string {
				return withFanout(ctx, c, plainTopic(c), standard(c), subscriptionDef{raw: true}, func(f fanout) string {
					_, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: str(f.topicARN), Message: str("m"), MessageGroupId: str("tenant-1")})
					return failed(err) + " " + delivered(ctx, c, f.queueURL)
				})
			},
		},
		{
			name: "a FIFO topic delivers to a standard queue",
			doc:  fifoDelivery, want: "ok [m]",
			run: func(ctx context.Context, c *target) string {
				return withFanout(ctx, c, fifoTopic(c), standard(c), subscriptionDef{raw: true}, func(f fanout) string {
					_, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: str(f.topicARN), Message: str("m"), MessageGroupId: str("g"), MessageDeduplicationId: str("d")})
					return failed(err) + " " + delivered(ctx, c, f.queueURL)
				})
			},
		},
		{
			name: "a standard topic cannot subscribe a FIFO queue",
			doc:  subscribeDoc, want: "refused",
			run: func(ctx context.Context, c *target) string {
				got := withFanout(ctx, c, plainTopic(c), fifo(c), subscriptionDef{raw: true}, func(fanout) string { return "accepted" })
				if strings.HasPrefix(got, "subscribing: ") {
					return "refused"
				}
				return got
			},
		},
		{
			name: "raw delivery hands the queue the body and attributes as published",
			doc:  rawDoc, want: "hello kind=String:greeting",
			run: func(ctx context.Context, c *target) string {
				return withFanout(ctx, c, plainTopic(c), standard(c), subscriptionDef{raw: true}, func(f fanout) string {
					if _, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: str(f.topicARN), Message: str("hello"), MessageAttributes: tag("kind", "greeting")}); err != nil {
						return failed(err)
					}
					msgs, err := receive(ctx, c, f.queueURL, 1, 2, nil)
					if err != nil || len(msgs) != 1 {
						return fmt.Sprintf("received %d: %s", len(msgs), failed(err))
					}
					a := msgs[0].MessageAttributes["kind"]
					return aws.ToString(msgs[0].Body) + " kind=" + aws.ToString(a.DataType) + ":" + aws.ToString(a.StringValue)
				})
			},
		},
		{
			name: "delivery without raw wraps the message in a notification carrying its attributes",
			doc:  rawDoc, want: "Notification hello kind=String:greeting topic arn ok",
			run: func(ctx context.Context, c *target) string {
				return withFanout(ctx, c, plainTopic(c), standard(c), subscriptionDef{}, func(f fanout) string {
					if _, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: str(f.topicARN), Message: str("hello"), MessageAttributes: tag("kind", "greeting")}); err != nil {
						return failed(err)
					}
					msgs, err := receive(ctx, c, f.queueURL, 1, 2, nil)
					if err != nil || len(msgs) != 1 {
						return fmt.Sprintf("received %d: %s", len(msgs), failed(err))
					}
					var n struct {
						Type, Message, TopicArn string
						MessageAttributes       map[string]struct{ Type, Value string }
					}
					if err := json.Unmarshal([]byte(aws.ToString(msgs[0].Body)), &n); err != nil {
						return "not a notification: " + aws.ToString(msgs[0].Body)
					}
					arn := "topic arn differs"
					if n.TopicArn == f.topicARN {
						arn = "topic arn ok"
					}
					a := n.MessageAttributes["kind"]
					return fmt.Sprintf("%s %s kind=%s:%s %s", n.Type, n.Message, a.Type, a.Value, arn)
				})
			},
		},
		{
			name: "raw delivery to a queue drops a message with more than 10 attributes while a notification carries it",
			doc:  snsAttrsDoc, want: "raw [] notification 1",
			run: func(ctx context.Context, c *target) string {
				t := plainTopic(c)
				arn, err := c.declare.topic(ctx, t)
				if err != nil {
					return failed(err)
				}
				raw, wrapped := standard(c), standard(c)
				rawURL, err := c.declare.queue(ctx, raw)
				if err != nil {
					return failed(err)
				}
				wrappedURL, err := c.declare.queue(ctx, wrapped)
				if err != nil {
					return failed(err)
				}
				if err := c.declare.subscribe(ctx, subscriptionDef{topic: t.name, queue: raw.name, raw: true}); err != nil {
					return "subscribing: " + failed(err)
				}
				if err := c.declare.subscribe(ctx, subscriptionDef{topic: t.name, queue: wrapped.name}); err != nil {
					return "subscribing: " + failed(err)
				}
				attrs := map[string]snstypes.MessageAttributeValue{}
				for i := range 11 {
					attrs[fmt.Sprintf("a%d", i)] = snsAttr("v")
				}
				if _, err := c.sns.Publish(ctx, &sns.PublishInput{TopicArn: str(arn), Message: str("m"), MessageAttributes: attrs}); err != nil {
					return failed(err)
				}
				notifications := strings.Count(delivered(ctx, c, wrappedURL), `"Type":"Notification"`)
				return fmt.Sprintf("raw %s notification %d", delivered(ctx, c, rawURL), notifications)
			},
		},
		{
			name: "an attribute filter delivers only messages whose attribute equals a listed value",
			doc:  stringMatch, want: "[match]",
			run: func(ctx context.Context, c *target) string {
				return filtered(ctx, c, `{"queue":["persona","other"]}`, "", []publication{
					{"match", tag("queue", "persona")}, {"miss", tag("queue", "billing")}, {"absent", nil},
				})
			},
		},
		{
			name: "equals-ignore-case matches an attribute in any case",
			doc:  stringMatch, want: "[match]",
			run: func(ctx context.Context, c *target) string {
				return filtered(ctx, c, `{"queue":[{"equals-ignore-case":"persona"}]}`, "", []publication{
					{"match", tag("queue", "PerSona")}, {"miss", tag("queue", "personas")},
				})
			},
		},
		{
			name: "anything-but delivers every value except those listed",
			doc:  stringMatch, want: "[match]",
			run: func(ctx context.Context, c *target) string {
				return filtered(ctx, c, `{"queue":[{"anything-but":["billing","audit"]}]}`, "", []publication{
					{"match", tag("queue", "persona")}, {"miss", tag("queue", "billing")},
				})
			},
		},
		{
			name: "anything-but with a prefix drops values that start with it",
			doc:  stringMatch, want: "[match]",
			run: func(ctx context.Context, c *target) string {
				return filtered(ctx, c, `{"queue":[{"anything-but":{"prefix":"bill"}}]}`, "", []publication{
					{"match", tag("queue", "persona")}, {"miss", tag("queue", "billing")},
				})
			},
		},
		{
			name: "prefix and suffix match the start and the end of a value",
			doc:  stringMatch, want: "[end start]",
			run: func(ctx context.Context, c *target) string {
				return filtered(ctx, c, `{"queue":[{"prefix":"pers"},{"suffix":"ing"}]}`, "", []publication{
					{"start", tag("queue", "persona")}, {"end", tag("queue", "billing")}, {"miss", tag("queue", "audit")},
				})
			},
		},
		{
			name: "a numeric range delivers numbers within it",
			doc:  numericMatch, want: "[inside]",
			run: func(ctx context.Context, c *target) string {
				return filtered(ctx, c, `{"price":[{"numeric":[">",10,"<=",20]}]}`, "", []publication{
					{"inside", number("price", "15")}, {"edge", number("price", "10")}, {"above", number("price", "20.5")},
				})
			},
		},
		{
			name: "exists false delivers messages without the attribute",
			doc:  keyMatch, want: "[absent]",
			run: func(ctx context.Context, c *target) string {
				return filtered(ctx, c, `{"queue":[{"exists":false}]}`, "", []publication{
					{"absent", tag("other", "x")}, {"present", tag("queue", "persona")},
				})
			},
		},
		{
			name: "$or delivers messages matching either of its policies",
			doc:  orLogicDoc, want: "[left right]",
			run: func(ctx context.Context, c *target) string {
				return filtered(ctx, c, `{"$or":[{"queue":["persona"]},{"kind":["urgent"]}]}`, "", []publication{
					{"left", tag("queue", "persona")}, {"right", tag("kind", "urgent")}, {"neither", tag("queue", "audit")},
				})
			},
		},
		{
			name: "a String.Array attribute matches when any element matches",
			doc:  stringMatch, want: "[match]",
			run: func(ctx context.Context, c *target) string {
				array := func(v string) map[string]snstypes.MessageAttributeValue {
					return map[string]snstypes.MessageAttributeValue{"queue": {DataType: str("String.Array"), StringValue: str(v)}}
				}
				return filtered(ctx, c, `{"queue":["persona"]}`, "", []publication{
					{"match", array(`["audit","persona"]`)}, {"miss", array(`["audit","billing"]`)},
				})
			},
		},
		{
			name: "a MessageBody filter policy matches nested keys of a JSON body",
			doc:  scopeDoc, want: `[{"task":{"queue":"persona"}}]`,
			run: func(ctx context.Context, c *target) string {
				return filtered(ctx, c, `{"task":{"queue":["persona"]}}`, "MessageBody", []publication{
					{`{"task":{"queue":"persona"}}`, nil}, {`{"task":{"queue":"billing"}}`, tag("task", "persona")},
				})
			},
		},
		{
			name: "a MessageBody filter policy drops a body that is not JSON",
			doc:  scopeDoc, want: "[]",
			run: func(ctx context.Context, c *target) string {
				return filtered(ctx, c, `{"queue":["persona"]}`, "MessageBody", []publication{
					{"queue persona", tag("queue", "persona")},
				})
			},
		},
	}
}

// publishTwice publishes in twice and lists what the queue received.
func publishTwice(ctx context.Context, c *target, f fanout, in *sns.PublishInput) string {
	in.TopicArn = str(f.topicARN)
	for range 2 {
		if _, err := c.sns.Publish(ctx, in); err != nil {
			return failed(err)
		}
	}
	return delivered(ctx, c, f.queueURL)
}
