// Package queues serves local SNS topics and SQS queues over the AWS wire protocols,
// with the semantics a deployed stack relies on: filter policies, FIFO group ordering,
// deduplication, visibility timeouts, dead-letter queues, and AWS's limits and error codes.
package queues

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/topology"
)

// DeduplicationWindow is how long SNS and SQS FIFO remember a deduplication ID.
const DeduplicationWindow = 5 * time.Minute

// Attribute is a message attribute as SNS and SQS carry it.
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Authorizer decides whether the caller of a request may make a call; it answers nil
// when it may.
type Authorizer interface {
	Authorize(r *http.Request, call iam.Call) *iam.Denial
}

// Broker holds the topics, subscriptions and queues of one stage.
type Broker struct {
	region  string
	baseURL string
	now     func() time.Time
	logf    func(format string, args ...any)
	authz   Authorizer

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever a queue gains a message or a message becomes visible early
	queues  map[string]*queue
	topics  map[string]*topic // by ARN
	seq     uint64
}

// Option configures a Broker.
type Option func(*Broker)

// WithClock makes the broker read time from now, so tests can move time forward.
func WithClock(now func() time.Time) Option { return func(b *Broker) { b.now = now } }

// WithLog sends what the broker has to say, such as a delivery SNS would drop, to logf.
func WithLog(logf func(format string, args ...any)) Option {
	return func(b *Broker) { b.logf = logf }
}

// WithAuthorizer makes the broker ask a before each call whether its caller may make it.
func WithAuthorizer(a Authorizer) Option { return func(b *Broker) { b.authz = a } }

// New returns an empty broker whose queue URLs start with baseURL (the address it is served on).
func New(region, baseURL string, opts ...Option) *Broker {
	b := &Broker{
		region:  region,
		baseURL: strings.TrimRight(baseURL, "/"),
		now:     time.Now,
		logf:    func(string, ...any) {},
		changed: make(chan struct{}),
		queues:  map[string]*queue{},
		topics:  map[string]*topic{},
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Load creates the stack's queues, topics and subscriptions.
func (b *Broker) Load(s *topology.Stack) error {
	for _, q := range s.Queues {
		b.CreateQueue(q)
	}
	for _, q := range s.Queues {
		if q.DeadLetterQueue == "" {
			continue
		}
		if _, ok := b.queue(q.DeadLetterQueue); !ok {
			return fmt.Errorf("queue %s: dead-letter queue %s is not declared", q.Name, q.DeadLetterQueue)
		}
		if q.MaxReceiveCount < 1 {
			return fmt.Errorf("queue %s: dead-letter queue %s needs a maxReceiveCount of at least 1", q.Name, q.DeadLetterQueue)
		}
	}
	for _, t := range s.Topics {
		b.CreateTopic(t)
	}
	for _, sub := range s.Subscriptions {
		if err := b.Subscribe(sub); err != nil {
			return err
		}
	}
	return nil
}

// CreateQueue adds a queue; its dead-letter queue, if any, must be created too.
func (b *Broker) CreateQueue(q topology.Queue) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queues[q.Name] = &queue{def: q, dedup: map[string]dedupEntry{}}
}

// CreateTopic adds a topic.
func (b *Broker) CreateTopic(t topology.Topic) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.topics[b.TopicARN(t.Name)] = &topic{def: t, dedup: map[string]dedupEntry{}}
}

// Subscribe delivers a topic's messages that pass the subscription's filter policy to its queue.
func (b *Broker) Subscribe(s topology.Subscription) error {
	fp, err := parseFilterPolicy(s.FilterPolicy, s.FilterPolicyScope)
	if err != nil {
		return fmt.Errorf("subscription %s -> %s: %w", s.Topic, s.Queue, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.topics[b.TopicARN(s.Topic)]
	if !ok {
		return fmt.Errorf("subscription %s -> %s: topic is not declared", s.Topic, s.Queue)
	}
	q, ok := b.queues[s.Queue]
	if !ok {
		return fmt.Errorf("subscription %s -> %s: queue is not declared", s.Topic, s.Queue)
	}
	// SNS delivers a FIFO topic's messages to FIFO and standard queues alike, but a
	// standard topic cannot keep a FIFO queue's order and is refused.
	if !t.def.FIFO && q.def.FIFO {
		return fmt.Errorf("subscription %s -> %s: a standard topic cannot deliver to a FIFO queue; make the topic FIFO too", s.Topic, s.Queue)
	}
	t.subs = append(t.subs, subscription{def: s, filter: fp, arn: b.TopicARN(s.Topic) + ":" + uuid.NewString()})
	return nil
}

// TopicARN is the local ARN of the topic named name.
func (b *Broker) TopicARN(name string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", b.region, iam.LocalAccount, name)
}

// QueueARN is the local ARN of the queue named name.
func (b *Broker) QueueARN(name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", b.region, iam.LocalAccount, name)
}

// QueueURL is the local URL of the queue named name.
func (b *Broker) QueueURL(name string) string {
	return b.baseURL + "/" + iam.LocalAccount + "/" + name
}

func (b *Broker) queue(name string) (*queue, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	return q, ok
}

// queueName is the name in a queue URL; any host is accepted, so that clients which
// rewrite the endpoint still reach the queue.
func queueName(url string) string {
	return url[strings.LastIndex(url, "/")+1:]
}

// queueByURL finds a queue by its URL.
func (b *Broker) queueByURL(url string) (*queue, error) {
	q, ok := b.queue(queueName(url))
	if !ok {
		return nil, errQueueDoesNotExist
	}
	return q, nil
}
