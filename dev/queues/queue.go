package queues

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/topology"
)

type queue struct {
	def      topology.Queue
	messages []*message // in send order
	dedup    map[string]dedupEntry
}

// maxMessageSize is the most bytes, body and attributes, a message of the queue may hold.
func (q *queue) maxMessageSize() int {
	if q.def.MaximumMessageSize > 0 {
		return q.def.MaximumMessageSize
	}
	return maxQueueMessageSize
}

type dedupEntry struct {
	messageID string
	seq       string
	expires   time.Time
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
	receiptHandle string    // the latest receive's handle; empty until received
	receivedAt    time.Time // when the latest receive issued receiptHandle
}

// inFlight reports whether m has been received and is hidden until its timeout passes.
func (m *message) inFlight(now time.Time) bool {
	return m.receiptHandle != "" && now.Before(m.visibleAt)
}

// sendInput is a message to put on a queue.
type sendInput struct {
	Body            string
	Attributes      map[string]Attribute
	GroupID         string
	DeduplicationID string
	DelaySeconds    int
}

// sendOutput says what a send produced; a deduplicated send answers the original
// message's id and sequence number.
type sendOutput struct {
	MessageID      string
	SequenceNumber string
}

// checkSend applies SQS's rules to a message for q, before anything is stored.
func checkSend(q *queue, in sendInput) error {
	if in.Body == "" {
		return missing("MessageBody")
	}
	if in.DelaySeconds < 0 || in.DelaySeconds > maxDelaySeconds {
		return invalidValue("DelaySeconds", in.DelaySeconds, fmt.Sprintf("DelaySeconds must be >= 0 and <= %d.", maxDelaySeconds))
	}
	if err := checkSQSAttributes(in.Attributes); err != nil {
		return err
	}
	if !validText(in.Body) {
		return senderError("InvalidMessageContents", "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
	}
	if size := len(in.Body) + attributesSize(in.Attributes); size > q.maxMessageSize() {
		return invalid("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", q.maxMessageSize())
	}
	if in.GroupID != "" {
		if reason := checkID(in.GroupID); reason != "" {
			return invalidValue("MessageGroupId", in.GroupID, reason)
		}
	}
	if !q.def.FIFO {
		if in.DeduplicationID != "" {
			return invalidValue("MessageDeduplicationId", in.DeduplicationID, "The request includes a parameter that is not valid for this queue type.")
		}
		return nil
	}
	if in.GroupID == "" {
		return missing("MessageGroupId")
	}
	if in.DelaySeconds != 0 {
		return invalidValue("DelaySeconds", in.DelaySeconds, "The request include parameter that is not valid for this queue type.")
	}
	if in.DeduplicationID == "" && !q.def.ContentBasedDeduplication {
		return invalid("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	}
	if in.DeduplicationID != "" {
		if reason := checkID(in.DeduplicationID); reason != "" {
			return invalidValue("MessageDeduplicationId", in.DeduplicationID, reason)
		}
	}
	return nil
}

func (b *Broker) send(q *queue, in sendInput) (sendOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sendLocked(q, in)
}

func (b *Broker) sendLocked(q *queue, in sendInput) (sendOutput, error) {
	if err := checkSend(q, in); err != nil {
		return sendOutput{}, err
	}
	now := b.now()
	m := &message{id: uuid.NewString(), body: in.Body, attrs: in.Attributes, groupID: in.GroupID, sentAt: now, visibleAt: now}
	if q.def.FIFO {
		dedupID := in.DeduplicationID
		if dedupID == "" {
			sum := sha256.Sum256([]byte(in.Body))
			dedupID = hex.EncodeToString(sum[:])
		}
		if e, ok := q.dedup[dedupID]; ok && now.Before(e.expires) {
			return sendOutput{MessageID: e.messageID, SequenceNumber: e.seq}, nil
		}
		b.seq++
		m.dedupID, m.seq = dedupID, fmt.Sprintf("%020d", b.seq)
		q.dedup[dedupID] = dedupEntry{messageID: m.id, seq: m.seq, expires: now.Add(DeduplicationWindow)}
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
			if m.inFlight(now) {
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
		m.receiptHandle, m.receivedAt = uuid.NewString()+"#"+m.id, now
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
	m.receiptHandle, m.receivedAt = "", time.Time{}
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
		"SenderId":                         iam.LocalAccount,
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
	}
	if m.groupID != "" {
		a["MessageGroupId"] = m.groupID
	}
	if m.dedupID != "" {
		a["MessageDeduplicationId"] = m.dedupID
		a["SequenceNumber"] = m.seq
	}
	return a
}

// handleLocked finds the message a receipt handle was issued for. It answers a nil
// message when the message is gone (deleted, or moved to the dead-letter queue), and
// whether handle is the message's latest receive.
func handleLocked(q *queue, handle string) (int, *message, bool, error) {
	_, id, ok := strings.Cut(handle, "#")
	if !ok {
		return 0, nil, false, errInvalidHandle
	}
	for i, m := range q.messages {
		if m.id == id {
			return i, m, m.receiptHandle == handle, nil
		}
	}
	return 0, nil, false, nil
}

// ExpiredReceiptHandle is the reason an InvalidParameterValue error gives when a FIFO
// queue refuses a receipt handle whose visibility timeout has passed: the message is
// no longer the holder's, and comes back.
const ExpiredReceiptHandle = "The receipt handle has expired."

func expiredHandle(handle string) error {
	return invalidValue("ReceiptHandle", handle, ExpiredReceiptHandle)
}

// IsExpiredReceiptHandle reports whether an SQS error (its code and message, as a
// batch answer's failed entry carries them) refuses an expired receipt handle.
func IsExpiredReceiptHandle(code, message string) bool {
	return code == "InvalidParameterValue" && strings.HasSuffix(message, "Reason: "+ExpiredReceiptHandle)
}

// delete removes the message a receipt handle names. As SQS does, a FIFO queue refuses
// a handle whose visibility timeout has passed, and a standard queue accepts a handle
// of an earlier receive but leaves the message, which someone else now holds.
func (b *Broker) delete(q *queue, handle string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, m, latest, err := handleLocked(q, handle)
	if err != nil || m == nil {
		return err
	}
	if q.def.FIFO && (!latest || !m.inFlight(b.now())) {
		return expiredHandle(handle)
	}
	if !latest {
		return nil
	}
	q.messages = append(q.messages[:i], q.messages[i+1:]...)
	if m.groupID != "" {
		// The group may now deliver its next message.
		b.notifyLocked()
	}
	return nil
}

// changeVisibility sets how long the message a receipt handle names stays hidden,
// counted from now. As SQS does, it keeps the message in flight at most 12 hours after
// the receive that issued the handle (so a timeout of 0, letting it go, always passes).
func (b *Broker) changeVisibility(q *queue, handle string, timeout time.Duration) error {
	if timeout < 0 || timeout > maxVisibility*time.Second {
		return invalidValue("VisibilityTimeout", int(timeout/time.Second), fmt.Sprintf("Must be between 0 and %d, if provided.", maxVisibility))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	_, m, latest, err := handleLocked(q, handle)
	if err != nil {
		return err
	}
	now := b.now()
	if m != nil && q.def.FIFO && (!latest || !m.inFlight(now)) {
		return expiredHandle(handle)
	}
	if m == nil || !latest || !m.inFlight(now) {
		return errNotInFlight
	}
	if now.Add(timeout).After(m.receivedAt.Add(maxVisibility * time.Second)) {
		return invalidValue("VisibilityTimeout", int(timeout/time.Second), fmt.Sprintf("Total VisibilityTimeout for the message is beyond the limit [%d seconds]", maxVisibility))
	}
	m.visibleAt = now.Add(timeout)
	b.notifyLocked()
	return nil
}

// queueCounts are a queue's messages by state, as GetQueueAttributes reports them.
type queueCounts struct {
	visible, inFlight, delayed int
}

func (b *Broker) countsLocked(q *queue) queueCounts {
	now := b.now()
	var c queueCounts
	for _, m := range q.messages {
		switch {
		case !now.Before(m.visibleAt):
			c.visible++
		case m.receiptHandle != "":
			c.inFlight++
		default:
			c.delayed++
		}
	}
	return c
}

// Counts reports how many messages the queue holds: visible ones and in-flight or delayed ones.
func (b *Broker) Counts(name string) (visible, notVisible int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, ok := b.queues[name]
	if !ok {
		return 0, 0, fmt.Errorf("queue %s is not declared", name)
	}
	c := b.countsLocked(q)
	return c.visible, c.inFlight + c.delayed, nil
}

// queueAttributeNames are the attributes GetQueueAttributes knows.
var queueAttributeNames = map[string]bool{
	"All": true, "Policy": true, "VisibilityTimeout": true, "MaximumMessageSize": true, "MessageRetentionPeriod": true,
	"ApproximateNumberOfMessages": true, "ApproximateNumberOfMessagesNotVisible": true, "CreatedTimestamp": true,
	"LastModifiedTimestamp": true, "QueueArn": true, "ApproximateNumberOfMessagesDelayed": true, "DelaySeconds": true,
	"ReceiveMessageWaitTimeSeconds": true, "RedrivePolicy": true, "FifoQueue": true, "ContentBasedDeduplication": true,
	"KmsMasterKeyId": true, "KmsDataKeyReusePeriodSeconds": true, "DeduplicationScope": true, "FifoThroughputLimit": true,
	"RedriveAllowPolicy": true, "SqsManagedSseEnabled": true,
}

func (b *Broker) queueAttributes(q *queue) map[string]string {
	b.mu.Lock()
	c := b.countsLocked(q)
	b.mu.Unlock()
	a := map[string]string{
		"QueueArn":                              b.QueueARN(q.def.Name),
		"ApproximateNumberOfMessages":           strconv.Itoa(c.visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(c.inFlight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(c.delayed),
		"VisibilityTimeout":                     strconv.Itoa(q.def.VisibilityTimeoutSeconds),
		"MessageRetentionPeriod":                strconv.Itoa(q.def.RetentionSeconds),
		"DelaySeconds":                          "0",
		"ReceiveMessageWaitTimeSeconds":         "0",
		"MaximumMessageSize":                    strconv.Itoa(q.maxMessageSize()),
		"SqsManagedSseEnabled":                  "true",
	}
	if q.def.FIFO {
		a["FifoQueue"] = "true"
		a["ContentBasedDeduplication"] = strconv.FormatBool(q.def.ContentBasedDeduplication)
		a["DeduplicationScope"] = "queue"
		a["FifoThroughputLimit"] = "perQueue"
	}
	if q.def.DeadLetterQueue != "" {
		a["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, b.QueueARN(q.def.DeadLetterQueue), q.def.MaxReceiveCount)
	}
	return a
}
