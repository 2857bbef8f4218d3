package persona

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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
		api := NewAPI(store, tasks, log)
		ev := httpEvent(RouteRequest, "user-a", validBody)
		ctx := lambdaContext()
		for b.Loop() {
			resp, _ := api.Request(ctx, ev)
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
	api := NewAPI(store, nil, log)
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
	api := NewAPI(store, nil, log)
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
