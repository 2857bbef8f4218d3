package dev

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/dev/apigw"
	"github.com/personabackend/app/dev/lambdapool"
	"github.com/personabackend/app/dev/queues"
	"github.com/personabackend/app/dynamo"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/resource"
	"github.com/personabackend/app/topology"
	"github.com/personabackend/app/web"
)

func TestFunctionsGetTheirLinksWithLocalValues(t *testing.T) {
	stack := personaStack(t, "dev")
	b := queues.New("us-east-1", "http://127.0.0.1:4000")
	worker, _ := stack.Function("persona-dev-worker")
	creds := newCredentials()
	env, err := functionEnv(stack, worker, "http://127.0.0.1:4000", b, creds)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var table resource.Table
	if err := json.Unmarshal([]byte(vars["RESOURCE_PersonaTable"]), &table); err != nil || table.Name != "persona-dev-persona" || table.Kind != resource.KindTable {
		t.Errorf("RESOURCE_PersonaTable = %s", vars["RESOURCE_PersonaTable"])
	}
	var q resource.Queue
	if err := json.Unmarshal([]byte(vars["RESOURCE_PersonaQueue"]), &q); err != nil || q.URL != "http://127.0.0.1:4000/000000000000/persona-dev-persona.fifo" || !q.FIFO || q.MaxReceiveCount != maxReceives(t, stack) {
		t.Errorf("RESOURCE_PersonaQueue = %s", vars["RESOURCE_PersonaQueue"])
	}
	var sec resource.Secret
	if err := json.Unmarshal([]byte(vars["RESOURCE_MyApiKey"]), &sec); err != nil || sec.Parameter != "/persona/dev/MyApiKey" || sec.FallbackParameter != "/persona/_fallback/MyApiKey" {
		t.Errorf("RESOURCE_MyApiKey = %s", vars["RESOURCE_MyApiKey"])
	}
	want := map[string]string{
		"APP_NAME": "persona", "APP_STAGE": "dev", "AWS_REGION": "us-east-1",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4000", "AWS_ENDPOINT_URL_SNS": "http://127.0.0.1:4000",
		"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4000", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:4000",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey, "AWS_SESSION_TOKEN": creds.SessionToken,
	}
	for k, v := range want {
		if vars[k] != v {
			t.Errorf("%s = %q, want %q", k, vars[k], v)
		}
	}
	if _, ok := vars["RESOURCE_TaskTopic"]; ok {
		t.Error("the worker got a link it is not given in the stack")
	}
}

func TestAFunctionLinkingSomethingUndeclaredIsRefused(t *testing.T) {
	stack := personaStack(t, "dev")
	fn := stack.Functions[0]
	fn.Links = append(fn.Links, stack.Functions[0].Links[0])
	fn.Links[len(fn.Links)-1].Name = "Nope"
	_, err := functionEnv(stack, fn, "http://x", queues.New("us-east-1", "http://x"), newCredentials())
	if err == nil || !strings.Contains(err.Error(), `"Nope"`) {
		t.Errorf("got %v, want an error naming the link", err)
	}
}

func TestAMissingSecretStopsDevWithTheCommandThatSetsIt(t *testing.T) {
	_, err := Start(context.Background(), Options{Root: t.TempDir(), Program: "go run .", Port: -1, Secrets: mapSecrets{}}, personaStack(t, "dev"))
	if err == nil {
		t.Fatal("dev started without the MyApiKey secret")
	}
	for _, want := range []string{"stage dev is missing 1 secret(s)", "go run . secrets set MyApiKey --stage dev --store local"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestATakenPortIsNamed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = Start(context.Background(), Options{Root: t.TempDir(), Program: "go run .", Port: port, Secrets: mapSecrets{}}, personaStack(t, "dev"))
	if err == nil || !strings.Contains(err.Error(), "port "+strconv.Itoa(port)+" on 127.0.0.1 is taken") || !strings.Contains(err.Error(), "--port") {
		t.Errorf("got %v, want the taken port named with what to do", err)
	}
}

func TestARebuildFinishedWhileDevStopsIsClosedNotServed(t *testing.T) {
	tests := []struct {
		name     string
		closed   bool
		wantSwap bool // the new pool serves and stays open; otherwise it is closed
	}{
		{"a running session serves the new build and closes the old", false, true},
		{"a closing session closes the new build", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runCtx, cancel := context.WithCancel(context.Background())
			old := lambdapool.New(lambdapool.Config{Name: "f"})
			s := &Session{pools: map[string]*lambdapool.Pool{"f": old}, runCtx: runCtx, cancel: cancel}
			if tt.closed {
				s.Close()
			}
			pool := lambdapool.New(lambdapool.Config{Name: "f", Emulator: "/nonexistent/aws-lambda-rie"})
			if got := s.swapPool("f", pool); got != tt.wantSwap {
				t.Fatalf("swapPool = %v, want %v", got, tt.wantSwap)
			}
			s.wg.Wait()
			s.mu.RLock()
			serving := s.pools["f"] == pool
			s.mu.RUnlock()
			if serving != tt.wantSwap {
				t.Errorf("new build serving = %v, want %v", serving, tt.wantSwap)
			}
			if err := old.Warm(context.Background()); err == nil || !strings.Contains(err.Error(), "pool is closed") {
				t.Errorf("the replaced pool still starts processes: %v", err)
			}
			err := pool.Warm(context.Background())
			if closed := err != nil && strings.Contains(err.Error(), "pool is closed"); closed == tt.wantSwap {
				t.Errorf("new pool closed = %v, want %v (%v)", closed, !tt.wantSwap, err)
			}
			s.Close()
		})
	}
}

