package persona

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/personabackend/app/resource"
	"github.com/personabackend/app/resource/secrets"

	"github.com/personabackend/app/internal/localaws"
)

const testAPIKey = "sk-test-5up3r-s3cr3t"

// testMaxReceives is the receive limit the test queue's link would carry; it differs
// from the constructs' default of 3, so a worker that ignored it would show.
const testMaxReceives = 4

// fakeSSM stands in for the SSM client where a test counts reads or makes them fail
// (as throttling would), which moto's server cannot be asked to do; the worker's
// bootstrap test reads the key from moto. It serves one parameter, counts reads, and
// fails while err is set.
type fakeSSM struct {
	mu    sync.Mutex
	reads int
	err   error
}

func (f *fakeSSM) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	if aws.ToString(in.Name) != "/persona-app/test/MyApiKey" {
		return nil, &ssmtypes.ParameterNotFound{}
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Value: aws.String(testAPIKey)}}, nil
}

type testWorker struct {
	worker *Worker
	store  *Store
	ssm    *fakeSSM
	logs   *localaws.Buffer
}

func newTestWorker(t *testing.T) testWorker {
	t.Helper()
	t.Setenv(resource.EnvName(APIKeySecret), `{"kind":"secret","parameter":"/persona-app/test/MyApiKey"}`)
	store, _ := newTestStore(t)
	fake := &fakeSSM{}
	clk := newClock()
	log, logs := newLogger()
	w, err := NewWorker(store, &Provisioner{Secrets: secrets.NewLoader(fake), Now: clk.Now, Settings: testSettings}, log, testMaxReceives)
	if err != nil {
		t.Fatal(err)
	}
	w.Now = clk.Now
	return testWorker{worker: w, store: store, ssm: fake, logs: logs}
}

func taskBody(id, user string) string {
	b, _ := json.Marshal(Task{Type: TaskTypeProvision, PersonaID: id, UserID: user, RequestedAt: "2026-11-25T10:00:00.000Z"})
	return string(b)
}

// sqsRecord is a record as Lambda delivers it from a FIFO queue.
func sqsRecord(msgID, body, group string, receives int) events.SQSMessage {
	return events.SQSMessage{
		MessageId: msgID,
		Body:      body,
		Attributes: map[string]string{
			"ApproximateReceiveCount": strconv.Itoa(receives),
			"MessageGroupId":          group,
		},
		EventSource: "aws:sqs",
	}
}

