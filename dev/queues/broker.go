// Package queues serves local SNS topics and SQS queues over the AWS wire protocols,
// with the semantics a deployed stack relies on: filter policies, FIFO group ordering,
// deduplication, visibility timeouts, dead-letter queues.
package queues

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/personabackend/app/topology"
)

// Account is the account ID in every local ARN.
const Account = "000000000000"

// DeduplicationWindow is how long SNS and SQS FIFO remember a deduplication ID.
const DeduplicationWindow = 5 * time.Minute

// Attribute is a message attribute as SNS and SQS carry it.
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Broker holds the topics, subscriptions and queues of one stage.
type Broker struct {
	region  string
	baseURL string
	now     func() time.Time

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

// New returns an empty broker whose queue URLs start with baseURL (the address it is served on).
func New(region, baseURL string, opts ...Option) *Broker {
	b := &Broker{
		region:  region,
		baseURL: strings.TrimRight(baseURL, "/"),
		now:     time.Now,
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
	fp, err := parseFilterPolicy(s.FilterPolicy)
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
	// SNS refuses both mismatches: a FIFO topic delivers only to FIFO queues, a standard topic only to standard ones.
	if t.def.FIFO != q.def.FIFO {
		return fmt.Errorf("subscription %s -> %s: a %s topic cannot deliver to a %s queue; make both FIFO or both standard",
			s.Topic, s.Queue, kind(t.def.FIFO), kind(q.def.FIFO))
	}
	t.subs = append(t.subs, subscription{def: s, filter: fp, arn: b.TopicARN(s.Topic) + ":" + uuid.NewString()})
	return nil
}

func kind(fifo bool) string {
	if fifo {
		return "FIFO"
	}
	return "standard"
}

// TopicARN is the local ARN of the topic named name.
func (b *Broker) TopicARN(name string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", b.region, Account, name)
}

// QueueARN is the local ARN of the queue named name.
func (b *Broker) QueueARN(name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", b.region, Account, name)
}

// QueueURL is the local URL of the queue named name.
func (b *Broker) QueueURL(name string) string {
	return b.baseURL + "/" + Account + "/" + name
}

func (b *Broker) queue(name string) (*queue, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	return q, ok
}

// queueByURL finds a queue by its URL, accepting any host so that clients
// which rewrite the endpoint still reach it.
func (b *Broker) queueByURL(url string) (*queue, error) {
	name := url[strings.LastIndex(url, "/")+1:]
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	if !ok {
		return nil, &apiError{code: "QueueDoesNotExist", message: "The specified queue does not exist."}
	}
	return q, nil
}

type topic struct {
	def   topology.Topic
	subs  []subscription
	dedup map[string]dedupEntry
}

type subscription struct {
	def    topology.Subscription
	filter filterPolicy
	arn    string
}

type dedupEntry struct {
	messageID string
	seq       string
	expires   time.Time
}

type queue struct {
	def      topology.Queue
	messages []*message // in send order
	dedup    map[string]dedupEntry
}

type message struct {
	id            string
	body          string
	attrs         map[string]Attribute
	groupID       string
	dedupID       string
	seq           string
	sentAt        time.Time
	firstReceive  time.Time
	receiveCount  int
	visibleAt     time.Time
	receiptHandle string // empty until received
}

// apiError is an error with an AWS error code, as both protocols report it.
type apiError struct {
	code    string
	message string
	sender  bool
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func invalid(format string, args ...any) error {
	return &apiError{code: "InvalidParameterValue", message: fmt.Sprintf(format, args...), sender: true}
}

// sendInput is a message to put on a queue.
type sendInput struct {
	Body            string
	Attributes      map[string]Attribute
	GroupID         string
	DeduplicationID string
	DelaySeconds    int
}

// sendOutput says what a send produced; a deduplicated send returns the original message's ID.
type sendOutput struct {
	MessageID      string
	SequenceNumber string
}

func (b *Broker) send(q *queue, in sendInput) (sendOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sendLocked(q, in)
}

func (b *Broker) sendLocked(q *queue, in sendInput) (sendOutput, error) {
	if in.Body == "" {
		return sendOutput{}, &apiError{code: "MissingParameter", message: "The request must contain the parameter MessageBody.", sender: true}
	}
	now := b.now()
	m := &message{id: uuid.NewString(), body: in.Body, attrs: in.Attributes, sentAt: now, visibleAt: now}
	if q.def.FIFO {
		if in.GroupID == "" {
			return sendOutput{}, &apiError{code: "MissingParameter", message: "The request must contain the parameter MessageGroupId.", sender: true}
		}
		if in.DelaySeconds != 0 {
			return sendOutput{}, invalid("Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", in.DelaySeconds)
		}
		dedupID := in.DeduplicationID
		if dedupID == "" {
			if !q.def.ContentBasedDeduplication {
				return sendOutput{}, invalid("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			sum := sha256.Sum256([]byte(in.Body))
			dedupID = hex.EncodeToString(sum[:])
		}
		if e, ok := q.dedup[dedupID]; ok && now.Before(e.expires) {
			return sendOutput{MessageID: e.messageID, SequenceNumber: e.seq}, nil
		}
		b.seq++
		m.groupID, m.dedupID, m.seq = in.GroupID, dedupID, fmt.Sprintf("%020d", b.seq)
		q.dedup[dedupID] = dedupEntry{messageID: m.id, seq: m.seq, expires: now.Add(DeduplicationWindow)}
	} else if in.GroupID != "" {
		return sendOutput{}, invalid("The request include parameter MessageGroupId that is not valid for this queue type")
	} else {
		m.visibleAt = now.Add(time.Duration(in.DelaySeconds) * time.Second)
	}
	q.messages = append(q.messages, m)
	b.notifyLocked()
	return sendOutput{MessageID: m.id, SequenceNumber: m.seq}, nil
}

func (b *Broker) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// received is a message handed to a consumer.
type received struct {
	MessageID        string
	ReceiptHandle    string
	Body             string
	Attributes       map[string]Attribute
	SystemAttributes map[string]string
}

// receive takes up to max visible messages, waiting up to wait for some to arrive.
func (b *Broker) receive(ctx context.Context, q *queue, max int, visibility time.Duration, wait time.Duration) []received {
	deadline := time.Now().Add(wait)
	for {
		b.mu.Lock()
		got := b.receiveLocked(q, max, visibility)
		changed := b.changed
		b.mu.Unlock()
		left := time.Until(deadline)
		if len(got) > 0 || left <= 0 {
			return got
		}
		// Messages also become visible when their timeout lapses, which nothing
		// announces: look again at least every 100 ms.
		timer := time.NewTimer(min(left, 100*time.Millisecond))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-changed:
			timer.Stop()
		case <-timer.C:
		}
	}
}

func (b *Broker) receiveLocked(q *queue, max int, visibility time.Duration) []received {
	now := b.now()
	b.expireLocked(q, now)
	// FIFO groups with a message in flight, wherever it sits in the queue: one made
	// visible again early must not be handed out while a later one is in flight.
	blocked := map[string]bool{}
	if q.def.FIFO {
		for _, m := range q.messages {
			if m.receiptHandle != "" && now.Before(m.visibleAt) {
				blocked[m.groupID] = true
			}
		}
	}
	var out []received
	var keep []*message
	for _, m := range q.messages {
		if now.Before(m.visibleAt) {
			keep = append(keep, m)
			continue
		}
		if q.def.FIFO && blocked[m.groupID] {
			keep = append(keep, m)
			continue
		}
		if q.def.DeadLetterQueue != "" && m.receiveCount >= q.def.MaxReceiveCount {
			if dlq, ok := b.queues[q.def.DeadLetterQueue]; ok {
				b.moveLocked(m, dlq, now)
				continue
			}
		}
		if len(out) >= max {
			if q.def.FIFO {
				// Later messages of this group wait behind this one.
				blocked[m.groupID] = true
			}
			keep = append(keep, m)
			continue
		}
		m.receiveCount++
		if m.firstReceive.IsZero() {
			m.firstReceive = now
		}
		m.visibleAt = now.Add(visibility)
		m.receiptHandle = uuid.NewString() + "#" + m.id
		out = append(out, received{
			MessageID:        m.id,
			ReceiptHandle:    m.receiptHandle,
			Body:             m.body,
			Attributes:       m.attrs,
			SystemAttributes: m.systemAttributes(),
		})
		keep = append(keep, m)
	}
	q.messages = keep
	return out
}

// moveLocked puts m at the end of the dead-letter queue, keeping its identity and
// history as SQS does (its receive count starts again).
func (b *Broker) moveLocked(m *message, dlq *queue, now time.Time) {
	m.receiveCount = 0
	m.firstReceive = time.Time{}
	m.receiptHandle = ""
	m.visibleAt = now
	dlq.messages = append(dlq.messages, m)
	b.notifyLocked()
}

// expireLocked drops messages older than the queue's retention period.
func (b *Broker) expireLocked(q *queue, now time.Time) {
	for id, e := range q.dedup {
		if !now.Before(e.expires) {
			delete(q.dedup, id)
		}
	}
	if q.def.RetentionSeconds <= 0 {
		return
	}
	limit := now.Add(-time.Duration(q.def.RetentionSeconds) * time.Second)
	kept := q.messages[:0]
	for _, m := range q.messages {
		if m.sentAt.After(limit) {
			kept = append(kept, m)
		}
	}
	q.messages = kept
}

func (m *message) systemAttributes() map[string]string {
	a := map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.receiveCount),
		"SentTimestamp":                    strconv.FormatInt(m.sentAt.UnixMilli(), 10),
		"SenderId":                         Account,
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
	}
	if m.groupID != "" {
		a["MessageGroupId"] = m.groupID
		a["MessageDeduplicationId"] = m.dedupID
		a["SequenceNumber"] = m.seq
	}
	return a
}

var errInvalidHandle = &apiError{code: "ReceiptHandleIsInvalid", message: "The input receipt handle is invalid.", sender: true}

// findLocked returns the message a receipt handle names, or nil when that message is gone.
func findLocked(q *queue, handle string) (int, *message, error) {
	_, id, ok := strings.Cut(handle, "#")
	if !ok {
		return 0, nil, errInvalidHandle
	}
	for i, m := range q.messages {
		if m.id != id {
			continue
		}
		if m.receiptHandle != handle {
			// The message was received again since: the old handle no longer
			// controls it (SQS FIFO refuses it; standard queues accept it late).
			if q.def.FIFO {
				return 0, nil, errInvalidHandle
			}
		}
		return i, m, nil
	}
	return 0, nil, nil
}

func (b *Broker) delete(q *queue, handle string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, m, err := findLocked(q, handle)
	if err != nil || m == nil {
		return err
	}
	q.messages = append(q.messages[:i], q.messages[i+1:]...)
	if m.groupID != "" {
		// The group may now deliver its next message.
		b.notifyLocked()
	}
	return nil
}

func (b *Broker) changeVisibility(q *queue, handle string, timeout time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, m, err := findLocked(q, handle)
	if err != nil {
		return err
	}
	if m == nil || m.receiptHandle != handle || !b.now().Before(m.visibleAt) {
		return &apiError{code: "MessageNotInflight", message: "The message referred to is not in flight.", sender: true}
	}
	m.visibleAt = b.now().Add(timeout)
	b.notifyLocked()
	return nil
}

// Counts reports how many messages the queue holds: visible ones and in-flight or delayed ones.
func (b *Broker) Counts(name string) (visible, notVisible int, err error) {
	q, ok := b.queue(name)
	if !ok {
		return 0, 0, fmt.Errorf("queue %s is not declared", name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	for _, m := range q.messages {
		if now.Before(m.visibleAt) {
			notVisible++
		} else {
			visible++
		}
	}
	return visible, notVisible, nil
}

func (b *Broker) queueAttributes(q *queue) map[string]string {
	visible, notVisible, _ := b.Counts(q.def.Name)
	a := map[string]string{
		"QueueArn":                              b.QueueARN(q.def.Name),
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(notVisible),
		"ApproximateNumberOfMessagesDelayed":    "0",
		"VisibilityTimeout":                     strconv.Itoa(q.def.VisibilityTimeoutSeconds),
		"MessageRetentionPeriod":                strconv.Itoa(q.def.RetentionSeconds),
		"DelaySeconds":                          "0",
		"ReceiveMessageWaitTimeSeconds":         "0",
		"MaximumMessageSize":                    "262144",
	}
	if q.def.FIFO {
		a["FifoQueue"] = "true"
		a["ContentBasedDeduplication"] = strconv.FormatBool(q.def.ContentBasedDeduplication)
	}
	if q.def.DeadLetterQueue != "" {
		a["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, b.QueueARN(q.def.DeadLetterQueue), q.def.MaxReceiveCount)
	}
	return a
}

// publishInput is a message published to a topic.
type publishInput struct {
	Message         string
	Subject         string
	Attributes      map[string]Attribute
	GroupID         string
	DeduplicationID string
}

// publish fans a message out to the topic's subscriptions whose filter it passes.
func (b *Broker) publish(topicARN string, in publishInput) (sendOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.topics[topicARN]
	if !ok {
		return sendOutput{}, &apiError{code: "NotFound", message: "Topic does not exist", sender: true}
	}
	if in.Message == "" {
		return sendOutput{}, &apiError{code: "InvalidParameter", message: "Invalid parameter: Empty message", sender: true}
	}
	now := b.now()
	out := sendOutput{MessageID: uuid.NewString()}
	if t.def.FIFO {
		if in.GroupID == "" {
			return sendOutput{}, &apiError{code: "InvalidParameter", message: "Invalid parameter: The MessageGroupId parameter is required for FIFO topics", sender: true}
		}
		if in.DeduplicationID == "" {
			if !t.def.ContentBasedDeduplication {
				return sendOutput{}, &apiError{code: "InvalidParameter", message: "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly", sender: true}
			}
			sum := sha256.Sum256([]byte(in.Message))
			in.DeduplicationID = hex.EncodeToString(sum[:])
		}
		for id, e := range t.dedup {
			if !now.Before(e.expires) {
				delete(t.dedup, id)
			}
		}
		if e, ok := t.dedup[in.DeduplicationID]; ok {
			return sendOutput{MessageID: e.messageID, SequenceNumber: e.seq}, nil
		}
		b.seq++
		out.SequenceNumber = fmt.Sprintf("%020d", b.seq)
		t.dedup[in.DeduplicationID] = dedupEntry{messageID: out.MessageID, seq: out.SequenceNumber, expires: now.Add(DeduplicationWindow)}
	} else if in.GroupID != "" {
		return sendOutput{}, &apiError{code: "InvalidParameter", message: "Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type", sender: true}
	}
	for _, s := range t.subs {
		if !s.filter.matches(in.Attributes) {
			continue
		}
		q := b.queues[s.def.Queue]
		msg := sendInput{Body: in.Message, GroupID: in.GroupID, DeduplicationID: in.DeduplicationID}
		if s.def.RawMessageDelivery {
			msg.Attributes = in.Attributes
		} else {
			msg.Body = notification(topicARN, s.arn, out, in, now)
		}
		if _, err := b.sendLocked(q, msg); err != nil {
			return sendOutput{}, fmt.Errorf("delivering to %s: %w", q.def.Name, err)
		}
	}
	return out, nil
}

// sortedNames returns the attribute names of attrs in byte order.
func sortedNames(attrs map[string]Attribute) []string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
