// Package e2e drives the web app in headless Chromium against the dev mode: the
// persona stack as the constructs declare it, its site, its user pool in moto's
// Cognito, and users created through the users command.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/personabackend/app/backend"
	"github.com/personabackend/app/build"
	"github.com/personabackend/app/cli"
	"github.com/personabackend/app/constructs"
	"github.com/personabackend/app/dev"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/topology"
	"github.com/personabackend/app/web"
)

// stage is the personal stage the tests run in dev mode, apart from a developer's local one.
const stage = "webtest"

// stepTimeout bounds each step in the browser: generous, for a busy two-core machine.
const stepTimeout = 2 * time.Minute

// harness is one dev session serving the persona stack, shared by the tests and
// benchmarks of this package.
type harness struct {
	session *dev.Session
	log     *localaws.Buffer
}

// shared is the package's dev session, started by the first test that needs it.
var shared = &localawstest.Shared[*harness]{
	Start: startDev,
	Stop:  func(h *harness) { h.session.Close() },
}

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	// The local Cognito checks authenticator codes, as Cognito does.
	os.Setenv(totpVerifyEnv, "true")
	localawstest.Main(m, shared)
}

// devSession returns the package's dev session, starting it the first time; it skips
// the test (fails it with CI=true) when Chromium or moto is missing.
func devSession(tb testing.TB) *harness {
	tb.Helper()
	if _, err := chromium(); err != nil {
		localawstest.SkipOrFail(tb, err)
	}
	return shared.Get(tb)
}

func startDev(ctx context.Context) (*harness, error) {
	root, err := build.ModuleRoot(".")
	if err != nil {
		return nil, err
	}
	stack, err := backend.Topology(ctx, backend.Config{Region: "us-east-1"}, stage)
	// The topology is all this package declares: the jsii runtime is not needed again.
	constructs.Close()
	if err != nil {
		return nil, err
	}
	log := &localaws.Buffer{}
	s, err := dev.Start(ctx, dev.Options{
		Root: root, Program: cli.Program, Port: -1, WebPort: -1, Fresh: true, Log: log,
		Secrets: fixedSecrets{},
	}, stack)
	if err != nil {
		return nil, fmt.Errorf("starting dev: %w\n%s", err, log.String())
	}
	if s.SignIn != web.SignInCognito {
		s.Close()
		return nil, fmt.Errorf("dev runs without a local Cognito (moto is missing: %s), so the page cannot sign in as deployed: %w",
			localaws.MotoInstall, localaws.ErrToolMissing)
	}
	return &harness{session: s, log: log}, nil
}

// fixedSecrets gives every declared secret of the stack a value.
type fixedSecrets struct{}

func (f fixedSecrets) Get(_ context.Context, parameters []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range parameters {
		out[p] = "browser-test-value"
	}
	return out, nil
}

// chromium is Debian's Chromium, which CI installs.
func chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", errors.New("chromium is not installed: apt-get install -y chromium")
}

// browser starts a fresh headless Chromium (its own profile) and returns a tab.
func browser(tb testing.TB) context.Context {
	tb.Helper()
	path, err := chromium()
	if err != nil {
		localawstest.SkipOrFail(tb, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser, which lives as long as this run's context:
	// so no timeout here.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

var temporaryPassword = regexp.MustCompile(`(?m)^    (\S+)$`)

// addUser creates a user through the users command, as a developer would while dev
// runs, and returns the temporary password it printed.
func (h *harness) addUser(tb testing.TB, email string) string {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), []string{"users", "add", email, "--stage", stage, "--local"}, usersProject{}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		tb.Fatalf("users add %s: exit %d\n%s%s", email, code, stdout.String(), stderr.String())
	}
	m := temporaryPassword.FindStringSubmatch(stdout.String())
	if m == nil {
		tb.Fatalf("users add printed no temporary password:\n%s", stdout.String())
	}
	return m[1]
}

// usersProject is the persona app as the users command of the local pool needs it.
type usersProject struct{}

func (usersProject) App() string { return backend.App }

func (usersProject) Stage(name string) (cli.StageInfo, error) {
	s, err := constructs.LookupStage(name)
	if err != nil {
		return cli.StageInfo{}, err
	}
	return cli.StageInfo{Name: s.Name, Protected: s.Protected, Personal: s.Personal}, nil
}

func (usersProject) Secrets(string) ([]topology.Secret, error) { return nil, nil }

func (usersProject) Synth(context.Context, string) (string, error) {
	return "", errors.New("the users of a dev stage need no synth")
}

func (usersProject) RequiresAWS() bool { return false }

func (usersProject) SynthStateBackend(context.Context, cli.StateBackend) (string, error) {
	return "", errors.New("the users of a dev stage need no state backend")
}

// outputDir is where screenshots go: $TEST_OUTPUT_DIR, else testdata/out (ignored by git).
func outputDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("TEST_OUTPUT_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	dir, err := filepath.Abs(filepath.Join(dir, tb.Name()))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}
