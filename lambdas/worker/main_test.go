package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/lambdas/internal/functiontest"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/resource"
)

const (
	apiKey          = "sk-local-7e57-k3y"
	apiKeyParameter = "/persona-app/test/MyApiKey"
)

// motoSSM stores the API key in moto's SSM and returns an endpoint in front of
// moto that counts the functions' GetParameter calls.
func motoSSM(t *testing.T) (endpoint string, reads *atomic.Int64) {
	t.Helper()
	moto := localawstest.Moto(t)
	client := ssm.NewFromConfig(localawstest.Config(), func(o *ssm.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) })
	if _, err := client.PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(apiKeyParameter), Value: aws.String(apiKey), Type: ssmtypes.ParameterTypeSecureString,
	}); err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(moto.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	reads = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "AmazonSSM.GetParameter" {
			reads.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, reads
}

// queueMaxReceives is the receive limit in the queue's link; the constructs' default
// is 5, so a worker that ignored the link would show.
const queueMaxReceives = 2

// env is what the deployed function gets, pointed at local servers.
func env(dynamoEndpoint, ssmEndpoint string) []string {
	return functiontest.Env(map[string]string{"DYNAMODB": dynamoEndpoint, "SSM": ssmEndpoint},
		functiontest.TableLink(), functiontest.SecretLink(apiKeyParameter), functiontest.QueueLink(queueMaxReceives),
		functiontest.Settings(settings))
}

// settings are the stage's as the stack gives them to the worker.
var settings = persona.Settings{Models: []string{"house-model"}, Tools: []string{"search"}, MaxInFlight: 5, StuckAfterSeconds: 900}

// newTable creates the persona table in a fresh dynalite and stores a requested
// persona for each id, owned by user-<id>.
func newTable(t *testing.T, ids ...string) (*persona.Store, string) {
	t.Helper()
	ctx := context.Background()
	dynalite := localawstest.Dynalite(t)
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dynalite.Endpoint) })
	if err := localaws.CreateTable(ctx, db, functiontest.TableName, persona.TableSchema()); err != nil {
		t.Fatal(err)
	}
	store := persona.NewStore(db, functiontest.TableName)
	for _, id := range ids {
		at := persona.FormatTime(time.Now())
		p := persona.Persona{ID: id, UserID: "user-" + id, Spec: persona.Spec{Name: "Guide", Instructions: "Be brief."},
			Status: persona.StatusRequested, CreatedAt: at, UpdatedAt: at, TaskState: persona.TaskPublished, InFlightSince: at}
		if err := store.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return store, dynalite.Endpoint
}

// invoke sends fn one SQS batch and returns the ids of the messages it reported failed.
func invoke(t *testing.T, fn *localawstest.Function, records ...events.SQSMessage) []string {
	t.Helper()
	event, _ := json.Marshal(events.SQSEvent{Records: records})
	res, err := fn.Invoke(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil || res.Failed {
		t.Fatalf("answer %s (failed %v)", res.Payload, res.Failed)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func record(msgID, body, group string, receives int) events.SQSMessage {
	return events.SQSMessage{MessageId: msgID, Body: body, EventSource: "aws:sqs",
		Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(receives), "MessageGroupId": group}}
}

func task(id string) string {
	b, _ := json.Marshal(persona.Task{Type: persona.TaskTypeProvision, PersonaID: id, UserID: "user-" + id})
	return string(b)
}

func TestTheBootstrapProvisionsPersonasAndReportsOnlyTheFailedMessage(t *testing.T) {
	ctx := context.Background()
	store, dynamoEndpoint := newTable(t, "p1", "p2")
	ssmEndpoint, reads := motoSSM(t)
	fn := localawstest.StartBootstrap(t, localawstest.BuildBootstrap(t, "./lambdas/worker"), env(dynamoEndpoint, ssmEndpoint))

	if failed := invoke(t, fn, record("m1", task("p1"), "user-p1", 1), record("m2", "not a task", "user-x", 1)); strings.Join(failed, ",") != "m2" {
		t.Fatalf("first batch reported %v, want only m2", failed)
	}
	if failed := invoke(t, fn, record("m3", task("p2"), "user-p2", 1)); len(failed) != 0 {
		t.Fatalf("second batch reported %v, want none", failed)
	}
	for _, id := range []string{"p1", "p2"} {
		if p, err := store.Get(ctx, id); err != nil || p.Status != persona.StatusReady {
			t.Fatalf("%s is %s (%v), want ready", id, p.Status, err)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("the API key was read %d times in one process, want once", n)
	}
	if strings.Contains(fn.Output(), apiKey) {
		t.Errorf("the API key is in the function's output:\n%s", fn.Output())
	}
}

func TestTheBootstrapGivesUpOnThePersonaAtTheLastReceiveItsQueueLinkGives(t *testing.T) {
	ctx := context.Background()
	store, dynamoEndpoint := newTable(t, "p1")
	ssmEndpoint, _ := motoSSM(t)
	// The key's parameter does not exist, so every attempt fails and is retried.
	unreadable := functiontest.With(env(dynamoEndpoint, ssmEndpoint), functiontest.SecretLink("/persona-app/test/Missing"))
	fn := localawstest.StartBootstrap(t, localawstest.BuildBootstrap(t, "./lambdas/worker"), unreadable)

	for receive := 1; receive <= queueMaxReceives; receive++ {
		if failed := invoke(t, fn, record("m1", task("p1"), "user-p1", receive)); strings.Join(failed, ",") != "m1" {
			t.Fatalf("receive %d reported %v, want m1 for retry", receive, failed)
		}
		want := persona.StatusProvisioning
		if receive == queueMaxReceives {
			want = persona.StatusFailed
		}
		if p, err := store.Get(ctx, "p1"); err != nil || p.Status != want {
			t.Fatalf("after receive %d of %d the persona is %s (%v), want %s", receive, queueMaxReceives, p.Status, err, want)
		}
	}
}

func TestTheBootstrapStopsAtInitWhenALinkIsMissingNamingIt(t *testing.T) {
	bin := localawstest.BuildBootstrap(t, "./lambdas/worker")
	linked := env("http://127.0.0.1:1", "http://127.0.0.1:1")
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"no secret link", functiontest.Without(linked, resource.EnvName(persona.APIKeySecret)), `resource \"MyApiKey\" is not linked`},
		{"no queue link", functiontest.Without(linked, resource.EnvName(persona.QueueLink)), `resource \"PersonaQueue\" is not linked`},
		{"a queue link without its receive limit", functiontest.With(linked, functiontest.QueueLink(0)), "PersonaQueue link gives maxReceiveCount 0"},
		{"no settings", functiontest.Without(linked, persona.SettingsEnv), persona.SettingsEnv + " is not set"},
		{"settings that allow no persona in flight", functiontest.With(linked, persona.SettingsEnv+`={"models":[],"tools":[],"maxInFlight":0,"stuckAfterSeconds":900}`),
			"allow each user at least 1 persona in flight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := localawstest.StartFunction(context.Background(), bin, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want an init failure saying %s", err, tt.want)
			}
		})
	}
}

// BenchmarkInit measures the bootstrap's cold start: process start to its first
// request for an invocation.
func BenchmarkInit(b *testing.B) {
	localawstest.BenchmarkInit(b, "./lambdas/worker", env("http://127.0.0.1:1", "http://127.0.0.1:1"))
}
