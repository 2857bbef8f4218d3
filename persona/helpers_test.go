package persona

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

// dynalite and moto (for SNS and SQS) are one server each for the whole package;
// each test gets tables, topics and queues of its own.
var (
	dynalite    = localawstest.SharedServer(localawstest.StartDynalite)
	moto        = localawstest.SharedServer(localaws.StartMoto)
	resourceSeq atomic.Int64
)

func TestMain(m *testing.M) { localawstest.Main(m, dynalite, moto) }

// uniqueName returns prefix with a number no other test of the package gets.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, resourceSeq.Add(1))
}

// motoEndpoint returns moto's endpoint, skipping the test (failing it in CI) without moto.
func motoEndpoint(tb testing.TB) string {
	tb.Helper()
	return moto.Get(tb).Endpoint
}

// newTestStore creates a persona table in dynalite shaped as the stack declares it
// (TableSchema).
func newTestStore(tb testing.TB) (*Store, *dynamodb.Client) {
	tb.Helper()
	endpoint := dynalite.Get(tb).Endpoint
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	name := uniqueName("personas")
	if err := localaws.CreateTable(context.Background(), db, name, TableSchema()); err != nil {
		tb.Fatal(err)
	}
	return NewStore(db, name), db
}

// clock is a test clock that moves forward a millisecond each time it is read,
// so that personas created one after another have distinct createdAt.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func newLogger() (*slog.Logger, *localaws.Buffer) {
	buf := &localaws.Buffer{}
	return slog.New(slog.NewJSONHandler(buf, nil)), buf
}

// testSettings offer the model and tools the tests' personas name, let a user have
// 10 personas in flight, and call a persona stuck after 15 minutes.
var testSettings = Settings{Models: []string{"gpt-x"}, Tools: []string{"search", "calendar"}, MaxInFlight: 10, StuckAfterSeconds: 900}

func sampleSpec(name string) Spec {
	return Spec{Name: name, Description: "Helps with travel plans.", Instructions: "Answer briefly and ask before booking anything."}
}

func samplePersona(id, user string, status Status, createdAt time.Time) Persona {
	p := Persona{
		ID: id, UserID: user, Spec: sampleSpec("Guide " + id), Status: status,
		CreatedAt: FormatTime(createdAt), UpdatedAt: FormatTime(createdAt),
		RequestHash: specHash(sampleSpec("Guide " + id)), TaskState: TaskPublished,
	}
	if status.InFlight() {
		p.InFlightSince = p.CreatedAt
	}
	return p
}
