// Package localawstest is the test kit for code that talks to AWS: it starts local
// servers (dynalite, moto) for a test and stops them when it ends, runs Lambda
// bootstraps against a minimal Runtime API, and fails instead of skipping a test whose
// server is missing when CI=true.
//
// Only tests import it; the shipped binary never links it (a test in the main package
// checks).
package localawstest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/dev/dynamoproxy"
	"github.com/personabackend/app/internal/localaws"
)

// Region is the region tests address the local servers in.
const Region = "us-east-1"

// Config returns an AWS SDK configuration for the local servers: static credentials
// in Region. Clients take the endpoint through their BaseEndpoint option.
func Config() aws.Config { return localaws.Config(Region) }

// StartDynalite starts an in-memory dynalite on a free loopback port behind the
// DynamoDB proxy the dev mode runs (package dynamoproxy), so tests see what DynamoDB
// refuses and dynalite alone would take, such as an empty string key; for a server
// shared by several tests. Dynalite starts one for a single test.
func StartDynalite(ctx context.Context) (*localaws.Server, error) {
	srv, err := localaws.StartDynalite(ctx, localaws.DynaliteOptions{})
	if err != nil {
		return nil, err
	}
	if err := srv.Front(dynamoproxy.New(srv.Endpoint, Region)); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv, nil
}

// Dynalite starts dynalite behind the DynamoDB proxy for the test and stops it when
// the test ends. Without dynalite it skips the test saying how to install it, or
// fails it in CI.
func Dynalite(tb testing.TB) *localaws.Server {
	tb.Helper()
	return startForTest(tb, StartDynalite)
}

// BareDynalite starts dynalite alone, without the proxy, for the test: what tests of
// the proxy, or of the stand-ins as dev assembles them, put their own proxy in front of.
func BareDynalite(tb testing.TB) *localaws.Server {
	tb.Helper()
	return startForTest(tb, func(ctx context.Context) (*localaws.Server, error) {
		return localaws.StartDynalite(ctx, localaws.DynaliteOptions{})
	})
}

// Moto starts moto's server for the test and stops it when the test ends.
// Without moto it skips the test saying how to install it, or fails it in CI.
func Moto(tb testing.TB) *localaws.Server {
	tb.Helper()
	return startForTest(tb, localaws.StartMoto)
}

func startForTest(tb testing.TB, start func(context.Context) (*localaws.Server, error)) *localaws.Server {
	tb.Helper()
	srv, err := start(context.Background())
	if errors.Is(err, localaws.ErrToolMissing) {
		SkipOrFail(tb, err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Stop)
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
// A bootstrap that exits is reported at once; one that never asks for an invocation
// fails the test after a limit generous enough for a busy machine.
func StartBootstrap(tb testing.TB, path string, env []string) *Function {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