func (tw testWorker) handle(t *testing.T, records ...events.SQSMessage) []string {
	t.Helper()
	resp, err := tw.worker.Handle(lambdaContext(), events.SQSEvent{Records: records})
	if err != nil {
		t.Fatalf("the batch failed as a whole: %v", err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

func (tw testWorker) get(t *testing.T, id string) Persona {
	t.Helper()
	p, err := tw.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWorkerProvisionsARequestedPersonaToReadyWithASignedProfile(t *testing.T) {
	tw := newTestWorker(t)
	p := samplePersona("p1", "user-a", StatusRequested, time.Now())
	p.Tools = []string{"search"}
	if err := tw.store.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}

	if failed := tw.handle(t, sqsRecord("m1", taskBody("p1", "user-a"), "user-a", 1)); len(failed) != 0 {
		t.Fatalf("failed messages %v, want none", failed)
	}

	got := tw.get(t, "p1")
	if got.Status != StatusReady || got.Profile == nil {
		t.Fatalf("persona %s with profile %v, want ready with a profile", got.Status, got.Profile)
	}
	prof := *got.Profile
	if !strings.Contains(prof.SystemPrompt, p.Instructions) || prof.Model != DefaultModel || prof.Temperature != DefaultTemperature || prof.Tools[0] != "search" {
		t.Fatalf("profile %+v does not follow the persona", prof)
	}
	if want, _ := Sign(prof, testAPIKey); prof.Signature != want {
		t.Fatalf("profile signature %q does not verify with the API key", prof.Signature)
	}
	if strings.Contains(tw.logs.String(), testAPIKey) {
		t.Fatalf("the API key is in the log:\n%s", tw.logs)
	}
}

func TestWorkerReadsTheAPIKeyOncePerProcess(t *testing.T) {
	tw := newTestWorker(t)
	var records []events.SQSMessage
	for i := range 3 {
		id := "p" + strconv.Itoa(i)
		tw.store.Create(context.Background(), samplePersona(id, "user-"+id, StatusRequested, time.Now()))
		records = append(records, sqsRecord("m"+id, taskBody(id, "user-"+id), "user-"+id, 1))
	}
	tw.handle(t, records[:2]...)
	tw.handle(t, records[2:]...)
	if tw.ssm.reads != 1 {
		t.Fatalf("read the key %d times for three personas in two batches, want once", tw.ssm.reads)
	}
}

func TestARedeliveredTaskForAProvisionedPersonaChangesNothing(t *testing.T) {
	for _, status := range []Status{StatusReady, StatusFailed} {
		t.Run(string(status), func(t *testing.T) {
			tw := newTestWorker(t)
			p := samplePersona("p1", "user-a", status, time.Now())
			tw.store.Create(context.Background(), p)
			if failed := tw.handle(t, sqsRecord("m1", taskBody("p1", "user-a"), "user-a", 2)); len(failed) != 0 {
				t.Fatalf("failed %v, want none: a duplicate is not an error", failed)
			}
			if got := tw.get(t, "p1"); got.Status != status || got.UpdatedAt != p.UpdatedAt {
				t.Fatalf("persona moved to %s at %s", got.Status, got.UpdatedAt)
			}
		})
	}
}

func TestTwoCopiesOfATaskInOneBatchProvisionOnce(t *testing.T) {
	tw := newTestWorker(t)
	tw.store.Create(context.Background(), samplePersona("p1", "user-a", StatusRequested, time.Now()))
	failed := tw.handle(t,
		sqsRecord("m1", taskBody("p1", "user-a"), "user-a", 1),
		sqsRecord("m2", taskBody("p1", "user-a"), "user-a", 1))
	if len(failed) != 0 {
		t.Fatalf("failed %v, want none", failed)
	}
	if n := strings.Count(tw.logs.String(), `"msg":"persona ready"`); n != 1 {
		t.Fatalf("the persona became ready %d times, want once", n)
	}
}

func TestAPersonaLeftProvisioningByACrashIsFinishedOnRedelivery(t *testing.T) {
	tw := newTestWorker(t)
	tw.store.Create(context.Background(), samplePersona("p1", "user-a", StatusProvisioning, time.Now()))
	if failed := tw.handle(t, sqsRecord("m1", taskBody("p1", "user-a"), "user-a", 2)); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if got := tw.get(t, "p1"); got.Status != StatusReady {
		t.Fatalf("status %s, want ready", got.Status)
	}
}

func TestWorkerReportsBadMessagesAndGoesOnWithTheRest(t *testing.T) {
	tw := newTestWorker(t)
	tw.store.Create(context.Background(), samplePersona("good", "user-a", StatusRequested, time.Now()))
	tw.store.Create(context.Background(), samplePersona("theirs", "user-b", StatusRequested, time.Now()))
	failed := tw.handle(t,
		sqsRecord("not-json", "{{{", "g1", 1),
		sqsRecord("wrong-type", `{"type":"report.build","personaId":"good","userId":"user-a"}`, "g2", 1),
		sqsRecord("unknown", taskBody("missing", "user-c"), "g3", 1),
		sqsRecord("wrong-user", taskBody("theirs", "user-a"), "g4", 1),
		sqsRecord("good", taskBody("good", "user-a"), "user-a", 1),
	)
	if got, want := strings.Join(failed, ","), "not-json,wrong-type,unknown,wrong-user"; got != want {
		t.Fatalf("failed %s, want %s", got, want)
	}
	if got := tw.get(t, "good"); got.Status != StatusReady {
		t.Fatalf("the good message left its persona %s", got.Status)
	}
	if got := tw.get(t, "theirs"); got.Status != StatusRequested {
		t.Fatalf("a task naming the wrong user moved the persona to %s", got.Status)
	}
}

func TestAPersonaThatCannotBeProvisionedIsMarkedFailedWithoutRetry(t *testing.T) {
	tw := newTestWorker(t)
	p := samplePersona("p1", "user-a", StatusRequested, time.Now())
	p.Tools = []string{"Not A Tool"}
	tw.store.Create(context.Background(), p)
	if failed := tw.handle(t, sqsRecord("m1", taskBody("p1", "user-a"), "user-a", 1)); len(failed) != 0 {
		t.Fatalf("failed %v: retrying cannot help, so the message should be consumed", failed)
	}
	got := tw.get(t, "p1")
	if got.Status != StatusFailed || !strings.Contains(got.StatusReason, "tools[0]") {
		t.Fatalf("status %s (%q), want failed naming the bad tool", got.Status, got.StatusReason)
	}
}

func TestATransientFailureIsRetriedAndTheLastDeliveryMarksThePersonaFailed(t *testing.T) {
	tw := newTestWorker(t)
	tw.ssm.err = errors.New("ssm throttled")
	tw.store.Create(context.Background(), samplePersona("p1", "user-a", StatusRequested, time.Now()))

	for receive := 1; receive <= testMaxReceives; receive++ {
		failed := tw.handle(t, sqsRecord("m1", taskBody("p1", "user-a"), "user-a", receive))
		if len(failed) != 1 {
			t.Fatalf("receive %d: failed %v, want the message reported for retry", receive, failed)
		}
		got := tw.get(t, "p1")
		want := StatusProvisioning
		if receive == testMaxReceives {
			want = StatusFailed
		}
		if got.Status != want {
			t.Fatalf("after receive %d the persona is %s, want %s", receive, got.Status, want)
		}
	}
	if got := tw.get(t, "p1"); !strings.Contains(got.StatusReason, "after 4 attempts") {
		t.Fatalf("reason %q does not say the attempts ran out", got.StatusReason)
	}
}

func TestAWorkerWithoutTheQueuesReceiveLimitIsRefusedNamingTheLink(t *testing.T) {
	for _, n := range []int{0, -1} {
		_, err := NewWorker(nil, nil, nil, n)
		if err == nil || !strings.Contains(err.Error(), "PersonaQueue link") || !strings.Contains(err.Error(), "maxReceiveCount") {
			t.Errorf("NewWorker with max receives %d: err = %v, want a refusal naming the PersonaQueue link's maxReceiveCount", n, err)
		}
	}
}

func TestAFailedMessageDoesNotHoldBackTheRestOfItsGroup(t *testing.T) {
	tw := newTestWorker(t)
	for _, id := range []string{"a1", "a2", "b1"} {
		tw.store.Create(context.Background(), samplePersona(id, "user-"+id[:1], StatusRequested, time.Now()))
	}
	// The last delivery: a held-back message would go to the dead-letter queue unprocessed.
	failed := tw.handle(t,
		sqsRecord("ma0", "not a task", "user-a", testMaxReceives),
		sqsRecord("ma1", taskBody("a1", "user-a"), "user-a", testMaxReceives),
		sqsRecord("mb1", taskBody("b1", "user-b"), "user-b", testMaxReceives),
		sqsRecord("ma2", taskBody("a2", "user-a"), "user-a", testMaxReceives),
	)
	if got := strings.Join(failed, ","); got != "ma0" {
		t.Fatalf("failed %s, want only ma0", got)
	}
	for _, id := range []string{"a1", "a2", "b1"} {
		if got := tw.get(t, id).Status; got != StatusReady {
			t.Errorf("%s is %s, want ready", id, got)
		}
	}
}

// failingStore is the persona store with the failures DynamoDB can have: the next Get
// fails while failNextGet is set, and every move to failTo fails.
type failingStore struct {
	*Store
	failNextGet bool
	failTo      Status
}

var errThrottled = errors.New("dynamodb: throughput exceeded")

func (s *failingStore) Get(ctx context.Context, id string) (Persona, error) {
	if s.failNextGet {
		s.failNextGet = false
		return Persona{}, errThrottled
	}
	return s.Store.Get(ctx, id)
}

func (s *failingStore) Transition(ctx context.Context, id string, t Transition) error {
	if t.To == s.failTo {
		return errThrottled
	}
	return s.Store.Transition(ctx, id, t)
}

func TestAStoreFailureOnTheLastDeliveryMarksThePersonaFailed(t *testing.T) {
	tests := []struct {
		name        string
		failFirst   bool
		failTo      Status
		statusUntil Status
	}{
		{"when the first read fails", true, "", StatusRequested},
		{"when the move to provisioning fails", false, StatusProvisioning, StatusRequested},
		{"when the move to ready fails", false, StatusReady, StatusProvisioning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tw := newTestWorker(t)
			store := &failingStore{Store: tw.store, failTo: tt.failTo}
			tw.worker.Store = store
			tw.store.Create(context.Background(), samplePersona("p1", "user-a", StatusRequested, time.Now()))

			for receive := 1; receive <= testMaxReceives; receive++ {
				store.failNextGet = tt.failFirst
				if failed := tw.handle(t, sqsRecord("m1", taskBody("p1", "user-a"), "user-a", receive)); len(failed) != 1 {
					t.Fatalf("receive %d: failed %v, want the message reported for retry", receive, failed)
				}
				want := tt.statusUntil
				if receive == testMaxReceives {
					want = StatusFailed
				}
				if got := tw.get(t, "p1"); got.Status != want {
					t.Fatalf("after receive %d the persona is %s, want %s", receive, got.Status, want)
				}
			}
			if got := tw.get(t, "p1"); !strings.Contains(got.StatusReason, "after 4 attempts") {
				t.Fatalf("reason %q does not say the attempts ran out", got.StatusReason)
			}
		})
	}
}

func TestTheLastDeliveryOfATaskForAnotherUsersPersonaLeavesItAlone(t *testing.T) {
	tw := newTestWorker(t)
	tw.store.Create(context.Background(), samplePersona("theirs", "user-b", StatusRequested, time.Now()))
	if failed := tw.handle(t, sqsRecord("m1", taskBody("theirs", "user-a"), "user-a", testMaxReceives)); len(failed) != 1 {
		t.Fatalf("failed %v, want the message reported", failed)
	}
	if got := tw.get(t, "theirs"); got.Status != StatusRequested {
		t.Fatalf("a task naming the wrong user moved the persona to %s", got.Status)
	}
}

func TestWorkerLogsAreJSONLinesWithTheRequestID(t *testing.T) {
	tw := newTestWorker(t)
	tw.store.Create(context.Background(), samplePersona("p1", "user-a", StatusRequested, time.Now()))
	tw.handle(t, sqsRecord("m1", taskBody("p1", "user-a"), "user-a", 1), sqsRecord("m2", "junk", "g", 1))
	for _, line := range strings.Split(strings.TrimSpace(tw.logs.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q is not JSON", line)
		}
		if entry["requestId"] != "lambda-req-1" {
			t.Errorf("log line %q lacks the request id", line)
		}
		if strings.Contains(line, "junk") || strings.Contains(line, "Answer briefly") {
			t.Errorf("log line %q holds a message body or persona content", line)
		}
	}
}

func TestTheWorkerTakesNoMoreMessagesNearItsDeadlineAndLeavesThemForRedelivery(t *testing.T) {
	tw := newTestWorker(t)
	var records []events.SQSMessage
	for _, id := range []string{"p1", "p2", "p3"} {
		tw.store.Create(context.Background(), samplePersona(id, "user-a", StatusRequested, time.Now()))
		records = append(records, sqsRecord("m-"+id, taskBody(id, "user-a"), "user-a", 1))
	}
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(lambdaContext(), deadline)
	defer cancel()
	// The first message begins with the hour ahead; by its end the deadline has come.
	reads := 0
	tw.worker.Now = func() time.Time {
		reads++
		if reads == 1 {
			return deadline.Add(-time.Hour)
		}
		return deadline
	}
	resp, err := tw.worker.Handle(ctx, events.SQSEvent{Records: records})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if strings.Join(failed, ",") != "m-p2,m-p3" {
		t.Fatalf("failed %v, want the two messages not begun", failed)
	}
	for id, want := range map[string]Status{"p1": StatusReady, "p2": StatusRequested, "p3": StatusRequested} {
		if got := tw.get(t, id); got.Status != want {
			t.Errorf("%s is %s, want %s", id, got.Status, want)
		}
	}
	if !strings.Contains(tw.logs.String(), "the invocation's deadline is near") {
		t.Errorf("the log does not say why messages were left:\n%s", tw.logs)
	}
}

// blockingProvisioner provisions nothing: it waits until its context ends, as a call
// to a service that does not answer would.
type blockingProvisioner struct{}

func (blockingProvisioner) Provision(ctx context.Context, _ Persona) (Profile, error) {
	<-ctx.Done()
	return Profile{}, ctx.Err()
}

func TestAMessageStillRunningNearTheDeadlineIsCutShortAndReported(t *testing.T) {
	tw := newTestWorker(t)
	tw.worker.Provisioner = blockingProvisioner{}
	tw.worker.Now = time.Now
	var records []events.SQSMessage
	for _, id := range []string{"p1", "p2"} {
		tw.store.Create(context.Background(), samplePersona(id, "user-a", StatusRequested, time.Now()))
		records = append(records, sqsRecord("m-"+id, taskBody(id, "user-a"), "user-a", 1))
	}
	ctx, cancel := context.WithTimeout(lambdaContext(), DeadlineMargin+time.Second)
	defer cancel()
	resp, err := tw.worker.Handle(ctx, events.SQSEvent{Records: records})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 2 {
		t.Fatalf("failed %+v, want both messages: one cut short, one not begun", resp.BatchItemFailures)
	}
	logs := tw.logs.String()
	// On a machine slow enough to reach the first message with less than the margin
	// left, neither is begun; otherwise the first is cut short by the deadline.
	cut := strings.Contains(logs, `"msg":"message failed"`)
	if !strings.Contains(logs, "deadline is near") || (cut && !strings.Contains(logs, "context deadline exceeded")) {
		t.Errorf("the log does not say why the messages were left:\n%s", logs)
	}
}

func TestTheWorkerFailsAPersonaNamingAModelOrToolTheStageDoesNotOffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Persona)
		want   string
	}{
		{"a model", func(p *Persona) { p.Model = "gpt-retired" }, `model: "gpt-retired" is not offered here: choose one of gpt-x`},
		{"a tool", func(p *Persona) { p.Tools = []string{"search", "shell"} }, `tools[1]: "shell" is not offered here: the tools offered are search, calendar`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tw := newTestWorker(t)
			p := samplePersona("p1", "user-a", StatusRequested, time.Now())
			tc.change(&p)
			tw.store.Create(context.Background(), p)
			if failed := tw.handle(t, sqsRecord("m1", taskBody("p1", "user-a"), "user-a", 1)); len(failed) != 0 {
				t.Fatalf("failed %v: a persona that can never be provisioned is not retried", failed)
			}
			got := tw.get(t, "p1")
			if got.Status != StatusFailed || !strings.Contains(got.StatusReason, tc.want) || got.Profile != nil {
				t.Fatalf("persona %s (%q), profile %v; want failed saying %q and no signed profile", got.Status, got.StatusReason, got.Profile, tc.want)
			}
		})
	}
}
