package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/cli/terraform"
	"github.com/personabackend/app/secretstore"
	"github.com/personabackend/app/topology"
)

var deployCommand = command{
	name:    "deploy",
	args:    "--stage STAGE",
	summary: "Deploy a stage and print its outputs (the API URL)",
	details: `Deploys one stage: checks that every declared secret has a value for it (its own or
the fallback), synthesizes the stage's stack, runs terraform init and apply in the
stack's folder, and prints the stack's outputs.

If a secret is missing, nothing is deployed and the command that sets it is shown.
Secret values are looked for in SSM Parameter Store, where deployed functions read them,
whatever --store or $SECRETS_STORE the secrets commands use.

Examples:
  PROGRAM deploy --stage dev
  PROGRAM deploy --stage "$USER"       a personal stage`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.deploy(ctx, args) },
}

var diffCommand = command{
	name:    "diff",
	args:    "--stage STAGE",
	summary: "Show what deploy would change in a stage (terraform plan)",
	details: `Synthesizes the stage's stack and runs terraform plan: what deploy would create,
change and destroy. Nothing is changed.

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
	args:    "--stage STAGE [--force]",
	summary: "Destroy every resource of a stage (a protected stage needs --force)",
	details: `Destroys the stage's resources with terraform destroy. Secret values are not removed
(see secrets remove).

A protected stage (prod) is refused unless --force is given. Even then, the resources
that hold its data (marked prevent_destroy, such as the persona table) are kept in AWS:
they are taken out of the stage's state first, and the command lists them.

Examples:
  PROGRAM remove --stage "$USER"
  PROGRAM remove --stage prod --force`,
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
// need, which all call AWS.
func (t *tool) prepare(ctx context.Context, info StageInfo, check func() error) (*stageRun, error) {
	run, err := t.synthesize(ctx, info, true, check)
	if err != nil {
		return nil, err
	}
	return run, t.init(ctx, run)
}

func (t *tool) init(ctx context.Context, run *stageRun) error {
	if err := run.tf.Init(ctx); err != nil {
		return t.failed(ctx, "terraform init", run.info, run.tf, err)
	}
	return nil
}

// localState returns the stage's state file when the stage keeps its state locally;
// it is read without terraform init, so neither providers nor credentials are needed.
// For a stage whose state is in S3 it checks credentials and runs terraform init instead.
func (t *tool) localState(ctx context.Context, run *stageRun) (*terraform.StateFile, error) {
	path, local, err := terraform.LocalStatePath(run.tf.Dir)
	if err != nil {
		return nil, err
	}
	if local {
		return &terraform.StateFile{Bin: run.tf.Bin, Path: path, Stderr: t.stderr}, nil
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

// failed explains a failed terraform run, with the fix for a locked state.
func (t *tool) failed(ctx context.Context, what string, info StageInfo, tf *terraform.Runner, err error) error {
	var exit *terraform.ExitError
	if errors.As(err, &exit) {
		if id, locked := exit.LockID(); locked {
			advice := "Wait for that run to finish (a lock on a local state file ends with the process holding it), then run the command again."
			if id != "" {
				advice = fmt.Sprintf("Wait for that run to finish; if none is running (one was interrupted), unlock the state with:\n    %s -chdir=%s force-unlock %s",
					tf.Bin, tf.Dir, id)
			}
			return fmt.Errorf("%s for stage %s failed: %w\nThe stage's state is locked by another terraform run. %s", what, info.Name, err, advice)
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s for stage %s was interrupted: %w", what, info.Name, err)
	}
	return fmt.Errorf("%s for stage %s failed: %w", what, info.Name, err)
}

func (t *tool) deploy(ctx context.Context, args []string) error {
	info, _, err := t.stageArgs("deploy", args, noArgs, nil)
	if err != nil {
		return err
	}
	run, err := t.prepare(ctx, info, func() error { return t.checkSecrets(ctx, info) })
	if err != nil {
		return err
	}
	if err := run.tf.Apply(ctx); err != nil {
		return t.failed(ctx, "deploy", info, run.tf, err)
	}
	outputs, err := run.tf.Outputs(ctx)
	if err != nil {
		return t.failed(ctx, "reading the outputs", info, run.tf, err)
	}
	fmt.Fprintf(t.stdout, "\nDeployed stage %s (stack %s-%s).\n", info.Name, t.project.App(), info.Name)
	printOutputs(t.stdout, outputs)
	if info.Personal {
		fmt.Fprintf(t.stdout, "This personal stage keeps running (and costing) until you remove it: %s remove --stage %s\n", Program, info.Name)
	}
	return nil
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
	run, err := t.prepare(ctx, info, nil)
	if err != nil {
		return err
	}
	if err := run.tf.Plan(ctx); err != nil {
		return t.failed(ctx, "diff", info, run.tf, err)
	}
	return nil
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
			return nil, t.failed(ctx, "reading the state", info, run.tf, err)
		}
		if len(resources) == 0 {
			return nil, notDeployed(info)
		}
		outputs, err = state.Outputs(ctx)
		if err != nil {
			return nil, t.failed(ctx, "reading the outputs", info, run.tf, err)
		}
		return outputs, nil
	}
	if outputs, err = run.tf.Outputs(ctx); err != nil {
		return nil, t.failed(ctx, "reading the outputs", info, run.tf, err)
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
	info, _, err := t.stageArgs("remove", args, noArgs, func(fs *flag.FlagSet) {
		fs.BoolVar(&force, "force", false, "remove a protected stage")
	})
	if err != nil {
		return err
	}
	if info.Protected && !force {
		return fmt.Errorf("stage %s is protected: nothing was removed. To destroy it anyway (its data resources stay in AWS), run:\n    %s remove --stage %s --force",
			info.Name, Program, info.Name)
	}
	run, err := t.prepare(ctx, info, nil)
	if err != nil {
		return err
	}
	var kept []keptResource
	if info.Protected {
		if kept, err = t.release(ctx, run); err != nil {
			return err
		}
	}
	if err := run.tf.Destroy(ctx); err != nil {
		err = t.failed(ctx, "remove", info, run.tf, err)
		if len(kept) > 0 {
			err = fmt.Errorf("%w\n%s", err, keptMessage(run, kept))
		}
		return err
	}
	fmt.Fprintf(t.stdout, "\nRemoved stage %s (stack %s-%s).\n", info.Name, t.project.App(), info.Name)
	if len(kept) > 0 {
		fmt.Fprintln(t.stdout, keptMessage(run, kept))
	}
	return nil
}

type keptResource struct {
	terraform.Protected
	id string
}

// release takes the stage's prevent_destroy resources out of its state, so that terraform
// destroy removes the rest and leaves them in AWS.
func (t *tool) release(ctx context.Context, run *stageRun) ([]keptResource, error) {
	protected, err := terraform.ProtectedResources(run.tf.Dir)
	if err != nil {
		return nil, err
	}
	if len(protected) == 0 {
		return nil, nil
	}
	ids, err := run.tf.ResourceIDs(ctx)
	if err != nil {
		return nil, t.failed(ctx, "reading the state", run.info, run.tf, err)
	}
	var kept []keptResource
	var addresses []string
	for _, p := range protected {
		if id, ok := ids[p.Address]; ok {
			kept = append(kept, keptResource{Protected: p, id: id})
			addresses = append(addresses, p.Address)
		}
	}
	if len(kept) == 0 {
		return nil, nil
	}
	if err := run.tf.StateRemove(ctx, addresses...); err != nil {
		return nil, t.failed(ctx, "taking protected resources out of the state", run.info, run.tf, err)
	}
	return kept, nil
}

func keptMessage(run *stageRun, kept []keptResource) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Kept in AWS: stage %s is protected, so these resources were taken out of its state and not destroyed:", run.info.Name)
	for _, k := range kept {
		fmt.Fprintf(&b, "\n    %s (id %s)", k.Address, k.id)
		if k.DeletionProtection {
			b.WriteString(": it also has deletion protection on in AWS; turn that off first if you mean to delete it")
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
			return t.failed(ctx, "reading the state", info, run.tf, err)
		}
		if len(resources) == 0 {
			return notDeployed(info)
		}
		if pos[0] == "list" {
			if len(pos) > 1 {
				if resources, err = state.Resources(ctx, pos[1:]...); err != nil {
					return t.failed(ctx, "state list", info, run.tf, err)
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
		return t.failed(ctx, "state "+pos[0], info, run.tf, err)
	}
	return nil
}
