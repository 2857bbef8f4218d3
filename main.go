// Command persona synthesizes the persona backend's stacks as Terraform JSON, one
// stack per stage, and runs the stage operations (secrets, deploy, dev, ...).
//
// With no arguments, or "synth", it writes cdktf.out/stacks/persona-<stage>/ for
// dev, staging and prod (or just $STAGE), which is also what `cdktf synth` runs.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"github.com/personabackend/app/backend"
	"github.com/personabackend/app/constructs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	if len(args) == 0 || args[0] == "synth" {
		os.Exit(synth(ctx, os.Stdout, os.Stderr))
	}
	fmt.Fprintf(os.Stderr, "unknown command %q: run `persona synth`\n", args[0])
	os.Exit(2)
}

// synth synthesizes the stages chosen by the environment and reports what it wrote.
func synth(ctx context.Context, stdout, stderr io.Writer) int {
	_, result, err := backend.Synth(ctx, backend.ConfigFromEnv())
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
		dir := s.Dir
		if rel, err := filepath.Rel(cwd, s.Dir); err == nil {
			dir = rel
		}
		fmt.Fprintf(tw, "  %s\t%d resources\t%s\n", s.Name, s.Resources, dir)
	}
	for _, f := range result.Functions {
		state := "up to date"
		if f.Rebuilt {
			state = fmt.Sprintf("built in %.1fs", f.Duration.Seconds())
		}
		fmt.Fprintf(tw, "  %s\t%.1f MB zipped\t%s\n", f.Package, float64(f.ZipBytes)/(1<<20), state)
	}
	tw.Flush()
}
