package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"slices"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/cli/terraform"
)

var bootstrapStateCommand = command{
	name:    "bootstrap-state",
	args:    "--region REGION [--bucket NAME] [--lock-table NAME] [--yes]",
	summary: "Create the S3 bucket and lock table that keep the stages' Terraform state (once)",
	details: `Creates, once per AWS account, where stages keep their Terraform state: an S3 bucket
(versioned, encrypted, public access blocked, ACLs off, reachable over TLS only) and a
DynamoDB table that locks a stage's state while a run changes it (keyed by LockID,
on-demand, point-in-time recovery, deletion protection). Both are kept from destruction.
A protected stage (prod) deploys only with its state there.

It is done with Terraform: a small stack, planned and shown before anything is created,
applied once you type y (or with --yes, where no one can answer). That stack's own state
cannot live in the bucket it creates: it is a local file in .state/bootstrap/, needed
only to change the bucket and table later (README.md says what to do without it).
Running the command again changes nothing and prints the settings again.

At the end it prints the settings that make stages use the bucket and table:
  export STATE_BUCKET=...
  export STATE_LOCK_TABLE=...
  export STATE_REGION=...
Set them wherever you deploy (your shell profile, CI).

--bucket defaults to <app>-tfstate-<account id>-<region> (bucket names are global);
--lock-table to <app>-tfstate-lock.

Examples:
  PROGRAM bootstrap-state --region eu-west-1
  PROGRAM bootstrap-state --region eu-west-1 --bucket acme-tfstate --lock-table acme-tflock`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.bootstrapState(ctx, args) },
}

func (t *tool) bootstrapState(ctx context.Context, args []string) error {
	var backend StateBackend
	var yes bool
	if _, err := parseLine("bootstrap-state", args, noArgs, func(fs *flag.FlagSet) {
		fs.StringVar(&backend.Region, "region", "", "the region of the bucket and table")
		fs.StringVar(&backend.Bucket, "bucket", "", "the bucket's name")
		fs.StringVar(&backend.LockTable, "lock-table", "", "the lock table's name")
		fs.BoolVar(&yes, "yes", false, "apply the plan without asking")
	}); err != nil {
		return err
	}
	if backend.Region == "" {
		return usagef("--region is required: the region of the bucket and the lock table, normally the stages' own (for example --region us-east-1)")
	}
	line := fmt.Sprintf("%s bootstrap-state --region %s", Program, backend.Region)
	if backend.Bucket != "" {
		line += " --bucket " + backend.Bucket
	}
	if backend.LockTable != "" {
		line += " --lock-table " + backend.LockTable
	}
	c := consent{
		given:       yes,
		commandLine: line + " --yes",
		stopped:     "nothing was created",
		question:    "Apply this plan to the state backend? Only 'y' or 'yes' applies it: ",
		accept:      yesOrNo,
	}
	root, err := build.ModuleRoot(".")
	if err != nil {
		return err
	}
	bin, err := terraform.Find(root)
	if err != nil {
		return err
	}
	if err := t.needAWS(ctx); err != nil {
		return err
	}
	dir, err := t.project.SynthStateBackend(ctx, backend)
	if err != nil {
		return fmt.Errorf("synthesizing the state backend: %w", err)
	}
	run := &terraform.Runner{Bin: bin, Dir: dir, Stdout: t.stdout, Stderr: t.stderr, Color: isTerminal(t.stdout)}
	const subject = "the state backend"
	if err := run.Init(ctx); err != nil {
		return t.failed(ctx, "terraform init", subject, run, err)
	}
	if _, err := t.applyReviewed(ctx, run, review{subject: subject, consent: c}); err != nil {
		return err
	}
	outputs, err := run.Outputs(ctx)
	if err != nil {
		return t.failed(ctx, "reading the outputs", subject, run, err)
	}
	fmt.Fprintf(t.stdout, "\nThe state bucket and lock table are ready. Keep the stages' state there by setting, wherever you deploy (your shell profile, CI):\n")
	for _, name := range slices.Sorted(maps.Keys(outputs)) {
		var value string
		if err := json.Unmarshal(outputs[name].Value, &value); err != nil {
			return fmt.Errorf("output %s of the state backend is not a string: %w", name, err)
		}
		fmt.Fprintf(t.stdout, "    export %s=%s\n", name, value)
	}
	fmt.Fprintf(t.stdout, "A stage deployed before with its state in a local file needs it moved there first: see README.md, Running in production.\n")
	return nil
}
