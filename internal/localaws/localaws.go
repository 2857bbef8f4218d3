// Package localaws runs local stand-ins for AWS services on free loopback ports: what
// the dev mode starts (dynalite with its tables kept on disk, CreateTable) and the
// process plumbing it shares with the test kit, package localawstest.
//
// Nothing here imports testing: the shipped binary links this package.
package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/internal/procgroup"
)

// ErrToolMissing means a local stand-in is not installed; `make tools` installs them.
// Every such error is a *ToolMissingError, which says which tool and how to get it.
var ErrToolMissing = errors.New("local AWS tool not installed")

// ToolMissingError says which local stand-in cannot run here, why, and what to do.
// errors.Is(err, ErrToolMissing) holds for it.
type ToolMissingError struct {
	Tool    string // what a person calls it, e.g. "moto"
	Problem string // why it cannot run, e.g. "python3 is not on PATH"
	Fix     string // what to do, e.g. "install it with pip install 'moto[server]'"
}

func (e *ToolMissingError) Error() string {
	return fmt.Sprintf("%s cannot run here (%s); %s", e.Tool, e.Problem, e.Fix)
}

// Is makes a ToolMissingError match ErrToolMissing.
func (e *ToolMissingError) Is(target error) bool { return target == ErrToolMissing }

// Tool names a local server binary and where to find it.
type Tool struct {
	Name   string // what a person calls it, e.g. "dynalite"
	EnvVar string // environment variable that overrides the path
	InRepo string // path relative to the repository root
}

// DynaliteTool is dynalite, DynamoDB on Node.js, installed by npm.
var DynaliteTool = Tool{Name: "dynalite", EnvVar: "DYNALITE_CLI", InRepo: "node_modules/dynalite/cli.js"}

// Path returns where the tool is installed: the environment override if set,
// else its place in the repository that contains the working directory.
func (tl Tool) Path() (string, error) {
	return tl.PathIn("")
}

// PathIn returns where the tool is installed: the environment override if set,
// else its place in the repository at root ("" for the one that contains the
// working directory).
func (tl Tool) PathIn(root string) (string, error) {
	if p := os.Getenv(tl.EnvVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", &ToolMissingError{Tool: tl.Name, Problem: fmt.Sprintf("%s=%s: %v", tl.EnvVar, p, errors.Unwrap(err)), Fix: "unset " + tl.EnvVar + " or run `make tools`"}
		}
		return p, nil
	}
	if root == "" {
		var err error
		if root, err = build.ModuleRoot("."); err != nil {
			return "", err
		}
	}
	p := filepath.Join(root, tl.InRepo)
	if _, err := os.Stat(p); err != nil {
		return "", &ToolMissingError{Tool: tl.Name, Problem: "not found at " + p, Fix: "install it with `make tools` or point " + tl.EnvVar + " at it"}
	}
	return p, nil
}

// Server is a running local server.
type Server struct {
	// Endpoint is the server's base URL, e.g. http://127.0.0.1:41234.
	Endpoint string
	Port     int

	cmd    *exec.Cmd
	output *Buffer
	done   chan struct{}
	front  *http.Server // what Front put in front of the server, if anything
}

// Output returns what the server has written to stdout and stderr so far.
func (s *Server) Output() string { return s.output.String() }

// Stop ends the server and waits for it to exit.
func (s *Server) Stop() {
	if s.front != nil {
		s.front.Close()
	}
	procgroup.Kill(s.cmd)
	<-s.done
}

// Front serves h on a free loopback port in front of the server: Endpoint and Port
// become h's, and Stop stops both. The test kit puts the DynamoDB proxy the dev mode
// runs in front of dynalite this way.
func (s *Server) Front(h http.Handler) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("serving in front of %s: %w", s.Endpoint, err)
	}
	s.front = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go s.front.Serve(l)
	s.Port = l.Addr().(*net.TCPAddr).Port
	s.Endpoint = "http://" + l.Addr().String()
	return nil
}

// DevStageDir is the dev mode's folder for stage in the module at root, where it keeps
// the stage's tables and, while it runs, the record of its local user pool.
func DevStageDir(root, stage string) string { return filepath.Join(root, ".dev", stage) }

// DynaliteOptions say where dynalite is found and where it keeps its tables.
type DynaliteOptions struct {
	// Root is the repository dynalite is installed in; default the one that contains
	// the working directory. The DYNALITE_CLI override comes first either way.
	Root string
	// DataDir, when set, keeps the tables on disk there across runs; otherwise they
	// live in memory and end with the server.
	DataDir string
}

// StartDynalite starts dynalite as opts say on a free loopback port; tables become
// ACTIVE as soon as they are created.
func StartDynalite(ctx context.Context, opts DynaliteOptions) (*Server, error) {
	cli, err := DynaliteTool.PathIn(opts.Root)
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, &ToolMissingError{Tool: DynaliteTool.Name, Problem: "node is not on PATH", Fix: "install Node.js 20"}
	}
	args := []string{cli, "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("dynalite: creating its data folder: %w", err)
		}
		args = append(args, "--path", opts.DataDir)
	}
	return StartServer(ctx, DynaliteTool.Name, func(port int) *exec.Cmd {
		return exec.Command(node, append(args, "--host", "127.0.0.1", "--port", strconv.Itoa(port))...)
	})
}

// serverStartLimit bounds a server's start. A server that exits is reported at once,
// so the limit only ends a hung start; it is generous because a busy machine (a test
// run starting many servers on two cores) can take tens of seconds to start node or
// Python.
const serverStartLimit = 2 * time.Minute

// StartServer starts the server that command makes for a free loopback port and
// returns once it accepts connections. Another process may take the port between
// picking and binding it, so it tries a few ports.
func StartServer(ctx context.Context, name string, command func(port int) *exec.Cmd) (*Server, error) {
	var lastErr error
	for range 3 {
		ports, err := FreePorts(1)
		if err != nil {
			return nil, err
		}
		srv, err := start(ctx, name, command(ports[0]), ports[0])
		if err == nil {
			return srv, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func start(ctx context.Context, name string, cmd *exec.Cmd, port int) (*Server, error) {
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	procgroup.Own(cmd, syscall.SIGKILL)
	srv := &Server{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		Port:     port,
		cmd:      cmd,
		output:   out,
		done:     make(chan struct{}),
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(srv.done)
	}()
	if err := WaitListening(ctx, "127.0.0.1:"+strconv.Itoa(port), srv.done, serverStartLimit); err != nil {
		srv.Stop()
		return nil, fmt.Errorf("%s on port %d: %w; its output:\n%s", name, port, err, out.String())
	}
	return srv, nil
}

// WaitListening waits until something accepts TCP connections at addr. It gives up
// when exited is closed (the server's process ended), when ctx ends, or after limit.
func WaitListening(ctx context.Context, addr string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			// Another process may have taken the port between picking and binding it:
			// then the server has exited, failing to bind, and what answered is not it.
			select {
			case <-exited:
				return errors.New("exited before listening (another process answers on its port)")
			default:
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening after %s", limit)
		}
		// A short pause: the Lambda emulator's start is on the path of a cold invoke.
		select {
		case <-exited:
			return errors.New("exited before listening")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// FreePorts returns n distinct loopback TCP ports that were free a moment ago.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	// All held open at once, so that no port is handed out twice.
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Config returns an AWS SDK configuration for local servers answering for region:
// static credentials, and nothing read from the developer's AWS profile.
// Clients take the endpoint through their BaseEndpoint option.
func Config(region string) aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
}

// Buffer collects output that one goroutine writes while others read it: a
// process's output, or a log under test.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
