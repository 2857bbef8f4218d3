// Package dev runs a whole stage on this machine: local DynamoDB, SNS, SQS and SSM
// stand-ins, the real handler binaries under the Lambda emulator, an HTTP front door
// that speaks API Gateway's payload format, queue pollers, and rebuilds on source changes.
package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/dev/apigw"
	"github.com/personabackend/app/dev/lambdapool"
	"github.com/personabackend/app/dev/queues"
	"github.com/personabackend/app/dev/ssmlocal"
	"github.com/personabackend/app/internal/awsconfig"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/secretstore"
	"github.com/personabackend/app/topology"
)

// DefaultPort is where the local API listens unless told otherwise.
const DefaultPort = 3000

// Options configure a dev session.
type Options struct {
	// Root is the Go module root: functions are built from it and local state lives in
	// Root/.dev/<stage>. Required.
	Root string
	// Host and Port are where the local API listens; defaults 127.0.0.1 and DefaultPort.
	// Port -1 picks a free port (tests).
	Host string
	Port int
	// Fresh starts with empty tables instead of the data kept from the last run.
	Fresh bool
	// Secrets holds the stage's secret values; default the local store under Root/.secrets.
	Secrets secretstore.Getter
	// Program is how the user starts this tool, e.g. "go run .": the commands dev's
	// errors suggest start with it. Required.
	Program string
	// PoolSize is how many emulator processes each function may run at once; default 2.
	PoolSize int
	// Log receives the session's log: one line per invocation and the functions' output.
	// Default os.Stderr.
	Log io.Writer
}

// Session is a running stage.
type Session struct {
	// APIURL is the base URL of the local API, e.g. http://127.0.0.1:3000.
	APIURL string
	// AWSEndpoint serves SNS, SQS and SSM; DynamoDBEndpoint serves DynamoDB.
	AWSEndpoint      string
	DynamoDBEndpoint string

	stack  *topology.Stack
	opts   Options
	log    *logger
	broker *queues.Broker
	env    endpoints

	mu    sync.RWMutex
	pools map[string]*lambdapool.Pool

	runCtx  context.Context // ends when the session closes
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func()
	once    sync.Once
}

// Run starts the stage, serves it until ctx is done, then stops everything it started.
func Run(ctx context.Context, opts Options, stack *topology.Stack) error {
	s, err := Start(ctx, opts, stack)
	if err != nil && ctx.Err() != nil {
		// Interrupted while starting: what failed is only what the interrupt stopped.
		return fmt.Errorf("dev stopped before stage %s was ready: %w", stack.Stage, ctx.Err())
	}
	if err != nil {
		return err
	}
	<-ctx.Done()
	s.log.printf("stopping")
	s.Close()
	return nil
}

// Start starts the stage and returns once the API answers. Close stops it.
func Start(ctx context.Context, opts Options, stack *topology.Stack) (_ *Session, err error) {
	begin := time.Now()
	opts, stack, err = withDefaults(opts, stack)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Session{stack: stack, opts: opts, log: &logger{w: opts.Log}, pools: map[string]*lambdapool.Pool{}, runCtx: runCtx, cancel: cancel}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	// The API port first: a second dev on the same port stops here, before starting anything.
	apiListener, err := listenAPI(opts.Host, opts.Port)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { apiListener.Close() })
	s.APIURL = "http://" + apiListener.Addr().String()

	if err := checkSecrets(ctx, opts, stack); err != nil {
		return nil, err
	}
	// Fail on a missing emulator before spending time on builds.
	if _, err := lambdapool.EmulatorTool.PathIn(opts.Root); err != nil {
		return nil, err
	}
	bootstraps, sources, err := s.buildAndStartDynamoDB(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.startAWS(); err != nil {
		return nil, err
	}
	if err := s.startFunctions(ctx, bootstraps); err != nil {
		return nil, err
	}
	if err := s.startPollers(); err != nil {
		return nil, err
	}
	if err := s.watch(sources); err != nil {
		return nil, err
	}
	api, err := apigw.New(stack.Routes, s, s.logInvocation)
	if err != nil {
		return nil, err
	}
	s.serve(apiListener, api)
	s.log.printf("stage %s running in %s: API %s (%d routes, %d functions, %d queue pollers)",
		stack.Stage, time.Since(begin).Round(time.Millisecond), s.APIURL, len(stack.Routes), len(stack.Functions), len(stack.EventSources))
	s.logAuth()
	return s, nil
}

