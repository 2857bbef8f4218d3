package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/persona"
)

const (
	apiKey          = "sk-local-7e57-k3y"
	apiKeyParameter = "/persona-app/test/MyApiKey"
)

// fakeSSM is a test double of SSM Parameter Store's wire protocol (awsJson1_1), since
// no SSM emulator exists here. It serves the API key parameter and counts reads.
func fakeSSM(t *testing.T) (endpoint string, reads *atomic.Int64) {
	reads = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Name string }
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameter" || json.NewDecoder(r.Body).Decode(&in) != nil {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		reads.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if in.Name != apiKeyParameter {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"__type":"ParameterNotFound","message":"not found"}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
			"Name": in.Name, "Type": "SecureString", "Value": apiKey, "Version": 1,
		}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, reads
}

// env is what the deployed function gets, pointed at local servers.
func env(dynamoEndpoint, ssmEndpoint string) []string {
	return []string{
		"AWS_REGION=" + localaws.Region, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_DYNAMODB=" + dynamoEndpoint, "AWS_ENDPOINT_URL_SSM=" + ssmEndpoint,
		"APP_NAME=persona-app", "APP_STAGE=test",
		`RESOURCE_PersonaTable={"kind":"table","name":"personas","arn":"arn:aws:dynamodb:us-east-1:000000000000:table/personas"}`,
		`RESOURCE_MyApiKey={"kind":"secret","parameter":"` + apiKeyParameter + `"}`,
	}
}

func TestTheBootstrapProvisionsPersonasAndReportsOnlyTheFailedMessage(t *testing.T) {
	ctx := context.Background()
	dynalite := localaws.Dynalite(t)
	ssmEndpoint, reads := fakeSSM(t)
	db := dynamodb.NewFromConfig(localaws.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dynalite.Endpoint) })
	if err := localaws.CreateTable(ctx, db, persona.TableShape("personas")); err != nil {
		t.Fatal(err)
	}
	store := persona.NewStore(db, "personas")
	for _, id := range []string{"p1", "p2"} {
		at := persona.FormatTime(time.Now())
		p := persona.Persona{ID: id, UserID: "user-" + id, Spec: persona.Spec{Name: "Guide", Instructions: "Be brief."},
			Status: persona.StatusRequested, CreatedAt: at, UpdatedAt: at, TaskState: persona.TaskPublished}
		if err := store.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	fn := localaws.StartBootstrap(t, localaws.BuildBootstrap(t, "./lambdas/worker"), env(dynalite.Endpoint, ssmEndpoint))

	batch := func(records ...events.SQSMessage) []string {
		t.Helper()
		event, _ := json.Marshal(events.SQSEvent{Records: records})
		res, err := fn.Invoke(ctx, event)
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
	record := func(msgID, body, group string) events.SQSMessage {
		return events.SQSMessage{MessageId: msgID, Body: body, EventSource: "aws:sqs",
			Attributes: map[string]string{"ApproximateReceiveCount": "1", "MessageGroupId": group}}
	}
	task := func(id string) string {
		b, _ := json.Marshal(persona.Task{Type: persona.TaskTypeProvision, PersonaID: id, UserID: "user-" + id})
		return string(b)
	}

	if failed := batch(record("m1", task("p1"), "user-p1"), record("m2", "not a task", "user-x")); strings.Join(failed, ",") != "m2" {
		t.Fatalf("first batch reported %v, want only m2", failed)
	}
	if failed := batch(record("m3", task("p2"), "user-p2")); len(failed) != 0 {
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

func TestTheBootstrapWithoutItsSecretLinkStopsAtInitNamingTheLink(t *testing.T) {
	bin := localaws.BuildBootstrap(t, "./lambdas/worker")
	var unlinked []string
	for _, kv := range env("http://127.0.0.1:1", "http://127.0.0.1:1") {
		if !strings.HasPrefix(kv, "RESOURCE_MyApiKey=") {
			unlinked = append(unlinked, kv)
		}
	}
	_, err := localaws.StartFunction(context.Background(), bin, unlinked)
	if err == nil || !strings.Contains(err.Error(), `resource \"MyApiKey\" is not linked`) {
		t.Fatalf("err = %v, want an init failure naming the MyApiKey link", err)
	}
}

// BenchmarkInit measures the bootstrap's cold start: process start to its first
// request for an invocation.
func BenchmarkInit(b *testing.B) {
	bin := localaws.BuildBootstrap(b, "./lambdas/worker")
	var total time.Duration
	for b.Loop() {
		fn, err := localaws.StartFunction(context.Background(), bin, env("http://127.0.0.1:1", "http://127.0.0.1:1"))
		if err != nil {
			b.Fatal(err)
		}
		total += fn.InitDuration
		fn.Stop()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-init/op")
}
