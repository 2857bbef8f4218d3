package constructs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lambdaeventsourcemapping"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopic"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicsubscription"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueue"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueuepolicy"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/personabackend/app/topology"
)

// TaskOrchestratorProps configures the topic.
type TaskOrchestratorProps struct {
	// Name is the short name; the topic is "<app>-<stage>-<Name>" (+ ".fifo"). Default: from the id.
	Name string
	// Standard makes a standard topic; the default is FIFO, which keeps each message
	// group in order and drops duplicates.
	Standard bool
	// ContentBasedDeduplication lets publishers omit MessageDeduplicationId (FIFO only).
	ContentBasedDeduplication bool
}

// TaskOrchestrator is an SNS topic that fans tasks out to queues, each subscribed
// with a filter policy and drained by a worker function.
type TaskOrchestrator struct {
	stack *Stack
	topo  topology.Topic
	topic snstopic.SnsTopic
}

// NewTaskOrchestrator declares the topic.
func NewTaskOrchestrator(stack *Stack, id string, props TaskOrchestratorProps) (*TaskOrchestrator, error) {
	if err := validateLinkName(id); err != nil {
		return nil, fmt.Errorf("topic %s: %w", id, err)
	}
	fifo := !props.Standard
	if !fifo && props.ContentBasedDeduplication {
		return nil, fmt.Errorf("topic %s: ContentBasedDeduplication needs a FIFO topic", id)
	}
	name := stack.ResourceName(firstNonEmpty(props.Name, kebab(id)))
	if fifo {
		name += ".fifo"
	}
	config := &snstopic.SnsTopicConfig{Name: jsii.String(name)}
	if fifo {
		config.FifoTopic = jsii.Bool(true)
		config.ContentBasedDeduplication = jsii.Bool(props.ContentBasedDeduplication)
	}
	topic := snstopic.NewSnsTopic(stack.scope(id), jsii.String("topic"), config)
	topo := topology.Topic{LinkName: id, Name: name, FIFO: fifo, ContentBasedDeduplication: props.ContentBasedDeduplication}
	stack.topo.Topics = append(stack.topo.Topics, topo)
	return &TaskOrchestrator{stack: stack, topo: topo, topic: topic}, nil
}

// LinkName is the topic's name for handlers (resource.GetTopic).
func (o *TaskOrchestrator) LinkName() string { return o.topo.LinkName }

// Name is the topic's name.
func (o *TaskOrchestrator) Name() string { return o.topo.Name }

// Arn is the topic's ARN.
func (o *TaskOrchestrator) Arn() string { return *o.topic.Arn() }

// Link grants publish access: sns:Publish on this topic.
func (o *TaskOrchestrator) Link(access Access) (LinkGrant, error) {
	if access != Publish {
		return LinkGrant{}, unsupportedAccess("topic", o.topo.LinkName, access, string(Publish))
	}
	arn := ARN{Expr: o.Arn(), Service: "sns", Resource: o.topo.Name}
	return LinkGrant{
		Properties: o.topo.LinkProperties(arn.Expr),
		Statements: []Statement{{Actions: []string{"sns:Publish"}, Resources: []ARN{arn}}},
	}, nil
}

// QueueSubscriptionProps describes a queue subscribed to the topic and its worker.
type QueueSubscriptionProps struct {
	// Name is the short name; the queue is "<app>-<stage>-<Name>" (+ ".fifo"). Default: from the id.
	Name string
	// Filter is the subscription's filter policy on message attributes, as in SST:
	// {"queue": ["persona"]} delivers only messages whose attribute queue is "persona".
	Filter map[string]any
	// FilterScope is what Filter looks at: FilterAttributes (the default) or
	// FilterBody, the keys of a JSON message body.
	FilterScope FilterScope
	// Worker is the function that consumes the queue.
	Worker FunctionProps
	// BatchSize is the most messages per worker invocation; default 10.
	BatchSize int
	// MaxReceives is how often a message is tried before it moves to the
	// dead-letter queue; default 5, the least AWS advises for a queue Lambda consumes:
	// a message the event source mapping received while the function was throttled
	// counts as received, so fewer would dead-letter good tasks under load.
	MaxReceives int
	// Retention is how long an unconsumed message is kept; default 4 days
	// (the dead-letter queue keeps messages for 14 days).
	Retention time.Duration
}