// logAuth says how to act as a user on authorized routes, with a token to paste.
func (s *Session) logAuth() {
	token, err := apigw.DevToken(map[string]any{"sub": "dev-user"})
	if err != nil {
		return
	}
	s.log.printf("dev-only auth: authorized routes take an unsigned token (alg none) whose sub is the user; deployed stages refuse these. As user dev-user:")
	s.log.printf("  curl -H 'Authorization: Bearer %s' %s/...", token, s.APIURL)
}

func withDefaults(opts Options, stack *topology.Stack) (Options, *topology.Stack, error) {
	if opts.Root == "" {
		return opts, nil, errors.New("dev: Options.Root (the module root) is required")
	}
	if opts.Program == "" {
		return opts, nil, errors.New("dev: Options.Program (how the user starts the tool) is required")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return opts, nil, fmt.Errorf("dev: %w", err)
	}
	opts.Root = root
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	if opts.PoolSize < 1 {
		opts.PoolSize = 2
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	if opts.Secrets == nil {
		opts.Secrets = secretstore.NewLocal(filepath.Join(root, secretstore.LocalDir))
	}
	if stack.Region == "" {
		st := *stack
		st.Region = awsconfig.DefaultRegion
		stack = &st
	}
	return opts, stack, nil
}

func (s *Session) stateDir() string { return filepath.Join(s.opts.Root, ".dev", s.stack.Stage) }

// buildAndStartDynamoDB builds every function and starts dynalite with the stack's
// tables, all at once: builds take longest. It returns each function's bootstrap by
// name and each package's source folders.
func (s *Session) buildAndStartDynamoDB(ctx context.Context) (map[string]string, map[string][]string, error) {
	builder := s.builder()
	for _, fn := range s.stack.Functions {
		builder.Start(ctx, fn.Package)
	}
	dbErr := s.startDynamoDB(ctx)
	bootstraps := map[string]string{}
	sources := map[string][]string{}
	var errs []error
	for _, fn := range s.stack.Functions {
		art, err := builder.Wait(ctx, fn.Package)
		if err != nil {
			errs = append(errs, fmt.Errorf("function %s: %w", fn.Name, err))
			continue
		}
		bootstraps[fn.Name] = art.Binary
		sources[fn.Package] = art.SourceDirs
	}
	if dbErr != nil {
		return nil, nil, dbErr
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return bootstraps, sources, nil
}

// builder builds functions for this machine, each package at most once; a rebuild
// takes a new one. Unchanged functions are found up to date without relinking.
func (s *Session) builder() *build.Builder {
	return build.NewBinaryBuilder(s.opts.Root, filepath.Join(s.opts.Root, ".dev", "build"), build.Host)
}

func (s *Session) startDynamoDB(ctx context.Context) error {
	dbDir := filepath.Join(s.stateDir(), "dynamodb")
	if s.opts.Fresh {
		if err := os.RemoveAll(dbDir); err != nil {
			return fmt.Errorf("clearing %s: %w", dbDir, err)
		}
	}
	db, err := localaws.StartDynalite(ctx, localaws.DynaliteOptions{Root: s.opts.Root, DataDir: dbDir})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, db.Stop)
	s.DynamoDBEndpoint = db.Endpoint
	client := dynamodb.NewFromConfig(s.awsConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(db.Endpoint) })
	// Tables kept from an earlier run are left as they are.
	for _, t := range s.stack.Tables {
		if err := localaws.CreateTable(ctx, client, t.Name, t.Schema); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) awsConfig() aws.Config {
	return aws.Config{Region: s.stack.Region, Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
}

// startAWS serves the local SNS, SQS and SSM on one loopback port.
func (s *Session) startAWS() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the local SNS/SQS/SSM server: %w", err)
	}
	s.AWSEndpoint = "http://" + l.Addr().String()
	s.broker = queues.New(s.stack.Region, s.AWSEndpoint)
	if err := s.broker.Load(s.stack); err != nil {
		l.Close()
		return err
	}
	ssm := ssmlocal.New(s.opts.Secrets, s.stack.Region)
	s.serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.") {
			ssm.ServeHTTP(w, r)
			return
		}
		s.broker.ServeHTTP(w, r)
	}))
	s.env = endpoints{dynamodb: s.DynamoDBEndpoint, aws: s.AWSEndpoint}
	return nil
}

