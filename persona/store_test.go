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

func TestAPersonaWithAnEmptyKeyAttributeIsRefusedBeforeItIsWritten(t *testing.T) {
	ctx := context.Background()
	store, db := newTestStore(t)
	tests := []struct {
		name  string
		edit  func(p *Persona)
		field string
	}{
		{"an empty id", func(p *Persona) { p.ID = "" }, "personaId"},
		{"an empty owner", func(p *Persona) { p.UserID = "" }, "userId"},
		{"an empty creation time", func(p *Persona) { p.CreatedAt = "" }, "createdAt"},
		{"an empty status", func(p *Persona) { p.Status = "" }, "personaStatus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := samplePersona("p-"+tt.field, "user-a", StatusRequested, time.Now())
			tt.edit(&p)
			err := store.Create(ctx, p)
			if !errors.Is(err, ErrEmptyKey) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("got %v, want ErrEmptyKey naming %s", err, tt.field)
			}
		})
	}
	if out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(store.table)}); err != nil || out.Count != 0 {
		t.Errorf("the table holds %d items after refused creates (%v)", out.Count, err)
	}
	if err := store.Transition(ctx, "p1", Transition{From: StatusRequested, Now: time.Now()}); !errors.Is(err, ErrEmptyKey) {
		t.Errorf("a transition to an empty status: got %v, want ErrEmptyKey", err)
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
