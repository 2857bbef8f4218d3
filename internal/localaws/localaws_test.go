package localaws

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
		t.Skip(err.Error())
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
