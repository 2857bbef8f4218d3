package localaws_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/personabackend/app/dynamo"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

func TestDynaliteAnswersDynamoDBCallsOnLoopback(t *testing.T) {
	srv := localawstest.Dynalite(t)
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %q is not on loopback", srv.Endpoint)
	}
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables: %v", err)
	}
}

func TestAMissingToolIsReportedWithTheCommandThatInstallsIt(t *testing.T) {
	t.Setenv(localaws.DynaliteTool.EnvVar, "/nonexistent/dynalite/cli.js")
	_, err := localawstest.StartDynalite(context.Background())
	if !errors.Is(err, localaws.ErrToolMissing) {
		t.Fatalf("err = %v, want localaws.ErrToolMissing", err)
	}
	if !strings.Contains(err.Error(), "make tools") {
		t.Errorf("error %q does not name `make tools`", err)
	}
}

func TestStopEndsTheServer(t *testing.T) {
	srv, err := localawstest.StartDynalite(context.Background())
	if errors.Is(err, localaws.ErrToolMissing) {
		localawstest.SkipOrFail(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(srv.Endpoint)
		o.RetryMaxAttempts = 1
	})
	if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("dynalite still answers after Stop")
	}
}

func TestCreateTableMakesAnActiveTableWithItsIndexes(t *testing.T) {
	srv := localawstest.Dynalite(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	err := localaws.CreateTable(ctx, db, "things", dynamo.Table{
		Fields:        map[string]dynamo.FieldType{"id": dynamo.String, "owner": dynamo.String, "at": dynamo.Number},
		PrimaryIndex:  dynamo.Index{HashKey: "id"},
		GlobalIndexes: map[string]dynamo.GlobalIndex{"ByOwner": {HashKey: "owner", RangeKey: "at"}},
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
	schema := dynamo.Table{Fields: map[string]dynamo.FieldType{"id": dynamo.String}, PrimaryIndex: dynamo.Index{HashKey: "id"}}
	for run := 1; run <= 2; run++ {
		srv, err := localaws.StartDynalite(ctx, localaws.DynaliteOptions{DataDir: dir})
		if errors.Is(err, localaws.ErrToolMissing) {
			localawstest.SkipOrFail(t, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
		if err := localaws.CreateTable(ctx, db, "kept", schema); err != nil {
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
		srv.Stop()
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
}

func TestATableKeptWithAnotherSchemaIsNamedWithItsDifferences(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	before := dynamo.Table{
		Fields:       map[string]dynamo.FieldType{"id": dynamo.String, "status": dynamo.String, "owner": dynamo.String},
		PrimaryIndex: dynamo.Index{HashKey: "id"},
		GlobalIndexes: map[string]dynamo.GlobalIndex{
			"StatusIndex": {HashKey: "status", Projection: dynamo.Projection{KeysOnly: true}},
			"OwnerIndex":  {HashKey: "owner"},
		},
	}
	after := dynamo.Table{
		Fields:       map[string]dynamo.FieldType{"id": dynamo.String, "status": dynamo.String, "updatedAt": dynamo.String, "createdAt": dynamo.String},
		PrimaryIndex: dynamo.Index{HashKey: "id"},
		GlobalIndexes: map[string]dynamo.GlobalIndex{
			"StatusIndex":  {HashKey: "status", RangeKey: "updatedAt", Projection: dynamo.Projection{KeysOnly: true}},
			"CreatedIndex": {HashKey: "createdAt", Projection: dynamo.Projection{Include: []string{"name"}}},
		},
	}
	var errs []error
	for _, schema := range []dynamo.Table{before, before, after} {
		srv, err := localaws.StartDynalite(ctx, localaws.DynaliteOptions{DataDir: dir})
		if errors.Is(err, localaws.ErrToolMissing) {
			localawstest.SkipOrFail(t, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
		errs = append(errs, localaws.CreateTable(ctx, db, "kept", schema))
		srv.Stop()
	}
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("creating the table, then finding it with the same schema: %v, %v", errs[0], errs[1])
	}
	var mismatch *localaws.SchemaMismatchError
	if !errors.As(errs[2], &mismatch) || mismatch.Table != "kept" {
		t.Fatalf("got %v, want a SchemaMismatchError for table kept", errs[2])
	}
	want := []string{
		"index CreatedIndex (hash createdAt (S), projecting INCLUDE name) is declared but missing",
		"index StatusIndex is declared hash status (S), range updatedAt (S), projecting KEYS_ONLY but is hash status (S), projecting KEYS_ONLY",
		"index OwnerIndex (hash owner (S), projecting ALL) is no longer declared",
	}
	if got := strings.Join(mismatch.Differences, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("differences:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestAKeptTableWithAnotherPrimaryKeyIsNamed(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var last error
	for _, schema := range []dynamo.Table{
		{Fields: map[string]dynamo.FieldType{"id": dynamo.String}, PrimaryIndex: dynamo.Index{HashKey: "id"}},
		{Fields: map[string]dynamo.FieldType{"id": dynamo.String, "at": dynamo.Number}, PrimaryIndex: dynamo.Index{HashKey: "id", RangeKey: "at"}},
	} {
		srv, err := localaws.StartDynalite(ctx, localaws.DynaliteOptions{DataDir: dir})
		if errors.Is(err, localaws.ErrToolMissing) {
			localawstest.SkipOrFail(t, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
		last = localaws.CreateTable(ctx, db, "kept", schema)
		srv.Stop()
	}
	if last == nil || !strings.Contains(last.Error(), "its primary key is declared hash id (S), range at (N) but is hash id (S)") {
		t.Errorf("got %v, want the primary key's difference named", last)
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	ports, err := localaws.FreePorts(5)
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
	ports, err := localaws.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	close(exited)
	err = localaws.WaitListening(context.Background(), "127.0.0.1:"+strconv.Itoa(ports[0]), exited, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Fatalf("err = %v, want the exit reported", err)
	}
}

func TestPathInLooksInTheGivenRepository(t *testing.T) {
	t.Setenv(localaws.DynaliteTool.EnvVar, "")
	root := t.TempDir()
	_, err := localaws.DynaliteTool.PathIn(root)
	if !errors.Is(err, localaws.ErrToolMissing) || !strings.Contains(err.Error(), filepath.Join(root, localaws.DynaliteTool.InRepo)) {
		t.Fatalf("err = %v, want the tool missing under %s", err, root)
	}
	want := filepath.Join(root, localaws.DynaliteTool.InRepo)
	if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := localaws.DynaliteTool.PathIn(root); err != nil || got != want {
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

func TestCreateTableDefinesExactlyTheKeyAttributes(t *testing.T) {
	db := &recordingDB{}
	err := localaws.CreateTable(context.Background(), db, "things", dynamo.Table{
		Fields:        map[string]dynamo.FieldType{"id": dynamo.String, "owner": dynamo.String, "at": dynamo.Number},
		PrimaryIndex:  dynamo.Index{HashKey: "id"},
		GlobalIndexes: map[string]dynamo.GlobalIndex{"ByOwner": {HashKey: "owner", RangeKey: "at", Projection: dynamo.Projection{Include: []string{"note"}}}},
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
	if p := db.in.GlobalSecondaryIndexes[0].Projection; p.ProjectionType != types.ProjectionTypeInclude || strings.Join(p.NonKeyAttributes, ",") != "note" {
		t.Errorf("projection = %+v, want INCLUDE of note", p)
	}
}

// DynamoDB refuses a definition for an attribute no key uses; dynalite does not check,
// so CreateTable does, as it refuses what else DynamoDB would.
func TestCreateTableRefusesASchemaDynamoDBWouldRefuse(t *testing.T) {
	for name, schema := range map[string]dynamo.Table{
		"a field no key uses": {Fields: map[string]dynamo.FieldType{"id": dynamo.String, "note": dynamo.String}, PrimaryIndex: dynamo.Index{HashKey: "id"}},
		"an unknown type":     {Fields: map[string]dynamo.FieldType{"id": "text"}, PrimaryIndex: dynamo.Index{HashKey: "id"}},
	} {
		if err := localaws.CreateTable(context.Background(), &recordingDB{}, "t", schema); err == nil || !strings.Contains(err.Error(), "table t:") {
			t.Errorf("%s: err = %v, want the schema refused naming the table", name, err)
		}
	}
}

// Between picking a free port and binding it, another process may take it: the server
// then exits, and what answers on the port is someone else.
func TestWaitListeningDoesNotTakeAnotherProcessForTheExitedServer(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	exited := make(chan struct{})
	close(exited)
	err = localaws.WaitListening(context.Background(), other.Addr().String(), exited, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "another process answers on its port") {
		t.Fatalf("err = %v, want the exit reported", err)
	}
}