// withDefaults fills in the defaults, checks the props against SQS's limits, and
// returns them with the filter policy as JSON.
func (p QueueSubscriptionProps) withDefaults() (QueueSubscriptionProps, []byte, error) {
	if len(p.Filter) == 0 {
		return p, nil, fmt.Errorf("a Filter is required, e.g. {\"queue\": [\"persona\"]}, so the queue gets only its own tasks")
	}
	filter, err := json.Marshal(p.Filter)
	if err != nil {
		return p, nil, fmt.Errorf("encoding the filter policy: %w", err)
	}
	if p.BatchSize == 0 {
		p.BatchSize = 10
	}
	if p.BatchSize < 1 || p.BatchSize > 10 {
		return p, nil, fmt.Errorf("batch size %d: SQS delivers 1 to 10 messages per batch", p.BatchSize)
	}
	if p.MaxReceives == 0 {
		p.MaxReceives = 5
	}
	if p.MaxReceives < 1 || p.MaxReceives > 1000 {
		return p, nil, fmt.Errorf("max receives %d is outside SQS's 1-1000", p.MaxReceives)
	}
	if p.Retention == 0 {
		p.Retention = 4 * 24 * time.Hour
	}
	if p.Retention < time.Minute || p.Retention > 14*24*time.Hour || p.Retention%time.Second != 0 {
		return p, nil, fmt.Errorf("retention %s must be whole seconds within SQS's 1 minute to 14 days", p.Retention)
	}
	switch p.FilterScope {
	case "":
		p.FilterScope = FilterAttributes
	case FilterAttributes, FilterBody:
	default:
		return p, nil, fmt.Errorf("filter scope %q: use FilterAttributes or FilterBody", p.FilterScope)
	}
	return p, filter, nil
}

// FilterScope says what a subscription's filter policy looks at.
type FilterScope string

// The scopes of a filter policy.
const (
	FilterAttributes FilterScope = "MessageAttributes"
	FilterBody       FilterScope = "MessageBody"
)

// maxMessageSize is what the queues accept: the AWS provider's default, set so that
// the stack says it and the dev mode enforces the same.
const maxMessageSize = 256 << 10

// Queue is an SQS queue subscribed to a topic, with its dead-letter queue and worker.
type Queue struct {
	topo   topology.Queue
	queue  sqsqueue.SqsQueue
	worker *GoFunction
}

// SubscribeQueue declares a queue that receives the topic's messages matching
// props.Filter: with its dead-letter queue, a policy that lets only this topic send
// to it, and a worker fed by an event source mapping that reports partial batch
// failures, so only the failed messages of a batch are retried.
func (o *TaskOrchestrator) SubscribeQueue(id string, props QueueSubscriptionProps) (*Queue, error) {
	if err := validateLinkName(id); err != nil {
		return nil, fmt.Errorf("queue %s: %w", id, err)
	}
	props, filter, err := props.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", id, err)
	}
	batch, maxReceives, retention := props.BatchSize, props.MaxReceives, props.Retention

	stack := o.stack
	short := firstNonEmpty(props.Name, kebab(id))
	suffix := ""
	if o.topo.FIFO {
		suffix = ".fifo"
	}
	name := stack.ResourceName(short) + suffix
	dlqName := stack.ResourceName(short+"-dlq") + suffix
	if props.Worker.Name == "" {
		props.Worker.Name = short + "-worker"
	}
	// The worker's own links come after the queue's, which the queue adds itself.
	workerLinks := props.Worker.Links
	props.Worker.Links = nil
	worker, err := NewGoFunction(stack, stack.derive(id, "Worker"), props.Worker)
	if err != nil {
		return nil, err
	}
	// AWS advises a visibility timeout of at least six times the function's
	// timeout, so a batch retried after throttling is not redelivered meanwhile.
	visibility := 6 * worker.Timeout()

	scope := stack.scope(id)
	dlq := sqsqueue.NewSqsQueue(scope, jsii.String("dead-letter"), &sqsqueue.SqsQueueConfig{
		Name:                    jsii.String(dlqName),
		FifoQueue:               fifoOrNil(o.topo.FIFO),
		MessageRetentionSeconds: jsii.Number(14 * 24 * 3600),
		MaxMessageSize:          jsii.Number(maxMessageSize),
		SqsManagedSseEnabled:    jsii.Bool(true),
		// Its messages are the tasks that failed every try, kept for someone to read
		// or redrive: a protected stage's cannot be destroyed with them in it.
		Lifecycle: stack.lifecycle(),
	})
	redrive, err := json.Marshal(map[string]any{"deadLetterTargetArn": *dlq.Arn(), "maxReceiveCount": maxReceives})
	if err != nil {
		return nil, err
	}
	queue := sqsqueue.NewSqsQueue(scope, jsii.String("queue"), &sqsqueue.SqsQueueConfig{
		Name:                     jsii.String(name),
		FifoQueue:                fifoOrNil(o.topo.FIFO),
		VisibilityTimeoutSeconds: jsii.Number(visibility.Seconds()),
		MessageRetentionSeconds:  jsii.Number(retention.Seconds()),
		MaxMessageSize:           jsii.Number(maxMessageSize),
		RedrivePolicy:            jsii.String(string(redrive)),
		SqsManagedSseEnabled:     jsii.Bool(true),
	})
	if err := o.subscribe(scope, queue, filter, props.FilterScope); err != nil {
		return nil, err
	}

	q := &Queue{
		topo: topology.Queue{
			LinkName: id, Name: name, FIFO: o.topo.FIFO,
			VisibilityTimeoutSeconds: int(visibility.Seconds()),
			RetentionSeconds:         int(retention.Seconds()),
			DeadLetterQueue:          dlqName, MaxReceiveCount: maxReceives,
			MaximumMessageSize: maxMessageSize,
		},
		queue:  queue,
		worker: worker,
	}
	if err := worker.Link(q, Consume); err != nil {
		return nil, err
	}
	for _, l := range workerLinks {
		if err := worker.Link(l.Resource, l.Access); err != nil {
			return nil, err
		}
	}
	lambdaeventsourcemapping.NewLambdaEventSourceMapping(scope, jsii.String("worker-source"), &lambdaeventsourcemapping.LambdaEventSourceMappingConfig{
		EventSourceArn:        queue.Arn(),
		FunctionName:          worker.lambda.Arn(),
		BatchSize:             jsii.Number(float64(batch)),
		FunctionResponseTypes: jsii.Strings("ReportBatchItemFailures"),
		// Lambda checks the role can read the queue when the mapping is created.
		DependsOn: &[]cdktf.ITerraformDependable{worker.policy},
	})

	stack.topo.Queues = append(stack.topo.Queues,
		q.topo,
		topology.Queue{
			LinkName: id + "DeadLetter", Name: dlqName, FIFO: o.topo.FIFO,
			VisibilityTimeoutSeconds: 30, RetentionSeconds: 14 * 24 * 3600, MaximumMessageSize: maxMessageSize,
		},
	)
	stack.topo.Subscriptions = append(stack.topo.Subscriptions, topology.Subscription{
		Topic: o.topo.Name, Queue: name, FilterPolicy: string(filter), FilterPolicyScope: string(props.FilterScope), RawMessageDelivery: true,
	})
	stack.topo.EventSources = append(stack.topo.EventSources, topology.EventSource{
		Queue: name, Function: worker.Name(), BatchSize: batch, ReportBatchItemFailures: true,
	})
	return q, nil
}

