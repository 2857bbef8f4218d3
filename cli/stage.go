package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/cli/terraform"
	"github.com/personabackend/app/secretstore"
	"github.com/personabackend/app/topology"
)

var deployCommand = command{
	name:    "deploy",
	args:    "--stage STAGE [--yes] [--allow-destroy]",
	summary: "Deploy a stage and print its outputs (the API URL)",
	details: `Deploys one stage: checks that every declared secret has a value for it (its own, or
the fallback on an unprotected stage), synthesizes the stage's stack, runs terraform init
and apply in the stack's folder, and prints the stack's outputs.

If a secret is missing, nothing is deployed and the command that sets it is shown.
Secret values are looked for in SSM Parameter Store, where deployed functions read them,
whatever --store or $SECRETS_STORE the secrets commands use; only whether each is set is
asked, no value is read.

A protected stage (prod) is deployed in two steps. terraform plan saves a plan, the tool
shows it and sums it up (what is added, changed, destroyed, and every destroy or replace
by address), and applies exactly that plan once you type y at the terminal. Where no one
can answer (CI), --yes applies the saved plan without asking. Either way, a plan that
destroys or replaces a protected resource (prevent_destroy, deletion protection in AWS,
skip_destroy, or one whose block was removed) is refused unless --allow-destroy is given.
A protected stage's state must be in S3 (see bootstrap-state). Other stages deploy in
one step, and the two flags change nothing for them.

Examples:
  PROGRAM deploy --stage dev
  PROGRAM deploy --stage "$USER"       a personal stage
  PROGRAM deploy --stage prod          review the plan, then type y
  PROGRAM deploy --stage prod --yes    in CI`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.deploy(ctx, args) },
}

var diffCommand = command{
	name:    "diff",
	args:    "--stage STAGE",
	summary: "Show what deploy would change in a stage (terraform plan)",
	details: `Synthesizes the stage's stack and runs terraform plan: what deploy would create,
change and destroy, summed up as deploy sums up a protected stage's plan. Nothing is
changed.

Example:
  PROGRAM diff --stage staging`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.diff(ctx, args) },
}

var outputsCommand = command{
	name:    "outputs",
	args:    "--stage STAGE [--json]",
	summary: "Print a deployed stage's outputs",
	details: `Prints the outputs of a deployed stage (such as the API URL), one "name = value" per
line, or terraform's JSON with --json. Sensitive outputs are masked in the text form.
A stage with local state is read without AWS credentials and without terraform init.

Examples:
  PROGRAM outputs --stage dev
  PROGRAM outputs --stage dev --json`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.outputs(ctx, args) },
}

var removeCommand = command{
	name:    "remove",
	args:    "--stage STAGE [--force [--confirm STACK]]",
	summary: "Destroy every resource of a stage (a protected stage needs --force)",
	details: `Destroys the stage's resources with terraform destroy. Secret values are not removed
(see secrets remove).

A protected stage (prod) is refused unless --force is given. Even then, the tool first
lists what will be destroyed and what is kept, and goes on only once you type the
stage's stack name (such as persona-prod) at the terminal, or, where no one can answer
(CI), when --confirm gives that name. Protected resources are kept in AWS: those marked
prevent_destroy, those AWS itself refuses to delete (deletion protection) and those
Terraform leaves behind (skip_destroy). They are taken out of the stage's state first,
and the command says how to import them back.

Examples:
  PROGRAM remove --stage "$USER"
  PROGRAM remove --stage prod --force
  PROGRAM remove --stage prod --force --confirm persona-prod`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.remove(ctx, args) },
}

var stateCommand = command{
	name:    "state",
	args:    "--stage STAGE -- SUBCOMMAND [ARGS...]",
	summary: "Run a terraform state command on a stage's state",
	details: `Runs "terraform state SUBCOMMAND ARGS..." on the stage's own state. Put the terraform
arguments after --. With local state, list needs no AWS credentials and no terraform init;
other subcommands run terraform init first (it installs the provider), but need no credentials.

Examples:
  PROGRAM state --stage dev -- list
  PROGRAM state --stage dev -- show aws_dynamodb_table.persona_table
  PROGRAM state --stage dev -- rm -dry-run aws_sqs_queue.old`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.state(ctx, args) },
}

