package persona

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// sweepStore is what the sweep needs from the store.
type sweepStore interface {
	ScanInFlight(ctx context.Context, cutoff time.Time, start map[string]types.AttributeValue) (InFlightPage, error)
	Get(ctx context.Context, id string) (Persona, error)
	Requeue(ctx context.Context, id, since string, now time.Time) error
	SetTaskState(ctx context.Context, id string, state TaskState, taskErr string, now time.Time) error
	Transition(ctx context.Context, id string, t Transition) error
}

// MaxRequeues is how many times the sweep publishes the task of a persona whose task
// never reached the topic before it fails the persona instead.
const MaxRequeues = 3

// Sweeper moves on the personas stuck in flight, so that every persona ends ready or
// failed. A scheduled function runs it every few minutes.
//
// A persona is stuck when it has been in flight (requested or provisioning) for longer
// than Settings.StuckAfter, which outlasts every delivery the queue makes of its task.
// Then either its task never reached the topic (the request's publish failed, or its
// process ended between the write and the publish: the persona is requested and its
// task state is not published), and the sweep publishes it again, up to MaxRequeues
// times; or the queue had the task and gave up on it: the message went to the
// dead-letter queue, or the worker's invocation timed out or crashed on its last
// delivery, before it could mark the persona failed. Then the sweep fails the persona.
//
// The sweep, not a function on the dead-letter queue, fails those: a consumer of the
// dead-letter queue would delete its messages, which must stay there to be looked at
// and redriven (`go run . dlq`), and a message reaching the dead-letter queue is not
// the only way a persona is left in flight. The persona's own state is what the sweep
// reads, and that covers them all; the cost is that a persona fails up to StuckAfter
// plus one sweep interval after its task did, instead of at once.
type Sweeper struct {
	Store    sweepStore
	Tasks    taskPublisher
	Log      *slog.Logger
	Now      func() time.Time
	Settings Settings
	// StopBefore is how long before the invocation's deadline the sweep stops; the
	// next run carries on.
	StopBefore time.Duration
}

// NewSweeper returns a Sweeper over store and tasks with the stage's settings, which
// must say when a persona is stuck.
func NewSweeper(store sweepStore, tasks taskPublisher, log *slog.Logger, settings Settings) (*Sweeper, error) {
	if settings.StuckAfterSeconds == 0 {
		return nil, fmt.Errorf("%s gives the sweep no stuckAfterSeconds: the stack sets it from the persona queue's retries (backend.Define); deploy again with `go run . deploy --stage STAGE`", SettingsEnv)
	}
	return &Sweeper{Store: store, Tasks: tasks, Log: log, Now: time.Now, Settings: settings, StopBefore: DeadlineMargin}, nil
}

// SweepResult says what a run of the sweep did; the function returns it and logs it.
type SweepResult struct {
	// Read counts the index entries read, and ReadCapacity the read capacity units
	// that cost: the price of a run with nothing stuck.
	Read         int     `json:"read"`
	ReadCapacity float64 `json:"readCapacity"`
	// Stuck counts the personas found in flight for longer than StuckAfter; each was
	// requeued, failed, found moved on meanwhile, or could not be handled this run.
	Stuck    int `json:"stuck"`
	Requeued int `json:"requeued"`
	Failed   int `json:"failed"`
	MovedOn  int `json:"movedOn"`
	Errors   int `json:"errors"`
	// Unfinished is set when the run stopped before its deadline; the next run goes on.
	Unfinished bool `json:"unfinished,omitempty"`
}

