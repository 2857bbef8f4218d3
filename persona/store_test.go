package persona

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestCreateStoresAPersonaThatGetReadsBack(t *testing.T) {
	ctx := context.Background()
	store, _ := newTestStore(t)
	temp := 0.2
	want := samplePersona("p1", "user-a", StatusRequested, time.Now())
	want.Temperature = &temp
	want.Tools = []string{"search", "calendar"}
	if err := store.Create(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != want.Name || got.UserID != "user-a" || got.Status != StatusRequested ||
		*got.Temperature != 0.2 || len(got.Tools) != 2 || got.Tools[1] != "calendar" || got.CreatedAt != want.CreatedAt {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
}

func TestCreateRefusesAPersonaWhoseIDExists(t *testing.T) {
	ctx := context.Background()
	store, _ := newTestStore(t)
	if err := store.Create(ctx, samplePersona("p1", "user-a", StatusRequested, time.Now())); err != nil {
		t.Fatal(err)
	}
	other := samplePersona("p1", "user-b", StatusRequested, time.Now())
	if err := store.Create(ctx, other); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: err = %v, want ErrExists", err)
	}
	got, _ := store.Get(ctx, "p1")
	if got.UserID != "user-a" {
		t.Fatalf("the second create overwrote the first: owner is %s", got.UserID)
	}
}

func TestAPersonaWithAnEmptyKeyAttributeOrNoStatusIsRefusedBeforeItIsWritten(t *testing.T) {
	ctx := context.Background()
	store, db := newTestStore(t)
	tests := []struct {
		name    string
		edit    func(p *Persona)
		wantErr error
		field   string
	}{
		{"an empty id", func(p *Persona) { p.ID = "" }, ErrEmptyKey, "personaId"},
		{"an empty owner", func(p *Persona) { p.UserID = "" }, ErrEmptyKey, "userId"},
		{"an empty creation time", func(p *Persona) { p.CreatedAt = "" }, ErrEmptyKey, "createdAt"},
		{"an empty status", func(p *Persona) { p.Status = "" }, ErrInvalidStatus, "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := samplePersona("p-"+tt.field, "user-a", StatusRequested, time.Now())
			tt.edit(&p)
			err := store.Create(ctx, p)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("got %v, want %v naming %s", err, tt.wantErr, tt.field)
			}
		})
	}
	if out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(store.table)}); err != nil || out.Count != 0 {
		t.Errorf("the table holds %d items after refused creates (%v)", out.Count, err)
	}
	if err := store.Transition(ctx, "p1", Transition{From: StatusRequested, Now: time.Now()}); !errors.Is(err, ErrInvalidStatus) {
		t.Errorf("a transition to an empty status: got %v, want ErrInvalidStatus", err)
	}
}