// stageArgs parses the command line of a stage operation: --stage, the flags that
// define adds (if any), and positional arguments within a. It returns the validated
// stage and the positional arguments.
func (t *tool) stageArgs(name string, args []string, a arity, define func(*flag.FlagSet)) (StageInfo, []string, error) {
	var stage string
	pos, err := parseLine(name, args, a, func(fs *flag.FlagSet) {
		fs.StringVar(&stage, "stage", "", "the stage")
		if define != nil {
			define(fs)
		}
	})
	if err != nil {
		return StageInfo{}, nil, err
	}
	info, err := t.stageFlag(stage)
	return info, pos, err
}

// stageRun is a stage whose stack is synthesized, ready for terraform.
type stageRun struct {
	info StageInfo
	tf   *terraform.Runner
}

// synthesize checks what a stage operation needs before anything runs (terraform,
// and AWS credentials when callsAWS), runs check, then synthesizes the stage.
func (t *tool) synthesize(ctx context.Context, info StageInfo, callsAWS bool, check func() error) (*stageRun, error) {
	root, err := build.ModuleRoot(".")
	if err != nil {
		return nil, err
	}
	bin, err := terraform.Find(root)
	if err != nil {
		return nil, err
	}
	if callsAWS {
		if err := t.needAWS(ctx); err != nil {
			return nil, err
		}
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, err
		}
	}
	dir, err := t.project.Synth(ctx, info.Name)
	if err != nil {
		return nil, fmt.Errorf("synthesizing stage %s: %w", info.Name, err)
	}
	return &stageRun{info: info, tf: &terraform.Runner{
		Bin: bin, Dir: dir, Stdout: t.stdout, Stderr: t.stderr, Color: isTerminal(t.stdout),
	}}, nil
}

// needAWS fails, saying how to configure them, when terraform will call AWS and no
// credentials are found.
func (t *tool) needAWS(ctx context.Context) error {
	if !t.project.RequiresAWS() {
		return nil
	}
	_, err := awsConfig(ctx)
	return err
}

// prepare synthesizes the stage and runs terraform init: what deploy, diff and remove
// need, which all call AWS. A protected stage must keep its state in S3, locked;
// stopped says what did not happen when it does not.
func (t *tool) prepare(ctx context.Context, info StageInfo, stopped string, check func() error) (*stageRun, error) {
	run, err := t.synthesize(ctx, info, true, check)
	if err != nil {
		return nil, err
	}
	if info.Protected {
		if err := requireRemoteState(run, stopped); err != nil {
			return nil, err
		}
	}
	return run, t.init(ctx, run)
}

// requireRemoteState fails, giving the settings that fix it, when a protected stage's
// state would be a file on this machine (lost with it, unlocked for others, and seen by
// no one else), or in S3 without a lock.
func requireRemoteState(run *stageRun, stopped string) error {
	config, err := terraform.ReadConfig(run.tf.Dir)
	if err != nil {
		return err
	}
	backend, err := config.Backend()
	if err != nil {
		return err
	}
	if !backend.Local() && backend.Locked {
		return nil
	}
	where := "in a local file, " + backend.StateFile
	if !backend.Local() {
		where = "in " + backend.Type + " without a lock table"
	}
	return fmt.Errorf("stage %s is protected, so its Terraform state must be in S3 with a DynamoDB lock table; it is set to be kept %s: %s. Set, wherever you run this (your shell, CI):\n"+
		"    export STATE_BUCKET=BUCKET\n"+
		"    export STATE_LOCK_TABLE=TABLE\n"+
		"    export STATE_REGION=REGION     (only if the bucket is in another region than the stage)\n"+
		"then run the command again. No bucket and table yet? Create them once per account (it prints the three settings, again on every later run):\n"+
		"    %s bootstrap-state --region REGION",
		run.info.Name, where, stopped, Program)
}

func (t *tool) init(ctx context.Context, run *stageRun) error {
	if err := run.tf.Init(ctx); err != nil {
		return t.failed(ctx, "terraform init", run.subject(), run.tf, err)
	}
	return nil
}

// subject names the stage in messages: "stage dev".
func (r *stageRun) subject() string { return "stage " + r.info.Name }