// Handle runs the sweep once. It fails only when the index cannot be read; a persona
// that cannot be handled is logged, counted, and tried again by the next run.
func (s *Sweeper) Handle(ctx context.Context) (SweepResult, error) {
	log := s.Log.With("requestId", requestID(ctx))
	var res SweepResult
	deadline, bounded := ctx.Deadline()
	near := func() bool { return bounded && s.Now().Add(s.StopBefore).After(deadline) }
	cutoff := s.Now().Add(-s.Settings.StuckAfter())
	var start map[string]types.AttributeValue
	for {
		if near() {
			res.Unfinished = true
			break
		}
		page, err := s.Store.ScanInFlight(ctx, cutoff, start)
		if err != nil {
			log.ErrorContext(ctx, "sweep could not read the personas in flight", "error", err.Error())
			return res, err
		}
		res.Read += page.Read
		res.ReadCapacity += page.Capacity
		for _, ref := range page.Stuck {
			if near() {
				res.Unfinished = true
				break
			}
			res.Stuck++
			plog := log.With("personaId", ref.ID, "inFlightSince", ref.InFlightSince)
			switch done, err := s.unstick(ctx, plog, ref); {
			case err != nil:
				res.Errors++
				plog.ErrorContext(ctx, "stuck persona not moved on; the next sweep tries again", "error", err.Error())
			case done == requeued:
				res.Requeued++
			case done == failed:
				res.Failed++
			default:
				res.MovedOn++
			}
		}
		if page.Next == nil || res.Unfinished {
			break
		}
		start = page.Next
	}
	log.InfoContext(ctx, "sweep done", "read", res.Read, "readCapacity", res.ReadCapacity, "stuck", res.Stuck,
		"requeued", res.Requeued, "failed", res.Failed, "movedOn", res.MovedOn, "errors", res.Errors, "unfinished", res.Unfinished)
	return res, nil
}

type outcome int

const (
	movedOn outcome = iota
	requeued
	failed
)

// unstick reads the persona the index named (the index lags the table) and, if it is
// still as the index saw it, queues its task again or fails it.
func (s *Sweeper) unstick(ctx context.Context, log *slog.Logger, ref InFlightRef) (outcome, error) {
	p, err := s.Store.Get(ctx, ref.ID)
	if errors.Is(err, ErrNotFound) {
		return movedOn, nil
	}
	if err != nil {
		return movedOn, err
	}
	if !p.Status.InFlight() || p.InFlightSince != ref.InFlightSince {
		return movedOn, nil
	}
	if p.Status == StatusRequested && p.TaskState != TaskPublished {
		if p.Requeues < MaxRequeues {
			return s.requeue(ctx, log, p)
		}
		return s.fail(ctx, log, p, fmt.Sprintf("its provisioning could not be queued in %d attempts; request the persona again", MaxRequeues+1))
	}
	log.WarnContext(ctx, "the queue gave up on this persona's task; it is in the dead-letter queue unless its last delivery timed out (`go run . dlq` lists them)")
	return s.fail(ctx, log, p, fmt.Sprintf("provisioning did not finish within %d minutes; request the persona again", int(s.Settings.StuckAfter().Minutes())))
}

func (s *Sweeper) requeue(ctx context.Context, log *slog.Logger, p Persona) (outcome, error) {
	now := s.Now()
	err := s.Store.Requeue(ctx, p.ID, p.InFlightSince, now)
	if errors.Is(err, ErrStatusChanged) {
		return movedOn, nil
	}
	if err != nil {
		return movedOn, err
	}
	if err := s.Tasks.Publish(ctx, Task{Type: TaskTypeProvision, PersonaID: p.ID, UserID: p.UserID, RequestedAt: p.CreatedAt}); err != nil {
		// In flight from now, the persona is found stuck again after StuckAfter.
		if recErr := s.Store.SetTaskState(ctx, p.ID, TaskPublishFailed, err.Error(), s.Now()); recErr != nil {
			err = errors.Join(err, recErr)
		}
		return movedOn, fmt.Errorf("queueing the task of persona %s again: %w", p.ID, err)
	}
	if err := s.Store.SetTaskState(ctx, p.ID, TaskPublished, "", s.Now()); err != nil {
		// The task is queued, and the worker does not read the task state.
		log.WarnContext(ctx, "recording the publish", "error", err.Error())
	}
	log.InfoContext(ctx, "stuck persona's task queued again", "requeues", p.Requeues+1, "taskState", p.TaskState)
	return requeued, nil
}

func (s *Sweeper) fail(ctx context.Context, log *slog.Logger, p Persona, reason string) (outcome, error) {
	err := s.Store.Transition(ctx, p.ID, Transition{From: p.Status, To: StatusFailed, Reason: reason, Now: s.Now(), InFlightSince: p.InFlightSince})
	if errors.Is(err, ErrStatusChanged) || errors.Is(err, ErrNotFound) {
		return movedOn, nil
	}
	if err != nil {
		return movedOn, err
	}
	log.InfoContext(ctx, "stuck persona failed", "from", p.Status, "reason", reason)
	return failed, nil
}
