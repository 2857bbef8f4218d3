package queues

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"unicode"

	"github.com/google/uuid"

	"github.com/personabackend/app/topology"
)

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

// publishInput is a message published to a topic.
type publishInput struct {
	Message         string
	Subject         string
	Attributes      map[string]Attribute
	GroupID         string
	DeduplicationID string
}

// checkPublish applies SNS's rules to a message for t, before anything is delivered.
func checkPublish(t *topic, in publishInput) error {
	if in.Message == "" {
		return snsInvalid("Empty message")
	}
	if len(in.Subject) > maxSubjectLength || !validSubject(in.Subject) {
		return snsInvalid("Subject")
	}
	if err := checkSNSAttributes(in.Attributes); err != nil {
		return err
	}
	if len(in.Message)+attributesSize(in.Attributes) > maxTopicMessageSize {
		return snsInvalid("Message too long")
	}
	for _, id := range [][2]string{{"MessageGroupId", in.GroupID}, {"MessageDeduplicationId", in.DeduplicationID}} {
		if id[1] == "" {
			continue
		}
		if reason := checkID(id[1]); reason != "" {
			return snsInvalid("%s Reason: %s", id[0], reason)
		}
	}
	if !t.def.FIFO {
		if in.DeduplicationID != "" {
			return snsInvalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
		}
		return nil
	}
	if in.GroupID == "" {
		return snsInvalid("The MessageGroupId parameter is required for FIFO topics")
	}
	if in.DeduplicationID == "" && !t.def.ContentBasedDeduplication {
		return snsInvalid("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	}
	return nil
}

// validSubject reports whether a subject is what SNS accepts: text without line
// breaks or control characters.
func validSubject(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// publish fans a message out to the topic's subscriptions whose filter it passes.
// As in SNS, a delivery that the queue refuses is dropped without failing the publish;
// the broker's log says so.
func (b *Broker) publish(topicARN string, in publishInput) (sendOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.topics[topicARN]
	if !ok {
		return sendOutput{}, errTopicNotFound
	}
	if err := checkPublish(t, in); err != nil {
		return sendOutput{}, err
	}
	now := b.now()
	out := sendOutput{MessageID: uuid.NewString()}
	if t.def.FIFO {
		if in.DeduplicationID == "" {
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
	}
	for _, s := range t.subs {
		if !s.filter.matches(in.Message, in.Attributes) {
			continue
		}
		q := b.queues[s.def.Queue]
		if err := b.deliverLocked(t, s, q, in, out); err != nil {
			b.logf("SNS topic %s dropped a message for queue %s, as AWS would: %v", t.def.Name, q.def.Name, err)
		}
	}
	return out, nil
}

// deliverLocked puts a published message on a subscribed queue: as it was published
// with raw delivery, otherwise wrapped in a notification. A FIFO queue gets the
// message's group and deduplication id; a standard queue only its group, which makes it
// a fair queue.
func (b *Broker) deliverLocked(t *topic, s subscription, q *queue, in publishInput, out sendOutput) error {
	msg := sendInput{Body: in.Message, GroupID: in.GroupID}
	if q.def.FIFO {
		msg.DeduplicationID = in.DeduplicationID
	}
	if s.def.RawMessageDelivery {
		if len(in.Attributes) > maxAttributes {
			return fmt.Errorf("raw delivery to a queue carries at most %d message attributes, the message has %d", maxAttributes, len(in.Attributes))
		}
		msg.Attributes = in.Attributes
	} else {
		msg.Body = notification(b.TopicARN(t.def.Name), s.arn, out, in, b.now())
	}
	_, err := b.sendLocked(q, msg)
	return err
}
