package queues

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
)

// apiCode is the error code the SDK reports for err, or "" for none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestAFIFOReceiptHandlePastItsVisibilityTimeoutNoLongerControlsTheMessage(t *testing.T) {
	tests := []struct {
		name string
		act  func(e *env, handle *string) error
	}{
		{"a delete is refused", func(e *env, handle *string) error {
			_, err := e.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(e.broker.QueueURL(personaQueue)), ReceiptHandle: handle})
			return err
		}},
		{"a visibility change is refused", func(e *env, handle *string) error {
			_, err := e.sqs.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(e.broker.QueueURL(personaQueue)), ReceiptHandle: handle, VisibilityTimeout: 60})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, personaStack())
			e.send(t, personaQueue, "slow work", "A", "1")
			got := e.receive(t, personaQueue, 1)
			e.clock.Advance(31 * time.Second)
			err := tt.act(e, got[0].ReceiptHandle)
			if apiCode(err) != "InvalidParameterValue" || !strings.Contains(err.Error(), "The receipt handle has expired") {
				t.Fatalf("got %v, want InvalidParameterValue saying the receipt handle has expired", err)
			}
			again := e.receive(t, personaQueue, 1)
			if len(again) != 1 || again[0].Attributes["ApproximateReceiveCount"] != "2" {
				t.Fatalf("the message was not delivered again: %v", bodies(again))
			}
			// The new receive's handle does control it.
			e.delete(t, personaQueue, again[0])
			if v, nv, _ := e.broker.Counts(personaQueue); v+nv != 0 {
				t.Errorf("queue still holds %d messages", v+nv)
			}
		})
	}
}

func TestAFIFOReceiptHandleOfAnEarlierReceiveIsRefusedEvenWhileTheMessageIsInFlight(t *testing.T) {
	e := start(t, personaStack())
	e.send(t, personaQueue, "m", "A", "1")
	first := e.receive(t, personaQueue, 1)
	e.clock.Advance(31 * time.Second)
	if second := e.receive(t, personaQueue, 1); len(second) != 1 {
		t.Fatal("the message was not delivered again")
	}
	_, err := e.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(e.broker.QueueURL(personaQueue)), ReceiptHandle: first[0].ReceiptHandle})
	if apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("got %v, want the old receipt handle refused", err)
	}
	if _, nv, _ := e.broker.Counts(personaQueue); nv != 1 {
		t.Errorf("the message in flight was deleted with an old receipt handle")
	}
}

func TestAStandardQueueTakesAnExpiredReceiptHandleButNotOneReplacedByALaterReceive(t *testing.T) {
	e := start(t, personaStack())
	e.send(t, "plain", "expired", "", "")
	got := e.receive(t, "plain", 1)
	e.clock.Advance(31 * time.Second)
	e.delete(t, "plain", got[0])
	if v, nv, _ := e.broker.Counts("plain"); v+nv != 0 {
		t.Fatalf("an expired receipt handle of the latest receive did not delete the message")
	}

	e.send(t, "plain", "received twice", "", "")
	first := e.receive(t, "plain", 1)
	e.clock.Advance(31 * time.Second)
	if second := e.receive(t, "plain", 1); len(second) != 1 {
		t.Fatal("the message was not delivered again")
	}
	e.delete(t, "plain", first[0])
	if _, nv, _ := e.broker.Counts("plain"); nv != 1 {
		t.Error("the receipt handle of an earlier receive deleted the message someone else now holds")
	}
}

func TestAMessageStaysInFlightAtMostTwelveHoursAfterTheReceiveThatIssuedItsHandle(t *testing.T) {
	tests := []struct {
		name string
		// receivedAgainAfter, when not zero, is how long after the first receive the
		// message is received again; the visibility change uses that receive's handle.
		receivedAgainAfter time.Duration
		changeAfter        time.Duration // after the handle's receive
		timeout            int32
		refused            bool
	}{
		{"up to twelve hours after the receive is allowed", 0, 20 * time.Second, 43180, false},
		{"beyond twelve hours after the receive is refused", 0, 20 * time.Second, 43181, true},
		{"the twelve hours start again with a later receive", 31 * time.Second, 20 * time.Second, 43180, false},
		{"letting go at once is allowed long after the first receive", 13 * time.Hour, 20 * time.Second, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, personaStack())
			e.send(t, "plain", "m", "", "")
			got := e.receive(t, "plain", 1)
			if tt.receivedAgainAfter > 0 {
				e.clock.Advance(tt.receivedAgainAfter)
				if got = e.receive(t, "plain", 1); len(got) != 1 {
					t.Fatal("the message was not delivered again")
				}
			}
			e.clock.Advance(tt.changeAfter)
			_, err := e.sqs.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(e.broker.QueueURL("plain")), ReceiptHandle: got[0].ReceiptHandle, VisibilityTimeout: tt.timeout,
			})
			switch {
			case tt.refused && (apiCode(err) != "InvalidParameterValue" || !strings.Contains(err.Error(), "43200")):
				t.Fatalf("got %v, want InvalidParameterValue naming the 43200 seconds limit", err)
			case !tt.refused && err != nil:
				t.Fatalf("visibility %d s: %v", tt.timeout, err)
			}
		})
	}
}