// localState returns the stage's state file when the stage keeps its state locally;
// it is read without terraform init, so neither providers nor credentials are needed.
// For a stage whose state is in S3 it checks credentials and runs terraform init instead.
func (t *tool) localState(ctx context.Context, run *stageRun) (*terraform.StateFile, error) {
	config, err := terraform.ReadConfig(run.tf.Dir)
	if err != nil {
		return nil, err
	}
	backend, err := config.Backend()
	if err != nil {
		return nil, err
	}
	if backend.Local() {
		return &terraform.StateFile{Bin: run.tf.Bin, Path: backend.StateFile, Stderr: t.stderr}, nil
	}
	if err := t.needAWS(ctx); err != nil {
		return nil, err
	}
	return nil, t.init(ctx, run)
}

// notDeployed says that a stage has nothing deployed, and how to deploy it.
func notDeployed(info StageInfo) error {
	return fmt.Errorf("stage %s is not deployed (deploy it with: %s deploy --stage %s)", info.Name, Program, info.Name)
}

// failed explains a failed terraform run on subject ("stage dev"), with the fix for a
// locked state.
func (t *tool) failed(ctx context.Context, what, subject string, tf *terraform.Runner, err error) error {
	var exit *terraform.ExitError
	if errors.As(err, &exit) {
		if id, locked := exit.LockID(); locked {
			advice := "Wait for that run to finish (a lock on a local state file ends with the process holding it), then run the command again."
			if id != "" {
				advice = fmt.Sprintf("Wait for that run to finish; if none is running (one was interrupted), unlock the state with:\n    %s -chdir=%s force-unlock %s",
					tf.Bin, tf.Dir, id)
			}
			return fmt.Errorf("%s for %s failed: %w\nThe state is locked by another terraform run. %s", what, subject, err, advice)
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s for %s was interrupted: %w", what, subject, err)
	}
	return fmt.Errorf("%s for %s failed: %w", what, subject, err)
}

func (t *tool) deploy(ctx context.Context, args []string) error {
	var yes, allowDestroy bool
	info, _, err := t.stageArgs("deploy", args, noArgs, func(fs *flag.FlagSet) {
		fs.BoolVar(&yes, "yes", false, "apply a protected stage's plan without asking (CI)")
		fs.BoolVar(&allowDestroy, "allow-destroy", false, "apply a protected stage's plan even though it destroys or replaces protected resources")
	})
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s deploy --stage %s", Program, info.Name)
	r := review{
		consent: consent{
			given:       yes,
			commandLine: line + " --yes",
			stopped:     "nothing was applied",
			question:    fmt.Sprintf("Apply this plan to stage %s? Only 'y' or 'yes' applies it: ", info.Name),
			accept:      yesOrNo,
		},
		allowDestroy: allowDestroy,
		allowLine:    line + " --allow-destroy",
	}
	if yes {
		r.allowLine += " --yes"
	}
	if info.Protected {
		// Before anything runs: a plan no one can approve is not worth making.
		if err := t.canConfirm(r.consent); err != nil {
			return fmt.Errorf("stage %s is protected: deploy shows its plan and applies it once you agree, but there is %w", info.Name, err)
		}
	}
	run, err := t.prepare(ctx, info, "nothing was deployed", func() error { return t.checkSecrets(ctx, info) })
	if err != nil {
		return err
	}
	changed := true
	if info.Protected {
		r.subject = run.subject()
		if changed, err = t.applyReviewed(ctx, run.tf, r); err != nil {
			return t.withImportHint(ctx, run, err)
		}
	} else if err := run.tf.Apply(ctx); err != nil {
		return t.withImportHint(ctx, run, t.failed(ctx, "deploy", run.subject(), run.tf, err))
	}
	outputs, err := run.tf.Outputs(ctx)
	if err != nil {
		return t.failed(ctx, "reading the outputs", run.subject(), run.tf, err)
	}
	if changed {
		fmt.Fprintf(t.stdout, "\nDeployed stage %s (stack %s-%s).\n", info.Name, t.project.App(), info.Name)
	} else {
		fmt.Fprintf(t.stdout, "\nStage %s (stack %s-%s) is up to date: nothing was applied.\n", info.Name, t.project.App(), info.Name)
	}
	printOutputs(t.stdout, outputs)
	if info.Personal {
		fmt.Fprintf(t.stdout, "This personal stage keeps running (and costing) until you remove it: %s remove --stage %s\n", Program, info.Name)
	}
	return nil
}

// review is how a plan is applied to something that must not change unseen: a protected
// stage, or the state backend.
type review struct {
	subject      string // "stage prod"
	consent      consent
	allowDestroy bool // --allow-destroy: guarded destroys and replaces may be applied
	// allowLine is the command line that allows guarded destroys; "" when none may be.
	allowLine string
}

// applyReviewed saves a plan, shows it and its summary, and applies exactly that plan once
// r.consent is given. It refuses a plan that destroys or replaces a protected resource
// unless r allows it. It reports whether anything was applied: not when the plan is empty.
func (t *tool) applyReviewed(ctx context.Context, tf *terraform.Runner, r review) (bool, error) {
	plan, file, err := t.savePlan(ctx, tf, r.subject)
	if file != "" {
		defer os.Remove(filepath.Join(tf.Dir, file))
	}
	if err != nil {
		return false, err
	}
	if plan.Empty() {
		return false, nil
	}
	if guarded := plan.Guarded(); len(guarded) > 0 && !r.allowDestroy {
		msg := fmt.Sprintf("the plan destroys or replaces %d protected resource(s) of %s, marked PROTECTED above: %s.", len(guarded), r.subject, r.consent.stopped)
		if r.allowLine == "" {
			return false, errors.New(msg)
		}
		return false, fmt.Errorf("%s If that is what you mean, run:\n    %s", msg, r.allowLine)
	}
	if err := t.confirm(ctx, r.consent); err != nil {
		return false, err
	}
	if err := tf.ApplyPlan(ctx, file); err != nil {
		return false, t.failed(ctx, "applying the plan", r.subject, tf, err)
	}
	return true, nil
}

// savePlan runs terraform plan into a new plan file in the stack's folder, and shows the
// plan and its summary. It returns the file's name (relative to the folder) for the caller
// to remove, also with an error.
func (t *tool) savePlan(ctx context.Context, tf *terraform.Runner, subject string) (terraform.Plan, string, error) {
	f, err := os.CreateTemp(tf.Dir, "*.tfplan")
	if err != nil {
		return terraform.Plan{}, "", fmt.Errorf("creating the plan file: %w", err)
	}
	f.Close()
	file := filepath.Base(f.Name())
	if err := tf.PlanFile(ctx, file); err != nil {
		return terraform.Plan{}, file, t.failed(ctx, "terraform plan", subject, tf, err)
	}
	plan, err := tf.ShowPlan(ctx, file)
	if err != nil {
		return terraform.Plan{}, file, t.failed(ctx, "reading the plan", subject, tf, err)
	}
	fmt.Fprintln(t.stdout)
	plan.WriteSummary(t.stdout)
	return plan, file, nil
}

// checkSecrets fails, naming the fix, when a declared secret has no value for the stage in
// SSM that its functions can read: deployed functions read SSM alone, so a value in the local
// store would not reach them, and a protected stage's functions cannot read the fallback.
// Only presence is checked: no value is read or decrypted.
func (t *tool) checkSecrets(ctx context.Context, info StageInfo) error {
	declared, err := t.stageSecrets(info)
	if err != nil {
		return err
	}
	if len(declared) == 0 {
		return nil
	}
	store, storeName, err := openStore(ctx, storeSSM)
	if err != nil {
		return err
	}
	values, err := secretstore.Sources(ctx, store, declared)
	if err != nil {
		return err
	}
	missing := secretstore.MissingNames(values)
	if len(missing) == 0 {
		return nil
	}
	return &secretstore.MissingError{
		Stage: info.Name, Names: missing, Store: storeName, Stopped: "nothing was deployed",
		Program: Program, StoreFlag: storeSSM, OwnValuesOnly: info.Protected,
	}
}

// stageSecrets returns a stage's declared secrets as its deployed functions read them. A
// protected stage's functions read their own values only (constructs.SecretSet grants them
// nothing on the fallback parameter), so for such a stage no fallback is named.
func (t *tool) stageSecrets(info StageInfo) ([]topology.Secret, error) {
	declared, err := t.project.Secrets(info.Name)
	if err != nil {
		return nil, fmt.Errorf("reading the declared secrets: %w", err)
	}
	if info.Protected {
		for i := range declared {
			declared[i].FallbackParameter = ""
		}
	}
	return declared, nil
}

func (t *tool) diff(ctx context.Context, args []string) error {
	info, _, err := t.stageArgs("diff", args, noArgs, nil)
	if err != nil {
		return err
	}
	run, err := t.prepare(ctx, info, "nothing was planned", nil)
	if err != nil {
		return err
	}
	_, file, err := t.savePlan(ctx, run.tf, run.subject())
	if file != "" {
		os.Remove(filepath.Join(run.tf.Dir, file))
	}
	return err
}

func (t *tool) outputs(ctx context.Context, args []string) error {
	var asJSON bool
	info, _, err := t.stageArgs("outputs", args, noArgs, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	outputs, err := t.readOutputs(ctx, info)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(t.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(outputs)
	}
	printOutputs(t.stdout, outputs)
	return nil
}

// readOutputs returns a deployed stage's outputs, or says that it is not deployed.
func (t *tool) readOutputs(ctx context.Context, info StageInfo) (map[string]terraform.Output, error) {
	run, err := t.synthesize(ctx, info, false, nil)
	if err != nil {
		return nil, err
	}
	state, err := t.localState(ctx, run)
	if err != nil {
		return nil, err
	}
	var outputs map[string]terraform.Output
	if state != nil {
		resources, err := state.Resources(ctx)
		if err != nil {
			return nil, t.failed(ctx, "reading the state", run.subject(), run.tf, err)
		}
		if len(resources) == 0 {
			return nil, notDeployed(info)
		}
		outputs, err = state.Outputs(ctx)
		if err != nil {
			return nil, t.failed(ctx, "reading the outputs", run.subject(), run.tf, err)
		}
		return outputs, nil
	}
	if outputs, err = run.tf.Outputs(ctx); err != nil {
		return nil, t.failed(ctx, "reading the outputs", run.subject(), run.tf, err)
	}
	if len(outputs) == 0 {
		return nil, notDeployed(info)
	}
	return outputs, nil
}

// printOutputs prints "name = value" lines, strings unquoted and sensitive values masked.
func printOutputs(w io.Writer, outputs map[string]terraform.Output) {
	for _, name := range slices.Sorted(maps.Keys(outputs)) {
		out := outputs[name]
		value := string(out.Value)
		var s string
		if json.Unmarshal(out.Value, &s) == nil {
			value = s
		}
		if out.Sensitive {
			value = "(sensitive: see outputs --json)"
		}
		fmt.Fprintf(w, "%s = %s\n", name, value)
	}
}

func (t *tool) remove(ctx context.Context, args []string) error {
	var force bool
	var confirmed string
	info, _, err := t.stageArgs("remove", args, noArgs, func(fs *flag.FlagSet) {
		fs.BoolVar(&force, "force", false, "remove a protected stage")
		fs.StringVar(&confirmed, "confirm", "", "a protected stage's stack name, agreeing to remove it without a terminal (CI)")
	})
	if err != nil {
		return err
	}
	stack := t.project.App() + "-" + info.Name
	line := fmt.Sprintf("%s remove --stage %s --force", Program, info.Name)
	if info.Protected && !force {
		return fmt.Errorf("stage %s is protected: nothing was removed. To destroy it anyway (its protected resources stay in AWS), run:\n    %s", info.Name, line)
	}
	if info.Protected && confirmed != "" && confirmed != stack {
		return fmt.Errorf("--confirm %s does not name stage %s's stack, %s: nothing was removed", confirmed, info.Name, stack)
	}
	agree := consent{
		given:       confirmed == stack,
		commandLine: line + " --confirm " + stack,
		stopped:     "nothing was removed",
		question:    fmt.Sprintf("To remove stage %s, type its stack's name, %s: ", info.Name, stack),
		accept:      exactly(stack),
	}
	if info.Protected {
		if err := t.canConfirm(agree); err != nil {
			return fmt.Errorf("stage %s is protected: removing it takes its stack's name typed at a terminal, and there is %w", info.Name, err)
		}
	}
	run, err := t.prepare(ctx, info, "nothing was removed", nil)
	if err != nil {
		return err
	}
	var kept []terraform.StateResource
	if info.Protected {
		var deployed bool
		if kept, deployed, err = t.reviewRemoval(ctx, run, agree); err != nil || !deployed {
			return err
		}
	}
	if err := run.tf.Destroy(ctx); err != nil {
		err = t.failed(ctx, "remove", run.subject(), run.tf, err)
		if len(kept) > 0 {
			err = fmt.Errorf("%w\n%s", err, keptMessage(run, kept))
		}
		return err
	}
	fmt.Fprintf(t.stdout, "\nRemoved stage %s (stack %s).\n", info.Name, stack)
	if len(kept) > 0 {
		fmt.Fprintln(t.stdout, keptMessage(run, kept))
	}
	return nil
}

// reviewRemoval lists what removing a protected stage destroys and what it keeps, asks
// for agreement, then takes the protected resources out of the stage's state, so that
// terraform destroy removes the rest and leaves them in AWS. It returns those kept, and
// false when the state holds nothing to remove.
func (t *tool) reviewRemoval(ctx context.Context, run *stageRun, agree consent) ([]terraform.StateResource, bool, error) {
	config, err := terraform.ReadConfig(run.tf.Dir)
	if err != nil {
		return nil, false, err
	}
	resources, err := run.tf.StateResources(ctx, config)
	if err != nil {
		return nil, false, t.failed(ctx, "reading the state", run.subject(), run.tf, err)
	}
	if len(resources) == 0 {
		fmt.Fprintf(t.stdout, "Stage %s has nothing deployed: nothing to remove.\n", run.info.Name)
		return nil, false, nil
	}
	var destroyed, kept []terraform.StateResource
	for _, res := range resources {
		if res.Protection.Protected() {
			kept = append(kept, res)
		} else {
			destroyed = append(destroyed, res)
		}
	}
	fmt.Fprintf(t.stdout, "Removing stage %s destroys %d resource(s):\n", run.info.Name, len(destroyed))
	for _, res := range destroyed {
		fmt.Fprintf(t.stdout, "    %s (id %s)\n", res.Address, res.ID)
	}
	if len(kept) > 0 {
		fmt.Fprintf(t.stdout, "and keeps %d protected resource(s) in AWS, taken out of its state, not destroyed:\n", len(kept))
		for _, res := range kept {
			fmt.Fprintf(t.stdout, "    %s (id %s): %s\n", res.Address, res.ID, res.Protection)
		}
	}
	if err := t.confirm(ctx, agree); err != nil {
		return nil, false, err
	}
	if len(kept) > 0 {
		addresses := make([]string, len(kept))
		for i, res := range kept {
			addresses[i] = res.Address
		}
		if err := run.tf.StateRemove(ctx, addresses...); err != nil {
			return nil, false, t.failed(ctx, "taking protected resources out of the state", run.subject(), run.tf, err)
		}
	}
	return kept, true, nil
}

func keptMessage(run *stageRun, kept []terraform.StateResource) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Kept in AWS: stage %s is protected, so these resources were taken out of its state and not destroyed:", run.info.Name)
	for _, k := range kept {
		fmt.Fprintf(&b, "\n    %s (id %s): %s", k.Address, k.ID, k.Protection)
		if k.Protection.DeletionProtection {
			b.WriteString("; turn deletion protection off in AWS first if you mean to delete it")
		}
	}
	fmt.Fprintf(&b, "\nThey still exist and may cost money. To deploy stage %s again over them, import each first:\n    %s -chdir=%s import ADDRESS ID",
		run.info.Name, run.tf.Bin, run.tf.Dir)
	return b.String()
}

func (t *tool) state(ctx context.Context, args []string) error {
	info, pos, err := t.stageArgs("state", args, arity{max: -1}, nil)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("give a terraform state subcommand after --, for example: %s state --stage dev -- list", Program)
	}
	run, err := t.synthesize(ctx, info, false, nil)
	if err != nil {
		return err
	}
	state, err := t.localState(ctx, run)
	if err != nil {
		return err
	}
	if state != nil {
		resources, err := state.Resources(ctx)
		if err != nil {
			return t.failed(ctx, "reading the state", run.subject(), run.tf, err)
		}
		if len(resources) == 0 {
			return notDeployed(info)
		}
		if pos[0] == "list" {
			if len(pos) > 1 {
				if resources, err = state.Resources(ctx, pos[1:]...); err != nil {
					return t.failed(ctx, "state list", run.subject(), run.tf, err)
				}
			}
			for _, address := range resources {
				fmt.Fprintln(t.stdout, address)
			}
			return nil
		}
		// Other subcommands may need the provider's schema (show) or change the state.
		if err := t.init(ctx, run); err != nil {
			return err
		}
	}
	if err := run.tf.State(ctx, pos...); err != nil {
		return t.failed(ctx, "state "+pos[0], run.subject(), run.tf, err)
	}
	return nil
}
