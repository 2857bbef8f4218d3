package dev

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/personabackend/app/backend"
	"github.com/personabackend/app/build"
	"github.com/personabackend/app/constructs"
	"github.com/personabackend/app/dev/apigw"
	"github.com/personabackend/app/dev/lambdapool"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/topology"
)

// The packages the end-to-end stack runs: the persona handlers (the sweep is built and
// warmed, though the dev mode runs no schedule) and two small handlers, one the tests
// edit and one that tries a write its link does not allow.
var e2ePackages = []string{"./lambdas/list", "./lambdas/get", "./lambdas/request", "./lambdas/worker", "./lambdas/sweep", "./dev/testdata/hello", "./dev/testdata/readonly"}

// testStages are the stages the tests run; their topologies are declared together, in
// one jsii runtime, which is closed once they are read.
var testStages = []string{"dev", "e2e", "bench", "reload", "first"}

var declared struct {
	once   sync.Once
	stacks map[string]*topology.Stack
	err    error
}

// personaStack is the persona stack as the constructs declare it for stage, policies
// and all, with two changes for the tests: the persona queue's visibility timeout is
// 2 s instead of six times the worker's timeout, so that a failing message reaches the
// dead-letter queue within seconds; and two more functions: hello (GET /hello), which
// the tests edit, and readonly (GET /readonly), linked to the persona table with read
// access as the constructs grant it.
func personaStack(t testing.TB, stage string) *topology.Stack {
	t.Helper()
	declared.once.Do(func() {
		declared.stacks = map[string]*topology.Stack{}
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
		defer constructs.Close()
		for _, name := range testStages {
			stack, err := backend.Topology(context.Background(), backend.Config{Region: "us-east-1"}, name)
			if err != nil {
				declared.err = fmt.Errorf("declaring stage %s (the constructs need Node.js): %w", name, err)
				return
			}
			declared.stacks[name] = stack
		}
	})
	if declared.err != nil {
		if _, err := exec.LookPath("node"); err != nil {
			localawstest.SkipOrFail(t, declared.err)
		}
		t.Fatal(declared.err)
	}
	base, ok := declared.stacks[stage]
	if !ok {
		t.Fatalf("stage %s is not one of testStages", stage)
	}
	data, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	var stack topology.Stack
	if err := json.Unmarshal(data, &stack); err != nil {
		t.Fatal(err)
	}
	// These tests act as users with dev tokens and run the backend alone: the web app,
	// its site and its sign-in against the local user pool are tested in web/e2e.
	stack.Sites, stack.UserPools = nil, nil
	name := func(s string) string { return "persona-" + stage + "-" + s }
	role := func(s string) string { return "persona-" + stage + "-" + stack.Region + "-" + s }
	for i, q := range stack.Queues {
		if q.LinkName == persona.QueueLink {
			stack.Queues[i].VisibilityTimeoutSeconds = 2
		}
	}
	var readTable []topology.Statement
	for _, g := range stack.Grants {
		if g.Link == persona.TableLink && g.Access == "read" {
			readTable = g.Statements
		}
	}
	stack.Functions = append(stack.Functions,
		topology.Function{Name: name("hello"), Role: role("hello"), Package: "./dev/testdata/hello", MemoryMB: 128, TimeoutSeconds: 5},
		topology.Function{Name: name("readonly"), Role: role("readonly"), Package: "./dev/testdata/readonly", MemoryMB: 128, TimeoutSeconds: 5,
			Links: []topology.Link{{Name: persona.TableLink, Access: "read"}}, Policy: readTable},
	)
	stack.Routes = append(stack.Routes,
		topology.Route{RouteKey: "GET /hello", Function: name("hello")},
		topology.Route{RouteKey: "GET /readonly", Function: name("readonly")},
	)
	return &stack
}

// maxReceives is the persona queue's receive limit before the dead-letter queue.
func maxReceives(t testing.TB, stack *topology.Stack) int {
	t.Helper()
	for _, q := range stack.Queues {
		if q.LinkName == persona.QueueLink {
			return q.MaxReceiveCount
		}
	}
	t.Fatal("the stack has no persona queue")
	return 0
}

type mapSecrets map[string]string