func TestGetOfAnUnknownPersonaIsNotFound(t *testing.T) {
	store, _ := newTestStore(t)
	if _, err := store.Get(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestTransition(t *testing.T) {
	profile := &Profile{Version: 1, PersonaID: "p1", SystemPrompt: "You are Guide.", Model: "default", Tools: []string{}}
	tests := []struct {
		name       string
		stored     Status
		move       Transition
		wantErr    error
		wantStatus Status
		wantReason string
	}{
		{"moves a persona whose status is the expected one", StatusRequested,
			Transition{From: StatusRequested, To: StatusProvisioning}, nil, StatusProvisioning, ""},
		{"refuses when another delivery moved the persona first", StatusReady,
			Transition{From: StatusRequested, To: StatusProvisioning}, ErrStatusChanged, StatusReady, ""},
		{"stores the reason of a failure", StatusProvisioning,
			Transition{From: StatusProvisioning, To: StatusFailed, Reason: "bad tools"}, nil, StatusFailed, "bad tools"},
		{"stores the profile of a ready persona", StatusProvisioning,
			Transition{From: StatusProvisioning, To: StatusReady, Profile: profile}, nil, StatusReady, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store, _ := newTestStore(t)
			if err := store.Create(ctx, samplePersona("p1", "user-a", tt.stored, time.Now())); err != nil {
				t.Fatal(err)
			}
			tt.move.Now = time.Now()
			if err := store.Transition(ctx, "p1", tt.move); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			got, err := store.Get(ctx, "p1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantStatus || got.StatusReason != tt.wantReason {
				t.Fatalf("status %s (%q), want %s (%q)", got.Status, got.StatusReason, tt.wantStatus, tt.wantReason)
			}
			if tt.move.Profile != nil && (got.Profile == nil || got.Profile.SystemPrompt != profile.SystemPrompt) {
				t.Fatalf("profile %+v, want %+v", got.Profile, profile)
			}
		})
	}
}

func TestTransitionOfAnUnknownPersonaIsNotFound(t *testing.T) {
	store, _ := newTestStore(t)
	err := store.Transition(context.Background(), "nope", Transition{From: StatusRequested, To: StatusProvisioning, Now: time.Now()})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestSetTaskStateRecordsAFailedPublishAndClearsItOnSuccess(t *testing.T) {
	ctx := context.Background()
	store, _ := newTestStore(t)
	p := samplePersona("p1", "user-a", StatusRequested, time.Now())
	p.TaskState = TaskPending
	if err := store.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := store.SetTaskState(ctx, "p1", TaskPublishFailed, "topic unreachable", time.Now()); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Get(ctx, "p1")
	if got.TaskState != TaskPublishFailed || got.TaskError != "topic unreachable" {
		t.Fatalf("task state %s (%q), want publish_failed (topic unreachable)", got.TaskState, got.TaskError)
	}
	if err := store.SetTaskState(ctx, "p1", TaskPublished, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	got, _ = store.Get(ctx, "p1")
	if got.TaskState != TaskPublished || got.TaskError != "" {
		t.Fatalf("task state %s (%q), want published with no error", got.TaskState, got.TaskError)
	}
	if err := store.SetTaskState(ctx, "nope", TaskPublished, "", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown persona: err = %v, want ErrNotFound", err)
	}
}

// seed stores n personas of user, one millisecond apart, with statuses taken in turn
// from statuses; it returns their ids oldest first.
func seed(t testing.TB, store *Store, user string, n int, statuses ...Status) []string {
	t.Helper()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%03d", user, i)
		if err := store.Create(context.Background(), samplePersona(id, user, statuses[i%len(statuses)], base.Add(time.Duration(i)*time.Millisecond))); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// listAll pages through a listing and returns the ids in the order received.
func listAll(t *testing.T, store *Store, q ListQuery) (ids []string, pages int) {
	t.Helper()
	for {
		page, err := store.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Personas) > q.Limit {
			t.Fatalf("page of %d personas, limit %d", len(page.Personas), q.Limit)
		}
		for _, p := range page.Personas {
			if p.UserID != q.UserID {
				t.Fatalf("listing of %s returned persona %s of %s", q.UserID, p.ID, p.UserID)
			}
			if q.Status != "" && p.Status != q.Status {
				t.Fatalf("listing filtered on %s returned persona %s with %s", q.Status, p.ID, p.Status)
			}
			ids = append(ids, p.ID)
		}
		if page.Next == nil {
			return ids, pages
		}
		if pages > 50 {
			t.Fatal("listing does not end")
		}
		q.After = page.Next
	}
}

func TestListPagesThroughOneUsersPersonasNewestFirst(t *testing.T) {
	store, _ := newTestStore(t)
	mine := seed(t, store, "user-a", 7, StatusRequested)
	seed(t, store, "user-b", 3, StatusRequested)

	got, pages := listAll(t, store, ListQuery{UserID: "user-a", Limit: 3})
	if len(got) != len(mine) {
		t.Fatalf("listed %v, want the %d personas of user-a", got, len(mine))
	}
	for i, id := range got {
		if want := mine[len(mine)-1-i]; id != want {
			t.Fatalf("position %d holds %s, want %s (newest first)", i, id, want)
		}
	}
	if pages < 3 {
		t.Fatalf("7 personas at 3 a page came in %d pages", pages)
	}
}

func TestListWithAStatusFilterReturnsOnlyThatStatusAndFillsPages(t *testing.T) {
	store, _ := newTestStore(t)
	seed(t, store, "user-a", 12, StatusReady, StatusFailed, StatusReady)

	got, _ := listAll(t, store, ListQuery{UserID: "user-a", Limit: 4, Status: StatusReady})
	if len(got) != 8 {
		t.Fatalf("listed %d ready personas, want 8: %v", len(got), got)
	}
	first, err := store.List(context.Background(), ListQuery{UserID: "user-a", Limit: 4, Status: StatusReady})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Personas) != 4 {
		t.Fatalf("first filtered page holds %d personas, want a full page of 4", len(first.Personas))
	}
}

func TestListOfAUserWithoutPersonasIsEmptyAndFinal(t *testing.T) {
	store, _ := newTestStore(t)
	seed(t, store, "user-b", 2, StatusReady)
	page, err := store.List(context.Background(), ListQuery{UserID: "user-a", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Personas) != 0 || page.Next != nil {
		t.Fatalf("page %+v, want empty with no next cursor", page)
	}
}

func TestAFilterMatchingLittleReturnsAShortPageWithACursorRatherThanReadingEverything(t *testing.T) {
	store, _ := newTestStore(t)
	n := filteredReadSize*maxFilteredReads + 1
	statuses := make([]Status, n)
	statuses[0] = StatusReady // only the oldest matches
	for i := 1; i < n; i++ {
		statuses[i] = StatusFailed
	}
	ids := seed(t, store, "user-a", n, statuses...)

	first, err := store.List(context.Background(), ListQuery{UserID: "user-a", Limit: 10, Status: StatusReady})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Personas) != 0 || first.Next == nil {
		t.Fatalf("first page holds %d personas with next %v, want an empty page with a cursor", len(first.Personas), first.Next)
	}
	second, err := store.List(context.Background(), ListQuery{UserID: "user-a", Limit: 10, Status: StatusReady, After: first.Next})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Personas) != 1 || second.Personas[0].ID != ids[0] || second.Next != nil {
		t.Fatalf("second page %+v, want the one ready persona and no cursor", second)
	}
}

// inStatusIndex reports whether StatusIndex holds the persona: the user's personas in
// flight, read from the index itself.
func inStatusIndex(t *testing.T, store *Store, user, id string) bool {
	t.Helper()
	page, err := store.ScanInFlight(context.Background(), time.Now().Add(24*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range page.Stuck {
		if ref.ID == id && ref.UserID == user {
			return true
		}
	}
	return false
}

func TestAPersonaIsInStatusIndexWhileInFlightAndLeavesItWhenItEnds(t *testing.T) {
	for _, end := range []Transition{
		{From: StatusProvisioning, To: StatusReady, Profile: &Profile{Version: 1, PersonaID: "p1"}},
		{From: StatusProvisioning, To: StatusFailed, Reason: "no"},
	} {
		t.Run("ends "+string(end.To), func(t *testing.T) {
			ctx := context.Background()
			store, _ := newTestStore(t)
			created := time.Now().Add(-time.Minute)
			if err := store.Create(ctx, samplePersona("p1", "user-a", StatusRequested, created)); err != nil {
				t.Fatal(err)
			}
			if !inStatusIndex(t, store, "user-a", "p1") {
				t.Fatal("a requested persona is not in StatusIndex")
			}
			if err := store.Transition(ctx, "p1", Transition{From: StatusRequested, To: StatusProvisioning, Now: time.Now()}); err != nil {
				t.Fatal(err)
			}
			got, _ := store.Get(ctx, "p1")
			if got.InFlightSince != FormatTime(created) || !inStatusIndex(t, store, "user-a", "p1") {
				t.Fatalf("provisioning persona in flight since %q (index: %v), want since its request %s", got.InFlightSince, inStatusIndex(t, store, "user-a", "p1"), FormatTime(created))
			}
			end.Now = time.Now()
			if err := store.Transition(ctx, "p1", end); err != nil {
				t.Fatal(err)
			}
			got, _ = store.Get(ctx, "p1")
			if got.InFlightSince != "" || inStatusIndex(t, store, "user-a", "p1") {
				t.Fatalf("a %s persona keeps inFlightSince %q and stays in StatusIndex", got.Status, got.InFlightSince)
			}
		})
	}
}

func TestAPersonaStoredBeforeTheSparseIndexJoinsItWhenTheWorkerMovesIt(t *testing.T) {
	ctx := context.Background()
	store, _ := newTestStore(t)
	legacy := samplePersona("p1", "user-a", StatusRequested, time.Now())
	legacy.InFlightSince = ""
	if err := store.Create(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	if inStatusIndex(t, store, "user-a", "p1") {
		t.Fatal("a persona without inFlightSince is in StatusIndex")
	}
	moved := time.Now()
	if err := store.Transition(ctx, "p1", Transition{From: StatusRequested, To: StatusProvisioning, Now: moved}); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(ctx, "p1"); got.InFlightSince != FormatTime(moved) {
		t.Fatalf("in flight since %q, want %s", got.InFlightSince, FormatTime(moved))
	}
}

func TestATransitionBoundToATimeInFlightMissesAPersonaQueuedAgainSince(t *testing.T) {
	ctx := context.Background()
	store, _ := newTestStore(t)
	p := samplePersona("p1", "user-a", StatusRequested, time.Now().Add(-time.Hour))
	if err := store.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	err := store.Transition(ctx, "p1", Transition{From: StatusRequested, To: StatusFailed, Reason: "stuck", Now: time.Now(), InFlightSince: "2026-01-01T00:00:00.000Z"})
	if !errors.Is(err, ErrStatusChanged) {
		t.Fatalf("err = %v, want ErrStatusChanged", err)
	}
	if err := store.Transition(ctx, "p1", Transition{From: StatusRequested, To: StatusFailed, Reason: "stuck", Now: time.Now(), InFlightSince: p.InFlightSince}); err != nil {
		t.Fatal(err)
	}
}

func TestCountInFlightCountsTheUsersPersonasInFlightUpToALimit(t *testing.T) {
	ctx := context.Background()
	store, _ := newTestStore(t)
	now := time.Now()
	statuses := []Status{StatusRequested, StatusProvisioning, StatusReady, StatusFailed, StatusRequested, StatusRequested}
	for i, status := range statuses {
		if err := store.Create(ctx, samplePersona(fmt.Sprintf("a%d", i), "user-a", status, now.Add(time.Duration(i)*time.Millisecond))); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Create(ctx, samplePersona("b1", "user-b", StatusRequested, now)); err != nil {
		t.Fatal(err)
	}
	for limit, want := range map[int]int{10: 4, 4: 4, 2: 2} {
		if n, err := store.CountInFlight(ctx, "user-a", limit); err != nil || n != want {
			t.Errorf("CountInFlight(user-a, %d) = %d, %v; want %d", limit, n, err, want)
		}
	}
	if n, err := store.CountInFlight(ctx, "user-c", 10); err != nil || n != 0 {
		t.Errorf("CountInFlight(user-c) = %d, %v; want 0", n, err)
	}
}

func TestRequeueRestartsThePersonasTimeInFlightOnceForWhatItSaw(t *testing.T) {
	ctx := context.Background()
	store, _ := newTestStore(t)
	p := samplePersona("p1", "user-a", StatusRequested, time.Now().Add(-time.Hour))
	p.TaskState, p.TaskError = TaskPublishFailed, "topic unreachable"
	if err := store.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := store.Requeue(ctx, "p1", p.InFlightSince, now); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Get(ctx, "p1")
	if got.InFlightSince != FormatTime(now) || got.Requeues != 1 || got.TaskState != TaskPending || got.TaskError != "" {
		t.Fatalf("after a requeue: since %q, requeues %d, task %s (%q)", got.InFlightSince, got.Requeues, got.TaskState, got.TaskError)
	}
	// A second sweep that saw the same persona finds it queued again already.
	if err := store.Requeue(ctx, "p1", p.InFlightSince, now); !errors.Is(err, ErrStatusChanged) {
		t.Fatalf("requeue of what was already requeued: err = %v, want ErrStatusChanged", err)
	}
}

func TestBackfillPutsPersonasLeftInFlightBeforeTheSparseIndexIntoIt(t *testing.T) {
	ctx := context.Background()
	store, _ := newTestStore(t)
	created := time.Now().Add(-48 * time.Hour)
	for i, status := range []Status{StatusRequested, StatusProvisioning, StatusReady, StatusFailed} {
		legacy := samplePersona(fmt.Sprintf("old%d", i), "user-a", status, created)
		legacy.InFlightSince = ""
		if err := store.Create(ctx, legacy); err != nil {
			t.Fatal(err)
		}
	}
	current := samplePersona("new", "user-a", StatusRequested, time.Now())
	if err := store.Create(ctx, current); err != nil {
		t.Fatal(err)
	}
	res, err := store.BackfillInFlight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 2 || res.Read != 5 {
		t.Errorf("backfill = %+v, want 2 added of 5 read", res)
	}
	for id, want := range map[string]string{"old0": FormatTime(created), "old1": FormatTime(created), "old2": "", "old3": "", "new": current.InFlightSince} {
		if got, _ := store.Get(ctx, id); got.InFlightSince != want {
			t.Errorf("%s: in flight since %q, want %q", id, got.InFlightSince, want)
		}
	}
	if again, err := store.BackfillInFlight(ctx); err != nil || again.Added != 0 {
		t.Errorf("a second backfill = %+v, %v; want nothing added", again, err)
	}
}
