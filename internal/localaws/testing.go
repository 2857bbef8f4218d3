package localaws

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/personabackend/app/build"
)

// Dynalite starts dynalite for the test and stops it when the test ends.
// It skips the test, saying how to install dynalite, when it is missing.
func Dynalite(tb testing.TB) *Server {
	tb.Helper()
	return startForTest(tb, StartDynalite)
}

// Moto starts moto's server for the test and stops it when the test ends.
// It skips the test, saying how to install moto, when it is missing.
func Moto(tb testing.TB) *Server {
	tb.Helper()
	return startForTest(tb, StartMoto)
}

// Goaws starts goaws for the test and stops it when the test ends.
// It skips the test, saying how to install goaws, when it is missing.
func Goaws(tb testing.TB) *Server {
	tb.Helper()
	return startForTest(tb, StartGoaws)
}

func startForTest(tb testing.TB, start func(context.Context) (*Server, error)) *Server {
	tb.Helper()
	srv, err := start(context.Background())
	if errors.Is(err, ErrToolMissing) {
		SkipOrFail(tb, err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			tb.Errorf("stopping local server: %v", err)
		}
	})
	return srv
}

// SkipOrFail skips the test because err says something it needs is missing, or
// fails it when CI=true: a green CI run means every test ran.
func SkipOrFail(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true, so this test may not skip: %v", err)
	}
	tb.Skip(err.Error())
}

// BuildBootstrap builds the main package pkg (relative to the repository root, e.g.
// "./lambdas/list") for this machine, as Lambda's bootstrap is built, and returns its path.
func BuildBootstrap(tb testing.TB, pkg string) string {
	tb.Helper()
	root, err := build.ModuleRoot(".")
	if err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(tb.TempDir(), filepath.Base(pkg), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, pkg)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// StartBootstrap runs a built bootstrap for the test and stops it when the test ends.
func StartBootstrap(tb testing.TB, path string, env []string) *Function {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := StartFunction(ctx, path, env)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.Stop)
	return f
}

// BenchmarkInit reports a bootstrap's cold start, process start to its first
// request for an invocation, as ms-init/op.
func BenchmarkInit(b *testing.B, pkg string, env []string) {
	bin := BuildBootstrap(b, pkg)
	var total time.Duration
	for b.Loop() {
		fn, err := StartFunction(context.Background(), bin, env)
		if err != nil {
			b.Fatal(err)
		}
		total += fn.InitDuration
		fn.Stop()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-init/op")
}
