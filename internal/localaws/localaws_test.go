package localaws

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/personabackend/app/topology"
)

func TestDynaliteAnswersDynamoDBCallsOnLoopback(t *testing.T) {
	srv := Dynalite(t)
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %q is not on loopback", srv.Endpoint)
	}
	db := dynamodb.NewFromConfig(Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}

func TestGoawsRoutesAPublishedMessageToASubscribedQueue(t *testing.T) {
	ctx := context.Background()
	srv := Goaws(t)
	sqs := GoawsSQS{Endpoint: srv.Endpoint}
	queueURL, queueArn, err := sqs.CreateQueue(ctx, "routed")
	if err != nil {
		t.Fatal(err)
	}
	client := sns.NewFromConfig(Config(), func(o *sns.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String("hello")}); err != nil {
		t.Fatal(err)
	}
	msgs, err := sqs.Receive(ctx, queueURL, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Body != "hello" {
		t.Fatalf("queue holds %+v, want one message with body hello", msgs)
	}
}

func TestAMissingToolIsReportedWithTheCommandThatInstallsIt(t *testing.T) {
	t.Setenv(DynaliteTool.EnvVar, "/nonexistent/dynalite/cli.js")
	_, err := StartDynalite(context.Background())
	if !errors.Is(err, ErrToolMissing) {
		t.Fatalf("err = %v, want ErrToolMissing", err)
	}
	if !strings.Contains(err.Error(), "make tools") {
		t.Errorf("error %q does not name `make tools`", err)
	}
}

func TestStopEndsTheServer(t *testing.T) {
	srv, err := StartDynalite(context.Background())
	if errors.Is(err, ErrToolMissing) {
		SkipOrFail(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(Config(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(srv.Endpoint)
		o.RetryMaxAttempts = 1
	})
	if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("dynalite still answers after Stop")
	}
}

func TestCreateTableMakesAnActiveTableWithItsIndexes(t *testing.T) {
	srv := Dynalite(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	err := CreateTable(ctx, db, topology.Table{
		Name:    "things",
		Fields:  map[string]string{"id": "string", "owner": "string", "at": "number"},
		HashKey: "id",
		GlobalIndexes: []topology.Index{
			{Name: "ByOwner", HashKey: "owner", RangeKey: "at", Projection: "ALL"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("things")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Table.TableStatus != "ACTIVE" || len(out.Table.GlobalSecondaryIndexes) != 1 ||
		aws.ToString(out.Table.GlobalSecondaryIndexes[0].IndexName) != "ByOwner" {
		t.Fatalf("table %+v, want ACTIVE with index ByOwner", out.Table)
	}
}

func TestCreateTableLeavesATableKeptFromAnEarlierRunAsItIs(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	table := topology.Table{Name: "kept", HashKey: "id", Fields: map[string]string{"id": "string"}}
	for run := 1; run <= 2; run++ {
		srv, err := StartDynaliteWith(ctx, DynaliteOptions{DataDir: dir})
		if errors.Is(err, ErrToolMissing) {
			SkipOrFail(t, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		db := dynamodb.NewFromConfig(Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
		if err := CreateTable(ctx, db, table); err != nil {
			srv.Stop()
			t.Fatalf("run %d: %v", run, err)
		}
		if run == 1 {
			_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("kept"), Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "x"}}})
		} else {
			var out *dynamodb.GetItemOutput
			out, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("kept"), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "x"}}})
			if err == nil && out.Item == nil {
				t.Error("the item written in the first run is gone")
			}
		}
		if stopErr := srv.Stop(); err == nil {
			err = stopErr
		}
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	ports, err := FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p == 0 {
			t.Fatalf("ports %v are not 5 distinct ports", ports)
		}
		seen[p] = true
	}
	if len(seen) != 5 {
		t.Fatalf("got %d ports, want 5", len(seen))
	}
}

func TestWaitListeningStopsWhenTheServerExits(t *testing.T) {
	ports, err := FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	close(exited)
	err = WaitListening(context.Background(), "127.0.0.1:"+strconv.Itoa(ports[0]), exited, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Fatalf("err = %v, want the exit reported", err)
	}
}

func TestPathInLooksInTheGivenRepository(t *testing.T) {
	t.Setenv(DynaliteTool.EnvVar, "")
	root := t.TempDir()
	_, err := DynaliteTool.PathIn(root)
	if !errors.Is(err, ErrToolMissing) || !strings.Contains(err.Error(), filepath.Join(root, DynaliteTool.InRepo)) {
		t.Fatalf("err = %v, want the tool missing under %s", err, root)
	}
	want := filepath.Join(root, DynaliteTool.InRepo)
	if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := DynaliteTool.PathIn(root); err != nil || got != want {
		t.Fatalf("PathIn = %q, %v; want %q", got, err, want)
	}
}

// recordingDB keeps the CreateTable input and answers that the table is active.
type recordingDB struct{ in *dynamodb.CreateTableInput }

func (r *recordingDB) CreateTable(_ context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	r.in = in
	return &dynamodb.CreateTableOutput{}, nil
}

func (r *recordingDB) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableStatus: types.TableStatusActive}}, nil
}

// DynamoDB refuses a definition for an attribute no key uses; dynalite does not check.
func TestCreateTableDefinesOnlyTheAttributesKeysUse(t *testing.T) {
	db := &recordingDB{}
	err := CreateTable(context.Background(), db, topology.Table{
		Name:          "things",
		Fields:        map[string]string{"id": "string", "owner": "string", "at": "number", "note": "string"},
		HashKey:       "id",
		GlobalIndexes: []topology.Index{{Name: "ByOwner", HashKey: "owner", RangeKey: "at", Projection: "ALL"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range db.in.AttributeDefinitions {
		got = append(got, aws.ToString(d.AttributeName)+":"+string(d.AttributeType))
	}
	if want := "at:N id:S owner:S"; strings.Join(got, " ") != want {
		t.Errorf("attribute definitions %v, want %s", got, want)
	}
}

func TestCreateTableRefusesAnUnknownFieldType(t *testing.T) {
	err := CreateTable(context.Background(), nil, topology.Table{Name: "t", HashKey: "id", Fields: map[string]string{"id": "text"}})
	if err == nil || !strings.Contains(err.Error(), `"text"`) {
		t.Fatalf("err = %v, want one naming the type", err)
	}
}

func TestAFunctionAnswersInvocationsThroughTheRuntimeAPI(t *testing.T) {
	ctx := context.Background()
	f := StartBootstrap(t, BuildBootstrap(t, "./internal/localaws/testdata/echo"), nil)
	if f.InitDuration <= 0 {
		t.Errorf("InitDuration = %v, want the measured start-up time", f.InitDuration)
	}
	for _, tt := range []struct {
		event      string
		wantFailed bool
	}{{`{"n":1}`, false}, {`"fail"`, true}, {`{"n":2}`, false}} {
		res, err := f.Invoke(ctx, []byte(tt.event))
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed != tt.wantFailed || (!tt.wantFailed && string(res.Payload) != tt.event) {
			t.Fatalf("invoking with %s answered %+v (%s)", tt.event, res, res.Payload)
		}
	}
}

func TestAFunctionThatExitsDuringInitIsReportedWithItsOutput(t *testing.T) {
	exit, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false command on this machine")
	}
	_, err = StartFunction(context.Background(), exit, nil)
	if err == nil || !strings.Contains(err.Error(), "exited during initialisation") {
		t.Fatalf("err = %v, want the process reported as exited during initialisation", err)
	}
}
