// Command persona synthesizes the persona backend's stacks as Terraform JSON, one
// stack per stage, and runs the stage operations: secrets, deploy, diff, remove,
// outputs, state, and dev (the whole stage on this machine).
//
// With no arguments, or "synth", it writes cdktf.out/stacks/persona-<stage>/ for
// dev, staging and prod (or just $STAGE), which is also what `cdktf synth` runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/personabackend/app/backend"
	"github.com/personabackend/app/build"
	"github.com/personabackend/app/cli"
	"github.com/personabackend/app/cli/terraform"
	"github.com/personabackend/app/constructs"
	"github.com/personabackend/app/dev"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/topology"
)

// started is when this process started, but for the Go runtime's set-up of the
// packages main imports (tens of milliseconds): dev's start-up line counts from it.
var started = time.Now()

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"synth"}
	}
	verbs := []cli.Verb{
		{Name: "synth", Summary: "Write every stage's Terraform JSON to cdktf.out/ (STAGE=name for one)", Run: func(ctx context.Context, args []string) int {
			return synth(ctx, args, os.Stdout, os.Stderr)
		}},
		{Name: "dev", Summary: "Run a stage on this machine: local API, tables, queues and functions", Run: func(ctx context.Context, args []string) int {
			return runDev(ctx, args, os.Stderr)
		}},
		{Name: "dlq", Summary: "List a deployed stage's dead-lettered tasks with their personas; --redrive moves them back", Run: func(ctx context.Context, args []string) int {
			return runDLQ(ctx, args, os.Stdout, os.Stderr)
		}},
		{Name: "backfill-in-flight", Summary: "Once per stage: put personas left in flight before StatusIndex was sparse into it", Run: func(ctx context.Context, args []string) int {
			return runBackfill(ctx, args, os.Stdout, os.Stderr)
		}},
	}
	code := cli.Main(ctx, args, project{}, os.Stdin, os.Stdout, os.Stderr, verbs...)
	// os.Exit skips deferred calls: end jsii's Node process and remove its temporary folder first.
	constructs.Close()
	os.Exit(code)
}

// synth synthesizes the stages chosen by the environment and reports what it wrote.
func synth(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("synth", flag.ContinueOnError)
	flags.SetOutput(stderr)
	hcl := flags.Bool("hcl", false, "also write each stage as HCL to cdktf.out/hcl/persona-<stage>/cdk.tf")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run . synth [--hcl]\n\nWrites cdktf.out/stacks/persona-<stage>/ for dev, staging and prod, or only\nfor $STAGE when it is set (any other name is a personal stage with dev settings).\nNeeds no AWS credentials. Environment: STAGE; AWS_REGION (else the AWS profile's\nregion, else us-east-1); STATE_BUCKET, STATE_LOCK_TABLE and STATE_REGION (keep\nstate in S3; go run . bootstrap-state creates the bucket and table);\nAUTH_ISSUER and AUTH_AUDIENCE (trust your own identity provider instead of a\nCognito user pool per stage); CDKTF_OUTDIR; BUILD_CACHE_DIR.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg, err := backend.ConfigFromEnv(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "synth failed: %v\n", err)
		return 1
	}
	cfg.HCL = *hcl
	if cfg.HCL {
		if root, err := build.ModuleRoot("."); err == nil {
			cfg.Terraform, _ = terraform.Find(root)
		}
	}
	_, result, err := backend.Synth(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "synth failed: %v\n", err)
		return 1
	}
	printSynthResult(stdout, result)
	return 0
}

func printSynthResult(w io.Writer, result constructs.SynthResult) {
	rebuilt := 0
	for _, f := range result.Functions {
		if f.Rebuilt {
			rebuilt++
		}
	}
	fmt.Fprintf(w, "Synthesized %d stack(s) in %.1fs (%d function(s), %d rebuilt)\n",
		len(result.Stacks), result.Duration.Seconds(), len(result.Functions), rebuilt)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cwd, _ := os.Getwd()
	for _, s := range result.Stacks {
		fmt.Fprintf(tw, "  %s\t%d resources\t%s\n", s.Name, s.Resources, relative(cwd, s.Dir))
		if s.HCL != "" {
			fmt.Fprintf(tw, "  \tas HCL\t%s\n", relative(cwd, s.HCL))
		}
	}
	for _, f := range result.Functions {
		state := "up to date"
		if f.Rebuilt {
			state = fmt.Sprintf("built in %.1fs", f.Duration.Seconds())
		}
		fmt.Fprintf(tw, "  %s\t%.1f MB zipped\t%s\n", f.Package, float64(f.ZipBytes)/(1<<20), state)
	}
	for _, site := range result.Sites {
		dir := site.Dir
		if rel, err := filepath.Rel(cwd, site.Dir); err == nil {
			dir = rel
		}
		state := "static site"
		if b := site.Build; b != nil {
			dir, state = b.Name, "site up to date"
			if b.Rebuilt {
				state = fmt.Sprintf("site built in %.1fs", b.Duration.Seconds())
			}
		}
		fmt.Fprintf(tw, "  %s\t%d files, %.1f MB\t%s\n", dir, site.Files, float64(site.Bytes)/(1<<20), state)
	}
	tw.Flush()
	if result.HCLFormatter != "" {
		fmt.Fprintf(w, "HCL formatted by %s\n", result.HCLFormatter)
	}
}