// startFunctions starts each function's pool with one process running, so the first
// request does not wait for an emulator to start.
func (s *Session) startFunctions(ctx context.Context, bootstraps map[string]string) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(s.stack.Functions))
	for _, fn := range s.stack.Functions {
		pool, err := s.newPool(fn, bootstraps[fn.Name])
		if err != nil {
			return err
		}
		s.pools[fn.Name] = pool
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pool.Warm(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (s *Session) startPollers() error {
	client := sqs.NewFromConfig(s.awsConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(s.AWSEndpoint) })
	for _, src := range s.stack.EventSources {
		if _, ok := s.stack.Function(src.Function); !ok {
			return fmt.Errorf("event source %s feeds function %s, which the stack does not declare", src.Queue, src.Function)
		}
		p := &poller{
			source: src, queueURL: s.broker.QueueURL(src.Queue), queueARN: s.broker.QueueARN(src.Queue), region: s.stack.Region,
			client: client, invoke: s, logf: s.log.printf,
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			p.run(s.runCtx)
		}()
	}
	return nil
}

// watch rebuilds functions when their sources change.
func (s *Session) watch(sources map[string][]string) error {
	w, err := newWatcher()
	if err != nil {
		return fmt.Errorf("watching sources: %w", err)
	}
	s.closers = append(s.closers, func() { w.close() })
	for _, fn := range s.stack.Functions {
		if err := w.set(fn.Name, sources[fn.Package]); err != nil {
			return fmt.Errorf("watching the sources of %s: %w", fn.Name, err)
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		w.run(s.runCtx, func(fns []string) { s.rebuild(s.runCtx, w, fns) }, s.log.printf)
	}()
	return nil
}

// listenAPI takes the API's port, or says which port is taken and what to do.
func listenAPI(host string, port int) (net.Listener, error) {
	if port < 0 {
		port = 0
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("port %d on %s is taken (is another dev session running?): stop it, or pick another port with --port", port, host)
	}
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return l, nil
}

// checkSecrets refuses to start when a declared secret has no value for the stage, as deploy does.
func checkSecrets(ctx context.Context, opts Options, stack *topology.Stack) error {
	if len(stack.Secrets) == 0 {
		return nil
	}
	values, err := secretstore.Lookup(ctx, opts.Secrets, stack.Secrets)
	if err != nil {
		return fmt.Errorf("reading the local secrets: %w", err)
	}
	missing := secretstore.MissingNames(values)
	if len(missing) == 0 {
		return nil
	}
	// dev reads only the local store, hence --store local in the commands.
	return &secretstore.MissingError{
		Stage: stack.Stage, Names: missing, Store: "the local store (" + secretstore.LocalDir + "/)",
		Stopped: "dev was not started", Program: opts.Program, StoreFlag: "local",
	}
}

func (s *Session) serve(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(l)
	}()
	s.closers = append(s.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = srv.Close()
	})
}

