package persona

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

type discardTasks struct{}

func (discardTasks) Publish(context.Context, Task) error { return nil }

// BenchmarkRequest measures POST /personas through the handler: validation, the
// conditional write to dynalite, the task-state update, and the publish.
func BenchmarkRequest(b *testing.B) {
	run := func(b *testing.B, tasks taskPublisher) {
		store, _ := newTestStore(b)
		log, _ := newLogger()
		api, err := NewAPI(store, tasks, log, testSettings)
		if err != nil {
			b.Fatal(err)
		}
		ctx := lambdaContext()
		users := 0
		for b.Loop() {
			// A user of their own per request, each under the cap on personas in flight.
			users++
			resp, _ := api.Request(ctx, httpEvent(RouteRequest, fmt.Sprintf("user-%d", users), validBody))
			if resp.StatusCode != http.StatusAccepted {
				b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
		}
	}
	b.Run("dynalite", func(b *testing.B) { run(b, discardTasks{}) })
	b.Run("dynalite+moto-sns", func(b *testing.B) {
		endpoint := motoEndpoint(b)
		client := sns.NewFromConfig(localawstest.Config(), func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) })
		topic, err := client.CreateTopic(context.Background(), &sns.CreateTopicInput{
			Name: aws.String(uniqueName("tasks") + ".fifo"), Attributes: map[string]string{"FifoTopic": "true"},
		})
		if err != nil {
			b.Fatal(err)
		}
		run(b, NewTaskPublisher(client, *topic.TopicArn, true))
	})
}

// BenchmarkList measures GET /personas through the handler against dynalite for a
// user with 200 personas: the first page, a page from a nextToken, and a status filter.
func BenchmarkList(b *testing.B) {
	store, _ := newTestStore(b)
	seed(b, store, "user-a", 200, StatusReady, StatusFailed)
	log, _ := newLogger()
	api := NewReader(store, log)
	ctx := lambdaContext()
	list := func(b *testing.B, query map[string]string) ListResponse {
		ev := httpEvent(RouteList, "user-a", "")
		ev.QueryStringParameters = query
		resp, _ := api.List(ctx, ev)
		var body ListResponse
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &body) != nil {
			b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		return body
	}
	for _, bm := range []struct {
		name  string
		query map[string]string
	}{
		{"first-page-of-20", map[string]string{}},
		{"page-of-100", map[string]string{"limit": "100"}},
		{"status-filter-20", map[string]string{"status": "failed"}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				list(b, bm.query)
			}
		})
	}
	b.Run("next-page-of-20", func(b *testing.B) {
		token := list(b, map[string]string{}).NextToken
		for b.Loop() {
			list(b, map[string]string{"nextToken": token})
		}
	})
}

// BenchmarkGet measures GET /personas/{personaId} through the handler against
// dynalite: one strongly consistent read, found or not.
func BenchmarkGet(b *testing.B) {
	store, _ := newTestStore(b)
	log, _ := newLogger()
	id := IDFor("user-a", "k1")
	p := samplePersona(id, "user-a", StatusReady, newClock().Now())
	if err := store.Create(context.Background(), p); err != nil {
		b.Fatal(err)
	}
	api := NewReader(store, log)
	ctx := lambdaContext()
	for _, bm := range []struct {
		name, user string
		want       int
	}{
		{"own-persona", "user-a", http.StatusOK},
		{"another-users-persona", "user-b", http.StatusNotFound},
	} {
		b.Run(bm.name, func(b *testing.B) {
			ev := getEvent(bm.user, id)
			for b.Loop() {
				if resp, _ := api.Get(ctx, ev); resp.StatusCode != bm.want {
					b.Fatalf("status %d, want %d: %s", resp.StatusCode, bm.want, resp.Body)
				}
			}
		})
	}
}

// BenchmarkSweep measures one run of the sweep over a table of 10,000 personas of
// 1,000 users, 100 of them in flight and none stuck: what every run costs. It reports
// the StatusIndex entries read and the read capacity units they cost, as dynalite
// counts them, beside a read of the whole table (what the one-off backfill does, and
// what a sweep without the sparse index would do each run).
func BenchmarkSweep(b *testing.B) {
	const personas, inFlight, users = 10_000, 100, 1_000
	store, db := newTestStore(b)
	now := time.Now()
	var batch []dynamodbtypes.WriteRequest
	flush := func() {
		if len(batch) == 0 {
			return
		}
		out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dynamodbtypes.WriteRequest{store.table: batch}})
		if err != nil || len(out.UnprocessedItems) > 0 {
			b.Fatalf("seeding: %v (%d unprocessed)", err, len(out.UnprocessedItems))
		}
		batch = batch[:0]
	}
	for i := range personas {
		status := []Status{StatusReady, StatusFailed}[i%2]
		age := 24 * time.Hour
		if i%(personas/inFlight) == 0 {
			status, age = []Status{StatusRequested, StatusProvisioning}[i/(personas/inFlight)%2], time.Minute
		}
		p := samplePersona(fmt.Sprintf("p%05d", i), fmt.Sprintf("user-%04d", i%users), status, now.Add(-age))
		item, err := attributevalue.MarshalMap(p)
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, dynamodbtypes.WriteRequest{PutRequest: &dynamodbtypes.PutRequest{Item: item}})
		if len(batch) == 25 {
			flush()
		}
	}
	flush()
	log, _ := newLogger()
	sweeper, err := NewSweeper(store, discardTasks{}, log, testSettings)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sweep-10000-personas-100-in-flight", func(b *testing.B) {
		var res SweepResult
		for b.Loop() {
			if res, err = sweeper.Handle(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		if res.Read != inFlight || res.Stuck != 0 {
			b.Fatalf("a run read %d and found %d stuck, want %d read and none stuck", res.Read, res.Stuck, inFlight)
		}
		b.ReportMetric(float64(res.Read), "items-read/op")
		b.ReportMetric(res.ReadCapacity, "RCU/op")
	})
	b.Run("whole-table-read-10000-personas", func(b *testing.B) {
		var res Backfill
		for b.Loop() {
			if res, err = store.BackfillInFlight(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(res.Read), "items-read/op")
		b.ReportMetric(res.Capacity, "RCU/op")
	})
}