func relative(base, path string) string {
	if rel, err := filepath.Rel(base, path); err == nil {
		return rel
	}
	return path
}

// runDev runs one stage on this machine until interrupted.
func runDev(ctx context.Context, args []string, stderr io.Writer) int {
	flags := flag.NewFlagSet("dev", flag.ContinueOnError)
	flags.SetOutput(stderr)
	stageDefault := os.Getenv("STAGE")
	if stageDefault == "" {
		stageDefault = "local"
	}
	stage := flags.String("stage", stageDefault, "the stage to run (its tables, functions and secrets)")
	port := flags.Int("port", dev.DefaultPort, "where the local API listens on 127.0.0.1")
	webPort := flags.Int("web-port", dev.DefaultWebPort, "where the web app is served on 127.0.0.1")
	fresh := flags.Bool("fresh", false, "start with empty tables instead of the data kept from the last run")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run . dev [--stage STAGE] [--port 3000] [--web-port 3002] [--fresh]\n\nRuns the stage offline: DynamoDB (dynalite), SNS and SQS stand-ins, every function\nunder the Lambda emulator, the HTTP API on 127.0.0.1:PORT, the web app on\n127.0.0.1:WEB-PORT, and the stage's user pool in moto's Cognito (add users with\ngo run . users add EMAIL --stage STAGE while dev runs; without moto, the web app\nsigns in with dev tokens). Secrets come from the local store (go run . secrets set\nNAME --stage STAGE --store local). Ctrl-C stops it.")
		fmt.Fprintln(stderr, "\nFlags:")
		cli.PrintFlags(stderr, flags)
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	root, err := build.ModuleRoot(".")
	if err != nil {
		fmt.Fprintf(stderr, "dev: %v\n", err)
		return 1
	}
	cfg, err := backend.ConfigFromEnv(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "dev: %v\n", err)
		return 1
	}
	topo, err := backend.Topology(ctx, cfg, *stage)
	// The topology is all dev needs of the constructs: free the runtime's memory for the session.
	constructs.Close()
	if err != nil {
		fmt.Fprintf(stderr, "dev: %v\n", err)
		return 1
	}
	if err := dev.Run(ctx, dev.Options{Root: root, Program: cli.Program, Port: *port, WebPort: *webPort, Fresh: *fresh, Log: stderr, Began: started}, topo); err != nil {
		fmt.Fprintf(stderr, "dev: %v\n", err)
		return 1
	}
	return 0
}

// project is the persona app as the stage operations see it.
type project struct{}

func (project) App() string { return backend.App }

func (project) Stage(name string) (cli.StageInfo, error) {
	s, err := constructs.LookupStage(name)
	if err != nil {
		return cli.StageInfo{}, err
	}
	return cli.StageInfo{Name: s.Name, Protected: s.Protected, Personal: s.Personal}, nil
}

func (project) Secrets(stage string) ([]topology.Secret, error) {
	return constructs.DeclareSecrets(backend.App, stage, persona.Secrets)
}

// Synth synthesizes the stage into a folder of its own, .build/stages/<stage>/, where
// terraform runs: cdktf.out/ holds what synth last wrote, and each synth removes the
// stacks it did not write, which must not happen to a stack terraform is running in.
func (project) Synth(ctx context.Context, stage string) (string, error) {
	cfg, err := backend.ConfigFromEnv(ctx)
	if err != nil {
		return "", err
	}
	root, err := build.ModuleRoot(".")
	if err != nil {
		return "", err
	}
	cfg.Stage = stage
	cfg.Outdir = filepath.Join(root, ".build", "stages", stage)
	_, result, err := backend.Synth(ctx, cfg)
	if err != nil {
		return "", err
	}
	return result.Stacks[0].Dir, nil
}

func (project) RequiresAWS() bool { return true }

// SynthStateBackend writes the state backend's stack to .build/state-backend/ and keeps
// its own state in .state/bootstrap/.
func (project) SynthStateBackend(ctx context.Context, b cli.StateBackend) (string, error) {
	root, err := build.ModuleRoot(".")
	if err != nil {
		return "", err
	}
	return backend.SynthStateBackend(ctx, backend.StateBackendProps{
		Region:    b.Region,
		Bucket:    b.Bucket,
		LockTable: b.LockTable,
		Outdir:    filepath.Join(root, ".build", "state-backend"),
		StateDir:  filepath.Join(root, ".state", "bootstrap"),
	})
}
