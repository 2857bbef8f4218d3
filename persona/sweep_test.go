package persona

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// sweepNow is when the tests' sweeps run.
var sweepNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

type testSweep struct {
	sweeper *Sweeper
	store   *Store
	tasks   *fakeTasks
}

func newTestSweep(t *testing.T) testSweep {
	t.Helper()
	store, _ := newTestStore(t)
	tasks := &fakeTasks{}
	log, _ := newLogger()
	sw, err := NewSweeper(store, tasks, log, testSettings)
	if err != nil {
		t.Fatal(err)
	}
	sw.Now = func() time.Time { return sweepNow }
	return testSweep{sweeper: sw, store: store, tasks: tasks}
}

// put stores a persona of user-a in status with its task in state, in flight since
// age before the sweep runs.
func (ts testSweep) put(t *testing.T, id string, status Status, state TaskState, age time.Duration) Persona {
	t.Helper()
	p := samplePersona(id, "user-a", status, sweepNow.Add(-age))
	p.TaskState = state
	if err := ts.store.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

func (ts testSweep) run(t *testing.T) SweepResult {
	t.Helper()
	res, err := ts.sweeper.Handle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (ts testSweep) get(t *testing.T, id string) Persona {
	t.Helper()
	p, err := ts.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTheSweepQueuesAgainAStuckPersonaWhoseTaskNeverReachedTheTopic(t *testing.T) {
	for _, state := range []TaskState{TaskPublishFailed, TaskPending} {
		t.Run(string(state), func(t *testing.T) {
			ts := newTestSweep(t)
			ts.put(t, "p1", StatusRequested, state, 20*time.Minute)
			res := ts.run(t)
			if res.Stuck != 1 || res.Requeued != 1 || res.Errors != 0 {
				t.Fatalf("result %+v, want one persona requeued", res)
			}
			if len(ts.tasks.published) != 1 || ts.tasks.published[0].PersonaID != "p1" || ts.tasks.published[0].UserID != "user-a" {
				t.Fatalf("published %+v, want p1's task", ts.tasks.published)
			}
			got := ts.get(t, "p1")
			if got.Status != StatusRequested || got.TaskState != TaskPublished || got.InFlightSince != FormatTime(sweepNow) || got.Requeues != 1 {
				t.Fatalf("after the sweep: %s, task %s, in flight since %s, requeues %d", got.Status, got.TaskState, got.InFlightSince, got.Requeues)
			}
			// In flight afresh, it is not stuck for the next run.
			if again := ts.run(t); again.Stuck != 0 || len(ts.tasks.published) != 1 {
				t.Fatalf("the next run found %+v and published %d tasks", again, len(ts.tasks.published))
			}
		})
	}
}

func TestTheSweepFailsAStuckPersonaWhoseTaskTheQueueHad(t *testing.T) {
	for _, status := range []Status{StatusRequested, StatusProvisioning} {
		t.Run(string(status), func(t *testing.T) {
			ts := newTestSweep(t)
			ts.put(t, "p1", status, TaskPublished, 20*time.Minute)
			res := ts.run(t)
			if res.Stuck != 1 || res.Failed != 1 {
				t.Fatalf("result %+v, want one persona failed", res)
			}
			got := ts.get(t, "p1")
			if got.Status != StatusFailed || !strings.Contains(got.StatusReason, "did not finish within 15 minutes; request the persona again") || got.InFlightSince != "" {
				t.Fatalf("after the sweep: %s (%q), in flight since %q", got.Status, got.StatusReason, got.InFlightSince)
			}
			if len(ts.tasks.published) != 0 {
				t.Errorf("published %+v for a persona whose task the queue had", ts.tasks.published)
			}
		})
	}
}

func TestTheSweepFailsAPersonaWhoseTaskCouldNotBeQueuedAfterItsRequeues(t *testing.T) {
	ts := newTestSweep(t)
	p := samplePersona("p1", "user-a", StatusRequested, sweepNow.Add(-time.Hour))
	p.TaskState, p.Requeues = TaskPublishFailed, MaxRequeues
	if err := ts.store.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if res := ts.run(t); res.Failed != 1 {
		t.Fatalf("result %+v, want the persona failed", res)
	}
	if got := ts.get(t, "p1"); got.Status != StatusFailed || !strings.Contains(got.StatusReason, "could not be queued in 4 attempts") {
		t.Fatalf("after the sweep: %s (%q)", got.Status, got.StatusReason)
	}
}

func TestARequeueWhosePublishFailsIsTriedAgainByALaterSweep(t *testing.T) {
	ts := newTestSweep(t)
	ts.put(t, "p1", StatusRequested, TaskPublishFailed, 20*time.Minute)
	ts.tasks.err = errors.New("topic unreachable")
	if res := ts.run(t); res.Errors != 1 || res.Requeued != 0 {
		t.Fatalf("result %+v, want one error", res)
	}
	got := ts.get(t, "p1")
	if got.Status != StatusRequested || got.TaskState != TaskPublishFailed || got.Requeues != 1 || got.InFlightSince != FormatTime(sweepNow) {
		t.Fatalf("after a failed requeue: %s, task %s, requeues %d, since %s", got.Status, got.TaskState, got.Requeues, got.InFlightSince)
	}
	ts.tasks.err = nil
	ts.sweeper.Now = func() time.Time { return sweepNow.Add(testSettings.StuckAfter() + time.Minute) }
	if res := ts.run(t); res.Requeued != 1 || len(ts.tasks.published) != 1 {
		t.Fatalf("the later run: %+v, published %d", res, len(ts.tasks.published))
	}
}

func TestTheSweepLeavesPersonasInFlightForLessThanStuckAfter(t *testing.T) {
	ts := newTestSweep(t)
	ts.put(t, "fresh", StatusRequested, TaskPublishFailed, 5*time.Minute)
	ts.put(t, "working", StatusProvisioning, TaskPublished, 14*time.Minute)
	res := ts.run(t)
	if res.Read != 2 || res.Stuck != 0 || len(ts.tasks.published) != 0 {
		t.Fatalf("result %+v, published %d; want both read and left alone", res, len(ts.tasks.published))
	}
	if got := ts.get(t, "working"); got.Status != StatusProvisioning {
		t.Fatalf("a persona within its time is %s", got.Status)
	}
}

func TestTheSweepReadsOnlyThePersonasInFlight(t *testing.T) {
	ts := newTestSweep(t)
	for i := range 40 {
		status := StatusReady
		if i%2 == 1 {
			status = StatusFailed
		}
		ts.put(t, fmt.Sprintf("done%d", i), status, TaskPublished, 30*24*time.Hour)
	}
	ts.put(t, "stuck", StatusProvisioning, TaskPublished, time.Hour)
	ts.put(t, "fresh", StatusRequested, TaskPublished, time.Minute)
	res := ts.run(t)
	if res.Read != 2 || res.Stuck != 1 || res.Failed != 1 {
		t.Fatalf("result %+v, want the 2 personas in flight read of 42, and the stuck one failed", res)
	}
}

// laggingIndex answers the sweep's scan with what StatusIndex held a moment ago, as an
// eventually consistent index may: the persona in flight since then.
type laggingIndex struct {
	*Store
	ref InFlightRef
}

func (l laggingIndex) ScanInFlight(context.Context, time.Time, map[string]types.AttributeValue) (InFlightPage, error) {
	return InFlightPage{Stuck: []InFlightRef{l.ref}, Read: 1}, nil
}

func TestTheSweepLeavesAPersonaThatMovedOnSinceTheIndexSawIt(t *testing.T) {
	old := InFlightRef{UserID: "user-a", InFlightSince: FormatTime(sweepNow.Add(-time.Hour))}
	for _, tc := range []struct {
		name   string
		status Status // "" stores nothing
	}{
		{"a persona that is ready by now", StatusReady},
		{"a persona queued again since", StatusRequested},
		{"a persona that is no more", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestSweep(t)
			if tc.status != "" {
				ts.put(t, "p1", tc.status, TaskPublishFailed, time.Minute)
			}
			ref := old
			ref.ID = "p1"
			ts.sweeper.Store = laggingIndex{Store: ts.store, ref: ref}
			if res := ts.run(t); res.MovedOn != 1 || res.Requeued+res.Failed+res.Errors != 0 || len(ts.tasks.published) != 0 {
				t.Errorf("result %+v, published %d; want it left as it is", res, len(ts.tasks.published))
			}
		})
	}
}

func TestTheSweepStopsBeforeItsDeadlineAndLeavesTheRestToTheNextRun(t *testing.T) {
	ts := newTestSweep(t)
	ts.put(t, "p1", StatusProvisioning, TaskPublished, time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), sweepNow.Add(DeadlineMargin/2))
	defer cancel()
	res, err := ts.sweeper.Handle(ctx)
	if err != nil || !res.Unfinished || res.Stuck != 0 {
		t.Fatalf("Handle = %+v, %v; want an unfinished run that touched nothing", res, err)
	}
	if got := ts.get(t, "p1"); got.Status != StatusProvisioning {
		t.Fatalf("the persona is %s", got.Status)
	}
}

func TestASweepThatCannotReadTheIndexFails(t *testing.T) {
	ts := newTestSweep(t)
	_, db := newTestStore(t)
	ts.sweeper.Store = NewStore(db, "no-such-table")
	if _, err := ts.sweeper.Handle(context.Background()); err == nil || !strings.Contains(err.Error(), "reading the personas in flight") {
		t.Fatalf("Handle = %v", err)
	}
}

func TestASweepWithoutAThresholdIsRefused(t *testing.T) {
	settings := testSettings
	settings.StuckAfterSeconds = 0
	log, _ := newLogger()
	if _, err := NewSweeper(nil, nil, log, settings); err == nil || !strings.Contains(err.Error(), "no stuckAfterSeconds") {
		t.Fatalf("NewSweeper = %v", err)
	}
}
