package persona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// workerStore is what the worker needs from the store.
type workerStore interface {
	Get(ctx context.Context, id string) (Persona, error)
	Transition(ctx context.Context, id string, t Transition) error
}

// provisioner builds a persona's agent profile.
type provisioner interface {
	Provision(ctx context.Context, p Persona) (Profile, error)
}

// Worker provisions personas from the persona queue.
type Worker struct {
	Store       workerStore
	Provisioner provisioner
	Log         *slog.Logger
	Now         func() time.Time
	// MaxReceives is how many times the queue delivers a message before it moves it to
	// the dead-letter queue: on the last delivery a persona whose task keeps failing is
	// marked failed, so it is not left requested or provisioning.
	MaxReceives int
	// StopBefore is how long before the invocation's deadline the worker takes no more
	// messages of a batch (DeadlineMargin).
	StopBefore time.Duration
}

// DeadlineMargin is how long before its deadline the worker stops taking messages of
// a batch and reports the rest as failures, for the queue to deliver again: a message
// begun later might not finish, and an invocation that times out has every message
// of its batch delivered again, the finished ones too, and counted as a receive.
const DeadlineMargin = 2 * time.Second

// answerReserve is the time kept at the end of an invocation to answer Lambda: a
// message still running then has its calls cancelled and is reported as failed.
const answerReserve = 250 * time.Millisecond

// NewWorker returns a Worker for the persona queue, which delivers a message at most
// maxReceives times: the maxReceiveCount of its QueueLink, from the queue's redrive policy.
func NewWorker(store workerStore, prov provisioner, log *slog.Logger, maxReceives int) (*Worker, error) {
	if maxReceives < 1 {
		return nil, fmt.Errorf("the %s link gives maxReceiveCount %d, want at least 1: the worker needs the queue's receive limit "+
			"to mark a persona failed on a message's last delivery; link the worker to a queue with a dead-letter queue "+
			"(constructs' SubscribeQueue declares one) and deploy again with `go run . deploy --stage STAGE`", QueueLink, maxReceives)
	}
	return &Worker{Store: store, Provisioner: prov, Log: log, Now: time.Now, MaxReceives: maxReceives, StopBefore: DeadlineMargin}, nil
}

// errMalformed marks a message that is not a provisioning task.
var errMalformed = errors.New("malformed task message")

// Handle processes an SQS batch and reports the messages that failed, so that only
// they are received again. Each message is processed on its own, even after an earlier
// message of its group failed: every task names a different persona, so their order does
// not matter, and holding a message back would raise its receive count in step with the
// failing one until both reach the dead-letter queue, the held-back one never processed.
//
// Near the invocation's deadline (StopBefore) it takes no more messages and reports
// those left as failures, and a message still running when only answerReserve is left
// has its calls cancelled: Lambda gets its answer, and only the messages not done are
// delivered again.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	log := w.Log.With("requestId", requestID(ctx))
	var resp events.SQSEventResponse
	fail := func(msg events.SQSMessage) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
	}
	deadline, bounded := ctx.Deadline()
	mctx := ctx
	if bounded {
		var cancel context.CancelFunc
		mctx, cancel = context.WithDeadline(ctx, deadline.Add(-answerReserve))
		defer cancel()
	}
	for i, msg := range ev.Records {
		if bounded && w.Now().Add(w.StopBefore).After(deadline) {
			left := ev.Records[i:]
			for _, m := range left {
				fail(m)
			}
			log.WarnContext(ctx, "the invocation's deadline is near: the batch's other messages are left for the queue to deliver again",
				"left", len(left), "deadline", FormatTime(deadline))
			break
		}
		mlog := log.With("messageId", msg.MessageId, "receiveCount", msg.Attributes["ApproximateReceiveCount"])
		if err := w.process(mctx, mlog, msg); err != nil {
			mlog.ErrorContext(ctx, "message failed", "error", err.Error())
			fail(msg)
		}
	}
	log.InfoContext(ctx, "batch processed", "messages", len(ev.Records), "failed", len(resp.BatchItemFailures))
	return resp, nil
}

func (w *Worker) process(ctx context.Context, log *slog.Logger, msg events.SQSMessage) error {
	task, err := decodeTask(msg.Body)
	if err != nil {
		return err
	}
	log = log.With("personaId", task.PersonaID)
	receives := receiveCount(msg)
	err = w.advance(ctx, log, task)
	if err == nil || errors.Is(err, errMalformed) || receives < w.MaxReceives {
		return err
	}
	log.ErrorContext(ctx, "giving up on the persona: this was the queue's last delivery", "error", err.Error())
	if failErr := w.giveUp(ctx, log, task, receives); failErr != nil {
		return errors.Join(err, failErr)
	}
	return err
}

