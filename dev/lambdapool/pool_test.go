package lambdapool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

// echoPool builds testdata/echo for the host and starts a pool of size processes for it.
func echoPool(t *testing.T, size int, timeout time.Duration) (*Pool, *localaws.Buffer) {
	t.Helper()
	rie, err := EmulatorTool.Path()
	if errors.Is(err, localaws.ErrToolMissing) {
		localawstest.SkipOrFail(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bootstrap, "./testdata/echo")
	build.Env = append(os.Environ(), "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test handler: %v\n%s", err, out)
	}
	log := &localaws.Buffer{}
	p := New(Config{
		Name: "echo", Emulator: rie, Bootstrap: bootstrap, Size: size, Timeout: timeout, Log: log,
		Env: []string{"GREETING=hello", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1"},
	})
	t.Cleanup(p.Close)
	return p, log
}

type echoResponse struct {
	PID int    `json:"pid"`
	Env string `json:"env"`
}

// invoke calls the echo handler; it is safe to call from any goroutine.
func invoke(p *Pool, payload string) (echoResponse, error) {
	out, err := p.Invoke(context.Background(), []byte(payload))
	if err != nil {
		return echoResponse{}, err
	}
	var r echoResponse
	if err := json.Unmarshal(out, &r); err != nil {
		return echoResponse{}, fmt.Errorf("decoding %s: %w", out, err)
	}
	return r, nil
}

func TestInvokeRunsTheHandlerWithItsEnvironmentAndPrefixesItsOutput(t *testing.T) {
	p, log := echoPool(t, 1, 5*time.Second)
	r, err := invoke(p, `{"env":"GREETING","print":"working on it"}`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Env != "hello" {
		t.Errorf("handler saw GREETING=%q, want hello", r.Env)
	}
	if !strings.Contains(log.String(), "[echo] working on it\n") {
		t.Errorf("log = %q, want the handler's line prefixed with [echo]", log.String())
	}
	if strings.Contains(log.String(), "START RequestId") || strings.Contains(log.String(), "[INFO]") {
		t.Errorf("log carries the emulator's own chatter: %q", log.String())
	}
}

func TestInvokeReturnsTheHandlersErrorAsAFunctionError(t *testing.T) {
	p, _ := echoPool(t, 1, 5*time.Second)
	_, err := invoke(p, `{"fail":"no such persona"}`)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Message != "no such persona" {
		t.Fatalf("got %v, want a FunctionError saying no such persona", err)
	}
	if _, err := invoke(p, `{}`); err != nil {
		t.Errorf("the pool does not answer after a function error: %v", err)
	}
}

func TestConcurrentInvokesQueueForTheProcessesOfThePool(t *testing.T) {
	p, _ := echoPool(t, 2, 5*time.Second)
	const calls = 6
	var wg sync.WaitGroup
	pids := make(chan int, calls)
	errs := make(chan error, calls)
	begin := time.Now()
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := invoke(p, `{"sleepMs":200}`)
			if err != nil {
				errs <- err
				return
			}
			pids <- r.PID
		}()
	}
	wg.Wait()
	close(errs)
	close(pids)
	for err := range errs {
		t.Errorf("concurrent invoke failed: %v", err)
	}
	distinct := map[int]bool{}
	for pid := range pids {
		distinct[pid] = true
	}
	if len(distinct) > 2 {
		t.Errorf("%d processes served the invokes, want at most 2", len(distinct))
	}
	if took := time.Since(begin); took < 3*200*time.Millisecond {
		t.Errorf("6 invokes of 200 ms on 2 processes took %v: they did not queue", took)
	}
}

func TestATimedOutInvokeFailsAndThePoolRecovers(t *testing.T) {
	// The timeout leaves the invoke after it room to restart the handler on a busy machine.
	p, _ := echoPool(t, 1, 3*time.Second)
	_, err := invoke(p, `{"sleepMs":60000}`)
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" {
		t.Fatalf("got %v, want a timeout", err)
	}
	if _, err := invoke(p, `{}`); err != nil {
		t.Errorf("the pool does not answer after a timeout: %v", err)
	}
}

func TestCloseStopsEveryProcess(t *testing.T) {
	p, _ := echoPool(t, 2, 5*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var pids []int
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := invoke(p, `{"sleepMs":100}`)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			pids = append(pids, r.PID)
			mu.Unlock()
		}()
	}
	wg.Wait()
	p.Close()
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("handler process %d still runs after Close", pid)
		}
	}
	if _, err := p.Invoke(context.Background(), []byte(`{}`)); err == nil {
		t.Error("a closed pool accepted an invoke")
	}
}