func TestATableKeptWithAnOlderSchemaStopsDevWithTheCommandThatStartsFresh(t *testing.T) {
	cli, err := localaws.DynaliteTool.Path()
	if err != nil {
		localawstest.SkipOrFail(t, err)
	}
	t.Setenv(localaws.DynaliteTool.EnvVar, cli)
	root := t.TempDir()
	table := func(index dynamo.GlobalIndex) []topology.Table {
		return []topology.Table{{Name: "things", Schema: dynamo.Table{
			Fields:        map[string]dynamo.FieldType{"id": dynamo.String, "status": dynamo.String, "updatedAt": dynamo.String},
			PrimaryIndex:  dynamo.Index{HashKey: "id", RangeKey: "updatedAt"},
			GlobalIndexes: map[string]dynamo.GlobalIndex{"StatusIndex": index},
		}}}
	}
	start := func(fresh bool, tables []topology.Table) error {
		s := &Session{opts: Options{Root: root, StateDir: localaws.DevStageDir(root, "local"), Program: "go run .", Fresh: fresh}, stack: &topology.Stack{Stage: "local", Region: "us-east-1", Tables: tables}}
		defer func() {
			for _, c := range s.closers {
				c()
			}
		}()
		return s.startDynamoDB(context.Background())
	}
	older := table(dynamo.GlobalIndex{HashKey: "status"})
	newer := table(dynamo.GlobalIndex{HashKey: "status", RangeKey: "updatedAt"})
	if err := start(false, older); err != nil {
		t.Fatal(err)
	}
	err = start(false, newer)
	for _, want := range []string{
		"table things, kept in .dev/local/dynamodb from an earlier run, has an older schema than stage local declares",
		"index StatusIndex is declared hash status (S), range updatedAt (S), projecting ALL but is hash status (S), projecting ALL",
		"`go run . dev --stage local --fresh` (the data kept there is lost)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to say %q", err, want)
		}
	}
	if err := start(true, newer); err != nil {
		t.Errorf("starting fresh: %v", err)
	}
}

// secretsAfter answers no secrets, once file exists.
type secretsAfter struct{ file string }

func (s secretsAfter) Get(ctx context.Context, _ []string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		if _, err := os.Stat(s.file); err == nil {
			return map[string]string{}, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the site build never started: %s does not exist", s.file)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestAStartThatFailsLeavesNoSiteBuildRunning(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		localawstest.SkipOrFail(t, err)
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "site"), 0o755); err != nil {
		t.Fatal(err)
	}
	started := filepath.Join(root, "build-started")
	stack := personaStack(t, "dev")
	// A build that says it has started, then runs for ten minutes; the missing secret
	// is found missing only once it runs, and fails the start.
	stack.Sites = []topology.Site{{ID: "Web", Name: "web", Build: &build.Site{
		Name: "slow", Dir: "site", Output: "out",
		Build: []string{"node", "-e", "require('fs').writeFileSync(process.argv[1], ''); setTimeout(() => {}, 600000)", started},
	}}}
	_, err := Start(context.Background(), Options{Root: root, Program: "go run .", Port: -1, WebPort: -1, Secrets: secretsAfter{started}, Log: io.Discard}, stack)
	if err == nil || !strings.Contains(err.Error(), "missing 1 secret") {
		t.Fatalf("got %v, want the start refused for the missing secret", err)
	}
	if left := processesUnder(root); len(left) > 0 {
		t.Errorf("processes still running after a failed start: %v", left)
	}
}

func TestWithoutMotoDevSaysOnceWhatIsMissingAndFallsBackToDevSignIn(t *testing.T) {
	t.Setenv(localaws.MotoPythonEnv, filepath.Join(t.TempDir(), "python3"))
	var log strings.Builder
	s := &Session{log: &logger{w: &log}, stack: &topology.Stack{Stage: "local", Region: "us-east-1", UserPools: []topology.UserPool{{Name: "persona-local-users"}}}}
	authorizer, err := s.startSignIn(context.Background())
	if err != nil {
		t.Fatalf("dev stopped instead of falling back to dev sign-in: %v", err)
	}
	if authorizer != apigw.DevTokens || s.SignIn != web.SignInDev || s.Cognito != nil {
		t.Errorf("authorizer %T, sign-in %q, pool %v; want dev tokens and no pool", authorizer, s.SignIn, s.Cognito)
	}
	said := strings.TrimSpace(log.String())
	if lines := strings.Count(said, "\n") + 1; lines != 1 {
		t.Errorf("dev said %d lines about it, want one:\n%s", lines, said)
	}
	for _, want := range []string{"moto cannot run here", "install it with " + localaws.MotoInstall, "falls back to dev sign-in"} {
		if strings.Count(said, want) != 1 {
			t.Errorf("dev said %q %d times, want once:\n%s", want, strings.Count(said, want), said)
		}
	}
	if strings.Contains(said, localaws.ErrToolMissing.Error()) || strings.Contains(said, "starting the local Cognito") {
		t.Errorf("dev repeats the error's wrapping:\n%s", said)
	}
}