func (m mapSecrets) Get(_ context.Context, names []string) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range names {
		if v, ok := m[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}

// requireTools skips the test (fails it in CI) when the local stand-ins are not installed, and points
// their environment overrides at this repository's copies, since the tests run the
// stage from a copy of the module elsewhere.
func requireTools(t testing.TB) {
	t.Helper()
	for _, tool := range []localaws.Tool{localaws.DynaliteTool, lambdapool.EmulatorTool} {
		p, err := tool.Path()
		if errors.Is(err, localaws.ErrToolMissing) {
			localawstest.SkipOrFail(t, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(tool.EnvVar, p)
	}
	if _, err := exec.LookPath("node"); err != nil {
		localawstest.SkipOrFail(t, fmt.Errorf("dynalite needs node on PATH; install Node.js 20: %w", err))
	}
}

// copyModule copies go.mod, go.sum and the module-local sources of pkgs into a fresh
// folder, so tests can edit handlers without touching the repository.
func copyModule(t testing.TB, pkgs ...string) string {
	t.Helper()
	root, err := build.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		copyFile(t, filepath.Join(root, f), filepath.Join(dst, f))
	}
	dirs := map[string]bool{}
	for _, pkg := range pkgs {
		sources, err := build.SourceDirs(context.Background(), root, pkg, build.Host)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range sources {
			dirs[d] = true
		}
	}
	for d := range dirs {
		rel, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		files, err := filepath.Glob(filepath.Join(d, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				copyFile(t, f, filepath.Join(dst, rel, filepath.Base(f)))
			}
		}
	}
	return dst
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

type client struct {
	t    testing.TB
	base string
}

func (c client) do(method, path, token, contentType, body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func devToken(t testing.TB, sub string) string {
	t.Helper()
	tok, err := apigw.DevToken(map[string]any{"sub": sub})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// startStage starts stage from root as a command that began at began would (zero: now),
// keeping the stage's state in a temporary folder.
func startStage(t testing.TB, root, stage string, log io.Writer, began time.Time) *Session {
	t.Helper()
	s, err := Start(context.Background(), Options{
		Root: root, StateDir: t.TempDir(), Program: "go run .", Port: -1, Fresh: true, Log: log, Began: began,
		Secrets: mapSecrets{"/persona/_fallback/MyApiKey": "test-signing-key"},
	}, personaStack(t, stage))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// settleLimit bounds what the tests wait for (a persona provisioned, a rebuild after an
// edit): generous, since a cold Go build on a busy two-core machine can take a minute;
// the tests poll, so they wait only as long as the work takes.
const settleLimit = 2 * time.Minute

func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDevRunsTheStageLikeAUserSeesIt(t *testing.T) {
	requireTools(t)
	root := copyModule(t, e2ePackages...)
	log := &localaws.Buffer{}
	defer func() {
		if t.Failed() || os.Getenv("DEV_TEST_LOG") != "" {
			t.Logf("dev log:\n%s", log.String())
		}
	}()
	// As if the command had spent an hour before starting dev (declaring the stack).
	s := startStage(t, root, "e2e", log, time.Now().Add(-time.Hour))
	api := client{t: t, base: s.APIURL}
	ada := devToken(t, "user-ada")

	t.Run("the start-up line counts what runs, from when the command began", func(t *testing.T) {
		if want := "(5 routes, 7 functions, 1 queue poller)"; !strings.Contains(log.String(), want) {
			t.Errorf("the log does not say %q", want)
		}
		line := regexp.MustCompile(`stage e2e running in (\S+):`).FindStringSubmatch(log.String())
		if line == nil {
			t.Fatal("the log has no start-up line")
		}
		if took, err := time.ParseDuration(line[1]); err != nil || took < time.Hour {
			t.Errorf("the start-up line says running in %s, want at least the hour since the command began", line[1])
		}
	})

	t.Run("requests without a token are refused and the log says why", func(t *testing.T) {
		if status, body := api.do("POST", "/personas", "", "application/json", `{}`); status != 401 || body != `{"message":"Unauthorized"}` {
			t.Errorf("got %d %s, want 401 Unauthorized", status, body)
		}
		if want := "POST /personas  401"; !strings.Contains(log.String(), want) || !strings.Contains(log.String(), "unauthorized: no Authorization header") {
			t.Errorf("the log does not say why the request was refused:\n%s", log.String())
		}
	})

	t.Run("bad requests get the handler's 4xx errors", func(t *testing.T) {
		tests := []struct {
			contentType, body string
			wantStatus        int
			wantText          string
		}{
			{"application/json", `{"name":"","instructions":"x"}`, 400, "name"},
			{"application/json", `not json`, 400, "not a valid persona"},
			{"text/plain", `{}`, 415, "Content-Type: application/json"},
		}
		for _, tt := range tests {
			status, body := api.do("POST", "/personas", ada, tt.contentType, tt.body)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantText) {
				t.Errorf("POST %s (%s): got %d %s, want %d mentioning %q", tt.body, tt.contentType, status, body, tt.wantStatus, tt.wantText)
			}
		}
		if status, _ := api.do("GET", "/personas?limit=0", ada, "", ""); status != 400 {
			t.Errorf("GET /personas?limit=0: got %d, want 400", status)
		}
	})

	t.Run("a requested persona becomes ready through the topic, queue and worker", func(t *testing.T) {
		status, body := api.do("POST", "/personas", ada, "application/json", `{"name":"Ada","instructions":"Answer like a mathematician."}`)
		if status != 202 {
			t.Fatalf("POST /personas: got %d %s, want 202", status, body)
		}
		var created persona.RequestResponse
		if err := json.Unmarshal([]byte(body), &created); err != nil {
			t.Fatal(err)
		}
		var last string
		eventually(t, settleLimit, "the persona did not become ready", func() bool {
			_, body := api.do("GET", "/personas", ada, "", "")
			last = body
			var list persona.ListResponse
			if json.Unmarshal([]byte(body), &list) != nil {
				return false
			}
			for _, p := range list.Personas {
				if p.ID == created.Persona.ID && p.Status == persona.StatusReady {
					return p.Profile != nil && p.Profile.Signature != ""
				}
			}
			return false
		})
		bob := devToken(t, "user-bob")
		if _, body := api.do("GET", "/personas", bob, "", ""); strings.Contains(body, created.Persona.ID) {
			t.Errorf("another user sees the persona: %s (last list for ada: %s)", body, last)
		}
		if status, body := api.do("GET", "/personas/"+created.Persona.ID, ada, "", ""); status != 200 || !strings.Contains(body, `"status":"ready"`) {
			t.Errorf("GET /personas/{personaId}: got %d %s, want the ready persona", status, body)
		}
		if status, _ := api.do("GET", "/personas/"+created.Persona.ID, bob, "", ""); status != 404 {
			t.Errorf("GET /personas/{personaId} as another user: got %d, want 404", status)
		}
	})

	t.Run("a message the worker fails reaches the dead-letter queue after the max receives", func(t *testing.T) {
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
		snsClient := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(s.AWSEndpoint) })
		sqsClient := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(s.AWSEndpoint) })
		_, err := snsClient.Publish(context.Background(), &sns.PublishInput{
			TopicArn:               aws.String(s.TopicARN("persona-e2e-tasks.fifo")),
			Message:                aws.String(`{"type":"persona.provision"}`),
			MessageGroupId:         aws.String("poison"),
			MessageDeduplicationId: aws.String("poison-1"),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{
				"queue": {DataType: aws.String("String"), StringValue: aws.String("persona")},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		var dead []sqstypes.Message
		eventually(t, settleLimit, "the failing message did not reach the dead-letter queue", func() bool {
			out, err := sqsClient.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(s.QueueURL("persona-e2e-persona-dlq.fifo")), MaxNumberOfMessages: 10,
			})
			if err != nil {
				t.Fatal(err)
			}
			dead = out.Messages
			return len(dead) > 0
		})
		if len(dead) != 1 || *dead[0].Body != `{"type":"persona.provision"}` {
			t.Errorf("dead-letter queue holds %v, want the failing message once", dead)
		}
		if n, want := strings.Count(log.String(), "queue persona-e2e-persona.fifo -> persona-e2e-worker  1 message, 1 failed"), maxReceives(t, s.stack); n != want {
			t.Errorf("the worker failed the message %d times, want %d", n, want)
		}
	})
	t.Run("a function's call its policy does not allow is denied as AWS denies it, and the log names the link that allows it", func(t *testing.T) {
		status, body := api.do("GET", "/readonly", "", "", "")
		table := "arn:aws:dynamodb:us-east-1:000000000000:table/persona-e2e-persona"
		want := "AccessDeniedException: User: arn:aws:sts::000000000000:assumed-role/persona-e2e-us-east-1-readonly/persona-e2e-readonly is not authorized to perform: dynamodb:PutItem on resource: " + table + " because no identity-based policy allows the dynamodb:PutItem action"
		if status != 500 || !strings.Contains(body, want) {
			t.Errorf("GET /readonly: got %d %s, want the write denied with %q", status, body, want)
		}
		logged := "persona-e2e-readonly: denied dynamodb:PutItem on " + table + ": linking PersonaTable with read-write access instead of read would allow it"
		if !strings.Contains(log.String(), logged) {
			t.Errorf("the log does not say %q", logged)
		}
	})

	t.Run("an edited handler answers without a restart", func(t *testing.T) {
		if status, body := api.do("GET", "/hello", "", "", ""); status != 200 || body != "hello v1" {
			t.Fatalf("GET /hello: %d %q", status, body)
		}
		file := filepath.Join(root, "dev", "testdata", "hello", "main.go")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		saved := time.Now()
		if err := os.WriteFile(file, bytes.Replace(src, []byte(`"hello v1"`), []byte(`"hello v2"`), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		eventually(t, settleLimit, "the edit was not picked up", func() bool {
			_, body := api.do("GET", "/hello", "", "", "")
			return body == "hello v2"
		})
		t.Logf("saved to new code answering: %s", time.Since(saved).Round(time.Millisecond))

		if err := os.WriteFile(file, []byte("package main\n\nfunc main() {"), 0o644); err != nil {
			t.Fatal(err)
		}
		eventually(t, settleLimit, "a broken edit was not reported", func() bool {
			return strings.Contains(log.String(), "persona-e2e-hello: build failed, still serving the previous build")
		})
		if status, body := api.do("GET", "/hello", "", "", ""); status != 200 || body != "hello v2" {
			t.Errorf("after a broken edit GET /hello = %d %q, want the last good build's answer", status, body)
		}
		if err := os.WriteFile(file, src, 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(log.String(), "persona-e2e-list: rebuilt") {
			t.Error("editing one handler rebuilt another")
		}
	})

	t.Run("a broken package that several functions use is reported once", func(t *testing.T) {
		broken := filepath.Join(root, "persona", "broken.go")
		if err := os.WriteFile(broken, []byte("package persona\n\nfunc broken() {"), 0o644); err != nil {
			t.Fatal(err)
		}
		const users = "persona-e2e-get, persona-e2e-list, persona-e2e-readonly, persona-e2e-request, persona-e2e-sweep, persona-e2e-worker: build failed"
		eventually(t, settleLimit, "the broken package was not reported", func() bool {
			return strings.Contains(log.String(), users)
		})
		if n := strings.Count(log.String(), "build failed"); n != 2 {
			t.Errorf("%d build failures logged, want the hello one before and one for the package:\n%s", n, log.String())
		}
		if err := os.Remove(broken); err != nil {
			t.Fatal(err)
		}
		eventually(t, settleLimit, "the functions were not reloaded once the package was fixed", func() bool {
			return strings.Contains(log.String(), "persona-e2e-worker: rebuilt and reloaded")
		})
	})

	t.Run("a second dev on the same port says which port is taken", func(t *testing.T) {
		port, err := strconv.Atoi(s.APIURL[strings.LastIndex(s.APIURL, ":")+1:])
		if err != nil {
			t.Fatal(err)
		}
		_, err = Start(context.Background(), Options{Root: root, Program: "go run .", Port: port, Secrets: mapSecrets{}, Log: io.Discard}, personaStack(t, "e2e"))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("port %d", port)) || !strings.Contains(err.Error(), "taken") {
			t.Errorf("got %v, want an error naming port %d as taken", err, port)
		}
	})

	t.Run("closing stops every process it started and names the grants never used", func(t *testing.T) {
		s.Close()
		if left := processesUnder(root); len(left) > 0 {
			t.Errorf("processes still running after Close: %v", left)
		}
		for _, want := range []string{
			"granted but never used this session",
			// The request function reads a persona back only for a retried Idempotency-Key.
			"persona-e2e-request: dynamodb:GetItem on table/persona-e2e-persona (link PersonaTable)",
			// Dev runs no schedules, so the sweep's grants are not held against it.
			"not reported, as nothing invokes them in dev (no route or queue; dev runs no schedules): persona-e2e-sweep",
		} {
			if !strings.Contains(log.String(), want) {
				t.Errorf("the log at close does not say %q", want)
			}
		}
	})

	stateDir := s.opts.StateDir
	t.Run("the stage's data is kept in the state folder it was given, not in the module", func(t *testing.T) {
		if _, err := os.Stat(filepath.Join(stateDir, "dynamodb")); err != nil {
			t.Errorf("the tables are not kept in the state folder: %v", err)
		}
		if _, err := os.Stat(filepath.Join(root, ".dev")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dev wrote into the module's .dev (%v)", err)
		}
	})

	t.Run("data outlives a restart unless fresh", func(t *testing.T) {
		for _, fresh := range []bool{false, true} {
			s, err := Start(context.Background(), Options{
				Root: root, StateDir: stateDir, Program: "go run .", Port: -1, Fresh: fresh, Log: log,
				Secrets: mapSecrets{"/persona/_fallback/MyApiKey": "test-signing-key"},
			}, personaStack(t, "e2e"))
			if err != nil {
				t.Fatal(err)
			}
			_, body := (client{t: t, base: s.APIURL}).do("GET", "/personas", ada, "", "")
			s.Close()
			var list persona.ListResponse
			if err := json.Unmarshal([]byte(body), &list); err != nil {
				t.Fatalf("GET /personas: %s", body)
			}
			if want := map[bool]int{false: 1, true: 0}[fresh]; len(list.Personas) != want {
				t.Errorf("after a restart with fresh=%v ada has %d personas, want %d", fresh, len(list.Personas), want)
			}
		}
	})
}