func (s *Session) newPool(fn topology.Function, bootstrap string) (*lambdapool.Pool, error) {
	env, err := functionEnv(s.stack, fn, s.env, s.broker)
	if err != nil {
		return nil, err
	}
	emulator, err := lambdapool.EmulatorTool.PathIn(s.opts.Root)
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(fn.TimeoutSeconds) * time.Second
	return lambdapool.New(lambdapool.Config{
		Name: fn.Name, Emulator: emulator, Bootstrap: bootstrap, Env: env,
		Size: s.opts.PoolSize, Timeout: timeout, Log: s.log,
	}), nil
}

// Invoke runs the function named function with payload on its current pool.
// As in Lambda, an invoke runs to its end even when the caller stops waiting
// (an HTTP client hanging up); only closing the session cuts it short.
func (s *Session) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	s.mu.RLock()
	pool, ok := s.pools[function]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("function %s is not running in stage %s", function, s.stack.Stage)
	}
	ictx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	defer context.AfterFunc(s.runCtx, cancel)()
	return pool.Invoke(ictx, payload)
}

// rebuild builds the functions whose sources changed and swaps in their new code;
// a build that fails leaves the function running its last good build.
func (s *Session) rebuild(ctx context.Context, w *watcher, fns []string) {
	sort.Strings(fns)
	for _, name := range fns {
		fn, ok := s.stack.Function(name)
		if !ok {
			continue
		}
		begin := time.Now()
		art, err := s.builder().Wait(ctx, fn.Package)
		if err != nil {
			s.log.printf("%s: build failed, still serving the previous build:\n%v", fn.Name, err)
			continue
		}
		pool, err := s.newPool(fn, art.Binary)
		if err == nil {
			err = pool.Warm(ctx)
		}
		if err != nil {
			s.log.printf("%s: starting the new build: %v", fn.Name, err)
			continue
		}
		if !s.swapPool(fn.Name, pool) {
			return
		}
		s.log.printf("%s: rebuilt and reloaded in %s", fn.Name, time.Since(begin).Round(time.Millisecond))
		// The edit may have changed what the function imports.
		if err := w.set(fn.Name, art.SourceDirs); err != nil {
			s.log.printf("%s: watching its sources: %v", fn.Name, err)
		}
	}
}

// swapPool puts pool in service for the function named name and closes the pool it
// replaces. Once the session is closing it closes pool instead and reports false:
// Close has already taken the pools it stops and would never see this one.
func (s *Session) swapPool(name string, pool *lambdapool.Pool) bool {
	s.mu.Lock()
	if s.runCtx.Err() != nil {
		s.mu.Unlock()
		pool.Close()
		return false
	}
	old := s.pools[name]
	s.pools[name] = pool
	s.mu.Unlock()
	if old != nil {
		// Invokes already running on the old build finish there; Close waits for them.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			old.Close()
		}()
	}
	return true
}

func (s *Session) logInvocation(inv apigw.Invocation) {
	route := inv.RouteKey
	if route == "" {
		route = inv.Method + " " + inv.Path + " (no route)"
	}
	line := fmt.Sprintf("%s  %d  %s", route, inv.Status, inv.Duration.Round(10*time.Microsecond))
	if inv.Function != "" {
		line += "  " + inv.Function
	}
	if inv.Err != nil {
		line += "  " + inv.Err.Error()
	}
	s.log.printf("%s", line)
}

// QueueURL is the local URL of the queue named name, for SQS clients pointed at AWSEndpoint.
func (s *Session) QueueURL(name string) string { return s.broker.QueueURL(name) }

// Close stops everything the session started and waits for it to end.
func (s *Session) Close() {
	s.once.Do(func() {
		s.cancel()
		s.mu.Lock()
		pools := s.pools
		s.pools = map[string]*lambdapool.Pool{}
		s.mu.Unlock()
		var wg sync.WaitGroup
		for _, p := range pools {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.Close()
			}()
		}
		for i := len(s.closers) - 1; i >= 0; i-- {
			s.closers[i]()
		}
		wg.Wait()
		s.wg.Wait()
	})
}

// TopicARN is the local ARN of the topic named name, for SNS clients pointed at AWSEndpoint.
func (s *Session) TopicARN(name string) string { return s.broker.TopicARN(name) }
