// Package cli is the project's command-line tool for stage operations: secrets, deploy, diff,
// remove, outputs and state.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/personabackend/app/topology"
)

// Project is what the CLI needs from the app definition.
type Project interface {
	// App is the app's name; each stage's stack is named "<app>-<stage>".
	App() string
	// Stage validates a stage name; its error text is shown to the user as is.
	Stage(name string) (StageInfo, error)
	// Secrets returns the declared secrets with their parameter names for stage.
	// For commands on fallback values alone (secrets ... --fallback without --stage)
	// stage is "", and only Name and FallbackParameter are used.
	Secrets(stage string) ([]topology.Secret, error)
	// Synth synthesizes one stage and returns the folder holding its cdk.tf.json.
	Synth(ctx context.Context, stage string) (stackDir string, err error)
	// RequiresAWS reports whether terraform runs need AWS credentials.
	RequiresAWS() bool
}

// StageInfo describes a valid stage.
type StageInfo struct {
	Name      string
	Protected bool // remove refuses without --force, and keeps prevent_destroy resources
	Personal  bool
}

// Verb is a command provided by another package (synth, dev) that Main runs and lists in its help.
// Run receives the arguments after the verb's name; `help NAME` runs it with "-h".
type Verb struct {
	Name    string
	Summary string // one line for the command list
	Run     func(ctx context.Context, args []string) int
}

// Program is how a user starts the tool from the repository root; messages that tell the user
// what to run next start with it.
const Program = "go run ."

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// Main runs the command in args (without the program name) and returns the process exit code.
func Main(ctx context.Context, args []string, project Project, stdin io.Reader, stdout, stderr io.Writer, verbs ...Verb) int {
	t := &tool{project: project, stdin: stdin, stdout: stdout, stderr: stderr, verbs: verbs}
	return t.main(ctx, args)
}

type tool struct {
	project        Project
	stdin          io.Reader
	stdout, stderr io.Writer
	verbs          []Verb
}

// command is one of the tool's own commands.
type command struct {
	name    string // e.g. "deploy" or "secrets set"
	args    string // the arguments line in usage, e.g. "--stage STAGE [--store local|ssm]"
	summary string
	details string
	run     func(ctx context.Context, t *tool, args []string) error
}

func (t *tool) commands() []command {
	return []command{deployCommand, diffCommand, outputsCommand, removeCommand, stateCommand,
		secretsSetCommand, secretsLoadCommand, secretsListCommand, secretsRemoveCommand}
}

func (t *tool) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		t.usage(t.stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return t.help(ctx, args[1:])
	}
	for _, v := range t.verbs {
		if v.Name == args[0] {
			return v.Run(ctx, args[1:])
		}
	}
	cmd, rest, ok := t.lookup(args)
	if !ok && len(args) == 1 && args[0] == "secrets" {
		fmt.Fprintf(t.stderr, "secrets needs a subcommand: set, load, list or remove\n\n")
		t.usage(t.stderr)
		return exitUsage
	}
	if !ok {
		fmt.Fprintf(t.stderr, "unknown command %q\n\n", strings.Join(args[:min(2, len(args))], " "))
		t.usage(t.stderr)
		return exitUsage
	}
	for _, a := range rest {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			t.commandHelp(t.stdout, cmd)
			return exitOK
		}
	}
	err := cmd.run(ctx, t, rest)
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(t.stderr, "%s: %s\nUsage: %s %s %s\nRun '%s help %s' for details.\n",
			cmd.name, usage.msg, Program, cmd.name, cmd.args, Program, cmd.name)
		return exitUsage
	default:
		fmt.Fprintf(t.stderr, "Error: %v\n", err)
		return exitFail
	}
}

// lookup finds the command named by the first one or two words of args.
func (t *tool) lookup(args []string) (command, []string, bool) {
	for _, c := range t.commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], true
		}
	}
	return command{}, nil, false
}

func (t *tool) help(ctx context.Context, args []string) int {
	if len(args) == 0 {
		t.usage(t.stdout)
		return exitOK
	}
	for _, v := range t.verbs {
		if v.Name == args[0] {
			return v.Run(ctx, []string{"-h"})
		}
	}
	cmd, _, ok := t.lookup(args)
	if !ok {
		fmt.Fprintf(t.stderr, "no help for %q\n\n", strings.Join(args, " "))
		t.usage(t.stderr)
		return exitUsage
	}
	t.commandHelp(t.stdout, cmd)
	return exitOK
}

func (t *tool) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s <command> [arguments]\n\n", Program)
	fmt.Fprintf(w, "Builds, deploys and runs the %s app, one stage at a time. Each stage (dev,\n", t.project.App())
	fmt.Fprintf(w, "staging, prod, or a personal one) is its own stack, %s-<stage>, with its own\n", t.project.App())
	fmt.Fprintf(w, "Terraform state and its own secret values.\n\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, v := range t.verbs {
		fmt.Fprintf(tw, "  %s\t%s\n", v.Name, v.Summary)
	}
	for _, c := range t.commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun '%s help <command>' for a command's arguments and examples.\n", Program)
	fmt.Fprintf(w, "terraform comes from PATH or .tools/bin (install it with: make terraform).\n")
	fmt.Fprintf(w, "AWS credentials come from the usual places (AWS_PROFILE, aws configure, aws sso login).\n")
}

func (t *tool) commandHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "Usage: %s %s %s\n\n%s\n", Program, c.name, c.args, strings.ReplaceAll(c.details, "PROGRAM", Program))
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// parse parses flags wherever they appear among args and returns the other arguments.
// Everything after "--" is returned as is, after the arguments before it.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// stageFlag validates the --stage flag's value.
func (t *tool) stageFlag(stage string) (StageInfo, error) {
	if stage == "" {
		return StageInfo{}, usagef("--stage is required (for example --stage dev)")
	}
	info, err := t.project.Stage(stage)
	if err != nil {
		return StageInfo{}, err
	}
	return info, nil
}

// isTerminal reports whether v is an interactive terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