// subscribe lets the topic, and only it, send to queue, and subscribes queue to the
// topic's messages that match filter (in scope), delivered raw.
func (o *TaskOrchestrator) subscribe(scope constructs.Construct, queue sqsqueue.SqsQueue, filter []byte, filterScope FilterScope) error {
	policy, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid":       "TopicSendsMessages",
			"Effect":    "Allow",
			"Principal": map[string]string{"Service": "sns.amazonaws.com"},
			"Action":    "sqs:SendMessage",
			"Resource":  *queue.Arn(),
			"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": o.Arn()}},
		}},
	})
	if err != nil {
		return err
	}
	queuePolicy := sqsqueuepolicy.NewSqsQueuePolicy(scope, jsii.String("policy"), &sqsqueuepolicy.SqsQueuePolicyConfig{
		QueueUrl: queue.Url(),
		Policy:   jsii.String(string(policy)),
	})
	snstopicsubscription.NewSnsTopicSubscription(scope, jsii.String("subscription"), &snstopicsubscription.SnsTopicSubscriptionConfig{
		TopicArn:           o.topic.Arn(),
		Protocol:           jsii.String("sqs"),
		Endpoint:           queue.Arn(),
		FilterPolicy:       jsii.String(string(filter)),
		FilterPolicyScope:  jsii.String(string(filterScope)),
		RawMessageDelivery: jsii.Bool(true),
		// Messages published before the queue accepts them would be lost.
		DependsOn: &[]cdktf.ITerraformDependable{queuePolicy},
	})
	return nil
}

func fifoOrNil(fifo bool) any {
	if !fifo {
		return nil
	}
	return jsii.Bool(true)
}

// LinkName is the queue's name for handlers (resource.GetQueue).
func (q *Queue) LinkName() string { return q.topo.LinkName }

// Name is the queue's name.
func (q *Queue) Name() string { return q.topo.Name }

// Worker is the function that consumes the queue.
func (q *Queue) Worker() *GoFunction { return q.worker }

// MaxReceives is how often a message is delivered before it moves to the dead-letter queue.
func (q *Queue) MaxReceives() int { return q.topo.MaxReceiveCount }

// VisibilityTimeout is how long a delivered message stays hidden before it is delivered again.
func (q *Queue) VisibilityTimeout() time.Duration {
	return time.Duration(q.topo.VisibilityTimeoutSeconds) * time.Second
}

// Link grants send access (sqs:SendMessage, which SendMessageBatch needs too; the link
// gives the queue's URL, so no GetQueueUrl) or consume access: what Lambda's event
// source mapping polls the queue with (ReceiveMessage, DeleteMessage,
// GetQueueAttributes, as the Lambda and SQS developer guides list).
func (q *Queue) Link(access Access) (LinkGrant, error) {
	arn := ARN{Expr: *q.queue.Arn(), Service: "sqs", Resource: q.topo.Name}
	var actions []string
	switch access {
	case Send:
		actions = []string{"sqs:SendMessage"}
	case Consume:
		actions = []string{"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}
	default:
		return LinkGrant{}, unsupportedAccess("queue", q.topo.LinkName, access, string(Send), string(Consume))
	}
	return LinkGrant{
		Properties: q.topo.LinkProperties(arn.Expr, *q.queue.Url()),
		Statements: []Statement{{Actions: actions, Resources: []ARN{arn}}},
	}, nil
}
