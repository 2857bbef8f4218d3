package localawstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/procgroup"
)

// Function is a Lambda handler binary (a bootstrap) running against a minimal
// Lambda Runtime API served here: invocations go to it one at a time, as Lambda does.
type Function struct {
	// InitDuration is the time from process start to the handler's first request
	// for an invocation: its cold-start initialisation.
	InitDuration time.Duration

	cmd      *exec.Cmd
	output   *localaws.Buffer
	exited   chan struct{}
	srv      *http.Server
	next     chan invocation
	ready    chan struct{}
	once     sync.Once
	mu       sync.Mutex
	pending  map[string]chan Result
	sequence int
}

// Result is what the handler answered to one invocation.
type Result struct {
	Payload []byte
	// Failed is set when the handler reported an error instead of a response.
	Failed bool
}

type invocation struct {
	id      string
	payload []byte
}

// StartFunction runs the bootstrap at path with the environment env added to the
// current one, and waits until it asks for its first invocation.
func StartFunction(ctx context.Context, path string, env []string) (*Function, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API: %w", err)
	}
	f := &Function{
		output:  &localaws.Buffer{},
		exited:  make(chan struct{}),
		next:    make(chan invocation),
		ready:   make(chan struct{}),
		pending: map[string]chan Result{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", f.serveNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", f.serveResult(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", f.serveResult(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(f.output, "init error reported: %s\n", body)
		w.WriteHeader(http.StatusAccepted)
	})
	f.srv = &http.Server{Handler: mux}
	go f.srv.Serve(ln)

	f.cmd = exec.Command(path)
	f.cmd.Env = append(append(os.Environ(), env...),
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME="+filepath.Base(filepath.Dir(path)),
	)
	f.cmd.Stdout, f.cmd.Stderr = f.output, f.output
	procgroup.Own(f.cmd, syscall.SIGKILL)
	start := time.Now()
	if err := f.cmd.Start(); err != nil {
		f.srv.Close()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	go func() {
		_ = f.cmd.Wait()
		close(f.exited)
	}()
	select {
	case <-f.ready:
		f.InitDuration = time.Since(start)
		return f, nil
	case <-f.exited:
		f.srv.Close()
		return nil, fmt.Errorf("%s exited during initialisation (%v); its output:\n%s", path, f.cmd.ProcessState, f.output.String())
	case <-ctx.Done():
		f.Stop()
		return nil, fmt.Errorf("%s did not become ready: %w", path, ctx.Err())
	}
}

// Output returns what the handler has written to stdout and stderr so far.
func (f *Function) Output() string { return f.output.String() }

// Invoke sends payload to the handler and waits for its answer.
func (f *Function) Invoke(ctx context.Context, payload []byte) (Result, error) {
	f.mu.Lock()
	f.sequence++
	id := "local-" + strconv.Itoa(f.sequence)
	done := make(chan Result, 1)
	f.pending[id] = done
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.pending, id)
		f.mu.Unlock()
	}()
	select {
	case f.next <- invocation{id: id, payload: payload}:
	case <-f.exited:
		return Result{}, errors.New("the handler process has exited")
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case res := <-done:
		return res, nil
	case <-f.exited:
		return Result{}, errors.New("the handler process exited during the invocation")
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Stop ends the handler process and the runtime API.
func (f *Function) Stop() {
	procgroup.Kill(f.cmd)
	<-f.exited
	f.srv.Close()
}

func (f *Function) serveNext(w http.ResponseWriter, r *http.Request) {
	f.once.Do(func() { close(f.ready) })
	select {
	case inv := <-f.next:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+Region+":000000000000:function:local")
		h.Set("Content-Type", "application/json")
		w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

func (f *Function) serveResult(failed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		done, ok := f.pending[r.PathValue("id")]
		f.mu.Unlock()
		if !ok {
			http.Error(w, "unknown invocation", http.StatusNotFound)
			return
		}
		done <- Result{Payload: body, Failed: failed}
		w.WriteHeader(http.StatusAccepted)
	}
}
