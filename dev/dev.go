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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/dev/apigw"
	"github.com/personabackend/app/dev/cognitolocal"
	"github.com/personabackend/app/dev/lambdapool"
	"github.com/personabackend/app/dev/queues"
	"github.com/personabackend/app/internal/awsconfig"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/secretstore"
	"github.com/personabackend/app/topology"
	"github.com/personabackend/app/web"
)

// DefaultPort is where the local API listens unless told otherwise.
const DefaultPort = 3000

// Options configure a dev session.
type Options struct {
	// Root is the Go module root, which functions are built from. Required.
	Root string
	// StateDir is where the stage's tables are kept between runs and, while the session
	// runs, the record of its local user pool, which the users command reads. Default
	// Root/.dev/<stage> (localaws.DevStageDir), where the users command looks; tests
	// give a temporary folder, so that they leave nothing in the module.
	StateDir string
	// Host and Port are where the local API listens; defaults 127.0.0.1 and DefaultPort.
	// Port -1 picks a free port (tests).
	Host string
	Port int
	// WebPort is where the stack's web app is served on Host; default DefaultWebPort,
	// -1 a free port (tests).
	WebPort int
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
	// Began is when the user's command started. The start-up line ("stage local running
	// in 5.1s") counts from it, so that it includes what the command did before Start,
	// such as declaring the stack. Default: when Start is called.
	Began time.Time
}

// Session is a running stage.
type Session struct {
	// APIURL is the base URL of the local API, e.g. http://127.0.0.1:3000.
	APIURL string
	// AWSEndpoint serves SNS, SQS, SSM and DynamoDB; DynamoDBEndpoint is the same.
	AWSEndpoint      string
	DynamoDBEndpoint string
	// WebURL is where the stack's web app is served, e.g. http://127.0.0.1:3002; empty
	// when the stack has no site.
	WebURL string
	// SignIn is how the web app signs in: with the local user pool (Cognito), or with
	// unsigned dev tokens when the stack has no pool or moto is missing.
	SignIn web.SignIn
	// Cognito is the local user pool, when one runs.
	Cognito *cognitolocal.Record

	stack    *topology.Stack
	opts     Options
	log      *logger
	broker   *queues.Broker
	access   *access
	dynalite string // dynalite's own endpoint, behind the DynamoDB proxy
	started  bool

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
	if s.access, err = newAccess(stack, s.log.printf); err != nil {
		return nil, err
	}

	// The API port first: a second dev on the same port stops here, before starting anything.
	apiListener, err := listen(opts.Host, opts.Port, "--port")
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { apiListener.Close() })
	s.APIURL = "http://" + apiListener.Addr().String()
	var webListener net.Listener
	siteBuilder := build.NewSiteBuilder(opts.Root, filepath.Join(opts.Root, ".build", "site"))
	if len(stack.Sites) > 0 {
		if webListener, err = listen(opts.Host, opts.WebPort, "--web-port"); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() { webListener.Close() })
		s.WebURL = "http://" + webListener.Addr().String()
		// The site builds (or is found up to date) while the functions build, for as
		// long as the session lives: Close stops the build and waits for it to end.
		if b := stack.Sites[0].Build; b != nil {
			site := *b
			siteBuilder.Start(s.runCtx, site)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				_, _ = siteBuilder.Wait(context.Background(), site)
			}()
		}
	}

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
	authorizer, err := s.startSignIn(ctx)
	if err != nil {
		return nil, err
	}
	api, err := apigw.New(stack.Routes, s, s.logInvocation)
	if err != nil {
		return nil, err
	}
	api.UseAuthorizer(authorizer)
	if stack.CORS != nil {
		s.serve(apiListener, s.cors().Handler(api))
	} else {
		s.serve(apiListener, api)
	}
	if webListener != nil {
		if err := s.startSite(ctx, siteBuilder, stack.Sites[0], webListener); err != nil {
			return nil, err
		}
	}
	s.log.printf("stage %s running in %s: API %s (%s, %s, %s); each function may do only what its IAM policy allows",
		stack.Stage, time.Since(opts.Began).Round(time.Millisecond), s.APIURL,
		count(len(stack.Routes), "route"), count(len(stack.Functions), "function"), count(len(stack.EventSources), "queue poller"))
	s.logAuth()
	s.started = true
	return s, nil
}

// count says how many of a thing there are: "1 route", "3 routes".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// logAuth says where the web app is and how to act as a user on authorized routes.
func (s *Session) logAuth() {
	if s.Cognito != nil {
		if s.WebURL != "" {
			s.log.printf("web app: %s", s.WebURL)
		}
		s.log.printf("sign-in: the local user pool %s (moto's Cognito; it takes any password at sign-in, and its users last until dev stops). Add a user in another terminal:", s.Cognito.PoolID)
		s.log.printf("  %s users add you@example.com --stage %s", s.opts.Program, s.stack.Stage)
		return
	}
	if s.WebURL != "" {
		s.log.printf("web app: %s (dev sign-in mode: any user name)", s.WebURL)
	}
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
	if opts.WebPort == 0 {
		opts.WebPort = DefaultWebPort
	}
	if opts.PoolSize < 1 {
		opts.PoolSize = 2
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	if opts.StateDir == "" {
		opts.StateDir = localaws.DevStageDir(root, stack.Stage)
	}
	if opts.StateDir, err = filepath.Abs(opts.StateDir); err != nil {
		return opts, nil, fmt.Errorf("dev: %w", err)
	}
	if opts.Began.IsZero() {
		opts.Began = time.Now()
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

// listen takes a port, or says which port is taken and which flag picks another.
func listen(host string, port int, flag string) (net.Listener, error) {
	if port < 0 {
		port = 0
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("port %d on %s is taken (is another dev session running?): stop it, or pick another port with %s", port, host, flag)
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
		s.reportUnused()
	})
}

// reportUnused prints, per function, what its links grant that no call used this
// session: a hint that a link's access is wider than the function needs.
func (s *Session) reportUnused() {
	if !s.started {
		return
	}
	unused, idle := s.access.unusedReport()
	if len(unused) == 0 {
		s.log.printf("every function dev invokes used every permission its links grant")
	} else {
		s.log.printf("granted but never used this session (narrow the link's access if the function never needs them):")
		for _, line := range unused {
			s.log.printf("  %s", line)
		}
	}
	if len(idle) > 0 {
		s.log.printf("not reported, as nothing invokes them in dev (no route or queue; dev runs no schedules): %s", strings.Join(idle, ", "))
	}
}

// TopicARN is the local ARN of the topic named name, for SNS clients pointed at AWSEndpoint.
func (s *Session) TopicARN(name string) string { return s.broker.TopicARN(name) }
