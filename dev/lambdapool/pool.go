// Package lambdapool runs a Lambda function's bootstrap under the AWS Lambda Runtime
// Interface Emulator, one invoke at a time per emulator process, with a few processes per function.
package lambdapool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/procgroup"
)

// invokePath is where the emulator accepts invocations.
const invokePath = "/2015-03-31/functions/function/invocations"

// emulatorStartLimit bounds an emulator's start; one that exits is reported at once.
// It is generous: on a busy machine (dev warming every function while builds run)
// a start can take many seconds, and failing it would fail the whole dev start.
const emulatorStartLimit = time.Minute

// Config describes one function's pool.
type Config struct {
	Name      string   // function name, used in logs and errors
	Emulator  string   // path of aws-lambda-rie
	Bootstrap string   // path of the function's bootstrap binary
	Env       []string // the function's whole environment, KEY=value
	Size      int      // most emulator processes at once; at least 1
	Timeout   time.Duration
	// Log receives the function's own output, one line at a time, prefixed with its name.
	// It must be safe for concurrent use.
	Log io.Writer
}

// FunctionError is an error the function returned or died of, as Lambda reports it.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Pool invokes one function, queueing invokes when all its processes are busy.
type Pool struct {
	cfg    Config
	client *http.Client
	idle   chan *process
	slots  chan struct{} // one token per process that may still be started

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // one count per running emulator process
}

// New returns a pool; processes start on the first invokes that need them.
func New(cfg Config) *Pool {
	if cfg.Size < 1 {
		cfg.Size = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	p := &Pool{
		cfg:    cfg,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Size, DisableCompression: true}},
		idle:   make(chan *process, cfg.Size),
		slots:  make(chan struct{}, cfg.Size),
	}
	for range cfg.Size {
		p.slots <- struct{}{}
	}
	return p
}

// Warm starts one process and runs no invoke, so the first request does not pay for the start.
func (p *Pool) Warm(ctx context.Context) error {
	proc, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	p.release(proc)
	return nil
}

// Invoke sends payload to the function and returns its response. A function error
// comes back as *FunctionError; the process that hit it is kept, as Lambda keeps
// the execution environment, unless the emulator itself failed.
func (p *Pool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	proc, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	out, err := p.invoke(ctx, proc, payload)
	if err != nil && !isFunctionError(err) {
		p.discard(proc)
		return nil, err
	}
	p.release(proc)
	return out, err
}

func isFunctionError(err error) bool {
	var fe *FunctionError
	return errors.As(err, &fe)
}

func (p *Pool) invoke(ctx context.Context, proc *process, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, proc.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoking %s: %w", p.cfg.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoking %s: reading the response: %w", p.cfg.Name, err)
	}
	// The emulator answers 200 for handler errors and timeouts and 502 when the
	// runtime dies; the body tells which.
	if bytes.HasPrefix(body, []byte("Task timed out after")) {
		return nil, &FunctionError{Type: "Sandbox.Timedout", Message: string(body)}
	}
	var fe struct {
		FunctionError
		StackTrace json.RawMessage `json:"stackTrace"`
	}
	if json.Unmarshal(body, &fe) == nil && fe.Type != "" && fe.Message != "" && onlyErrorKeys(body) {
		return nil, &fe.FunctionError
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &FunctionError{Type: "Runtime.Unknown", Message: fmt.Sprintf("emulator answered %s: %s", resp.Status, body)}
	}
	return body, nil
}

// onlyErrorKeys reports whether body is an object holding nothing but a Lambda error's keys,
// so that a handler's own result that happens to carry errorType is not taken for an error.
func onlyErrorKeys(body []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	for k := range m {
		switch k {
		case "errorType", "errorMessage", "stackTrace":
		default:
			return false
		}
	}
	return true
}

func (p *Pool) acquire(ctx context.Context) (*process, error) {
	// An idle process first; only then start another.
	select {
	case proc := <-p.idle:
		return proc, nil
	default:
	}
	select {
	case proc := <-p.idle:
		return proc, nil
	case <-p.slots:
		proc, err := p.start(ctx)
		if err != nil {
			p.slots <- struct{}{}
			return nil, err
		}
		return proc, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a free %s process: %w", p.cfg.Name, ctx.Err())
	}
}

func (p *Pool) release(proc *process) {
	// Deciding and queueing under the lock: Close drains the idle queue once it has
	// marked the pool closed, so nothing may join the queue after that.
	p.mu.Lock()
	if !p.closed {
		p.idle <- proc // never blocks: the queue holds as many as the pool may run
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.discard(proc)
}

// discard stops proc and frees its slot for a new process.
func (p *Pool) discard(proc *process) {
	proc.stop()
	p.slots <- struct{}{}
}

// Close stops idle processes now and busy ones as their invokes finish, and waits for all to exit.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	for {
		select {
		case proc := <-p.idle:
			p.discard(proc)
			continue
		default:
		}
		break
	}
	p.wg.Wait()
}

type process struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{}
}

func (proc *process) stop() {
	procgroup.Kill(proc.cmd)
	<-proc.done
}

func (p *Pool) start(ctx context.Context) (*process, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, fmt.Errorf("%s: pool is closed", p.cfg.Name)
	}
	p.mu.Unlock()
	var lastErr error
	// Another program may take a port between choosing and binding it: try a few.
	for range 3 {
		proc, err := p.startOnce(ctx)
		if err == nil {
			return proc, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func (p *Pool) startOnce(ctx context.Context) (*process, error) {
	ports, err := localaws.FreePorts(2)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(p.cfg.Emulator,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		p.cfg.Bootstrap)
	cmd.Dir = filepath.Dir(p.cfg.Bootstrap)
	cmd.Env = append(append([]string{}, p.cfg.Env...),
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(int((p.cfg.Timeout+time.Second-1)/time.Second)))
	// Should dev itself be killed, the emulator is told to stop (SIGTERM), and stops
	// its bootstrap.
	procgroup.Own(cmd, syscall.SIGTERM)
	// The function's stdout and stderr reach the emulator's stdout; the emulator's own
	// log goes to stderr, of which only errors are worth showing.
	cmd.Stdout = &lineWriter{prefix: "[" + p.cfg.Name + "] ", out: p.cfg.Log, skip: skipEmulatorLine}
	cmd.Stderr = &lineWriter{prefix: "[" + p.cfg.Name + "] ", out: p.cfg.Log, skip: func(l string) bool { return !strings.Contains(l, "[ERROR]") }}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the Lambda emulator for %s: %w", p.cfg.Name, err)
	}
	p.wg.Add(1)
	proc := &process{url: "http://" + addr + invokePath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(proc.done)
		p.wg.Done()
	}()
	if err := localaws.WaitListening(ctx, addr, proc.done, emulatorStartLimit); err != nil {
		proc.stop()
		return nil, fmt.Errorf("Lambda emulator for %s on %s: %w", p.cfg.Name, addr, err)
	}
	return proc, nil
}

// skipEmulatorLine drops the lines the emulator writes around each invoke;
// the dev log prints its own line per invoke.
func skipEmulatorLine(l string) bool {
	return strings.HasPrefix(l, "START RequestId:") || strings.HasPrefix(l, "END RequestId:") || strings.HasPrefix(l, "REPORT RequestId:")
}

// lineWriter writes complete lines to out with a prefix, dropping those skip selects.
type lineWriter struct {
	prefix string
	out    io.Writer
	skip   func(string) bool
	mu     sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if w.skip != nil && w.skip(line) {
			continue
		}
		fmt.Fprintf(w.out, "%s%s\n", w.prefix, line)
	}
	return len(b), nil
}