// advance moves the task's persona on until it is ready or failed.
func (w *Worker) advance(ctx context.Context, log *slog.Logger, task Task) error {
	p, err := w.Store.Get(ctx, task.PersonaID)
	if err != nil {
		return err
	}
	if p.UserID != task.UserID {
		return fmt.Errorf("%w: persona %s does not belong to the task's user", errMalformed, task.PersonaID)
	}
	// Each step is a conditional move; when another delivery moved the persona
	// meanwhile, read it again and continue from where it is now.
	for range 4 {
		err := w.step(ctx, log, &p)
		if !errors.Is(err, ErrStatusChanged) {
			return err
		}
		if p, err = w.Store.Get(ctx, task.PersonaID); err != nil {
			return err
		}
	}
	return fmt.Errorf("persona %s keeps changing status under this worker", p.ID)
}

// giveUp marks the task's persona failed after the queue's last delivery failed, so that
// it is not left requested or provisioning once the message goes to the dead-letter
// queue. It is best effort: it reads the persona again, and when that read or the update
// fails too, the persona stays where it is.
func (w *Worker) giveUp(ctx context.Context, log *slog.Logger, task Task, receives int) error {
	p, err := w.Store.Get(ctx, task.PersonaID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("marking persona %s failed: %w", task.PersonaID, err)
	}
	if p.UserID != task.UserID || (p.Status != StatusRequested && p.Status != StatusProvisioning) {
		return nil
	}
	err = w.fail(ctx, log, &p, fmt.Sprintf("provisioning did not succeed after %d attempts", receives))
	if err != nil && !errors.Is(err, ErrStatusChanged) {
		return fmt.Errorf("marking persona %s failed: %w", task.PersonaID, err)
	}
	return nil
}

// step advances p by one status and returns nil once p is ready or failed.
func (w *Worker) step(ctx context.Context, log *slog.Logger, p *Persona) error {
	switch p.Status {
	case StatusReady, StatusFailed:
		log.InfoContext(ctx, "persona already provisioned; nothing to do", "status", p.Status)
		return nil
	case StatusRequested:
		if err := w.Store.Transition(ctx, p.ID, Transition{From: StatusRequested, To: StatusProvisioning, Now: w.Now()}); err != nil {
			return err
		}
		log.InfoContext(ctx, "persona provisioning")
		p.Status = StatusProvisioning
		return w.step(ctx, log, p)
	case StatusProvisioning:
		return w.provision(ctx, log, p)
	}
	return fmt.Errorf("persona %s has unknown status %q", p.ID, p.Status)
}

func (w *Worker) provision(ctx context.Context, log *slog.Logger, p *Persona) error {
	profile, err := w.Provisioner.Provision(ctx, *p)
	if errors.Is(err, ErrInvalidPersona) {
		log.WarnContext(ctx, "persona cannot be provisioned", "error", err.Error())
		return w.fail(ctx, log, p, err.Error())
	}
	if err != nil {
		return err
	}
	if err := w.Store.Transition(ctx, p.ID, Transition{From: StatusProvisioning, To: StatusReady, Profile: &profile, Now: w.Now()}); err != nil {
		return err
	}
	log.InfoContext(ctx, "persona ready")
	return nil
}

// fail moves p from its current status to failed.
func (w *Worker) fail(ctx context.Context, log *slog.Logger, p *Persona, reason string) error {
	if err := w.Store.Transition(ctx, p.ID, Transition{From: p.Status, To: StatusFailed, Reason: reason, Now: w.Now()}); err != nil {
		return err
	}
	log.InfoContext(ctx, "persona failed", "reason", reason)
	return nil
}

func decodeTask(body string) (Task, error) {
	var t Task
	if err := json.Unmarshal([]byte(body), &t); err != nil {
		return Task{}, fmt.Errorf("%w: not JSON", errMalformed)
	}
	if t.Type != TaskTypeProvision || t.PersonaID == "" || t.UserID == "" {
		return Task{}, fmt.Errorf("%w: want type %q with personaId and userId", errMalformed, TaskTypeProvision)
	}
	return t, nil
}

// receiveCount is how many times the queue has delivered msg, counting this one.
func receiveCount(msg events.SQSMessage) int {
	n, err := strconv.Atoi(msg.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 1
	}
	return n
}
