// Package cli is the project's command-line tool for stage operations: secrets, deploy, diff,
// remove, outputs, state and users.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
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
	// SynthStateBackend synthesizes the stack that creates the S3 bucket and DynamoDB
	// lock table where stages keep their state, and returns its folder. Its own state
	// is a local file. Its outputs are the environment settings that make the stages use
	// them (STATE_BUCKET=...), which bootstrap-state prints as they are.
	SynthStateBackend(ctx context.Context, backend StateBackend) (stackDir string, err error)
}

// StateBackend is what bootstrap-state creates; empty names take the project's defaults.
type StateBackend struct {
	Region    string
	Bucket    string
	LockTable string
}

// StageInfo describes a valid stage.
type StageInfo struct {
	Name string
	// Protected is a stage run with care: its state must be in S3, deploy applies a
	// reviewed plan, remove needs --force and the stack's name and keeps protected
	// resources, and its functions read its own secret values only.
	Protected bool
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
		secretsSetCommand, secretsLoadCommand, secretsListCommand, secretsRemoveCommand,
		bootstrapStateCommand, deployerPolicyCommand, doctorCommand,
		usersAddCommand, usersListCommand, usersRemoveCommand}
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
	if strings.HasPrefix(args[0], "-") {
		if line := t.reordered(args); line != "" {
			fmt.Fprintf(t.stderr, "%s is a flag: the command comes first, then its flags: %s\n", args[0], line)
			return exitUsage
		}
		fmt.Fprintf(t.stderr, "%s is a flag: the command comes first, then its flags\n\n", args[0])
		t.usage(t.stderr)
		return exitUsage
	}
	for _, v := range t.verbs {
		if v.Name == args[0] {
			return v.Run(ctx, args[1:])
		}
	}
	cmd, rest, ok := t.lookup(args)
	if !ok && len(args) == 1 && len(t.group(args[0])) > 0 {
		fmt.Fprintf(t.stderr, "%s needs a subcommand:\n", args[0])
		t.groupUsage(t.stderr, args[0])
		return exitUsage
	}
	if !ok {
		typed := args[0]
		if len(args) > 1 && len(t.group(args[0])) > 0 {
			typed += " " + args[1]
		}
		if name := t.suggest(args); name != "" {
			fmt.Fprintf(t.stderr, "unknown command %q; did you mean %q? Run '%s help' for the commands.\n", typed, name, Program)
			return exitUsage
		}
		fmt.Fprintf(t.stderr, "unknown command %q\n\n", typed)
		if len(t.group(args[0])) > 0 {
			t.groupUsage(t.stderr, args[0])
		} else {
			t.usage(t.stderr)
		}
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
	if !ok && len(args) == 1 && len(t.group(args[0])) > 0 {
		t.groupUsage(t.stdout, args[0])
		return exitOK
	}
	if !ok {
		if name := t.suggest(args); name != "" {
			fmt.Fprintf(t.stderr, "no help for %q; did you mean %q?\n", strings.Join(args, " "), name)
			return exitUsage
		}
		fmt.Fprintf(t.stderr, "no help for %q\n\n", strings.Join(args, " "))
		t.usage(t.stderr)
		return exitUsage
	}
	t.commandHelp(t.stdout, cmd)
	return exitOK
}

// group returns the commands whose first word is name, such as the secrets commands.
func (t *tool) group(name string) []command {
	var cmds []command
	for _, c := range t.commands() {
		if first, _, two := strings.Cut(c.name, " "); two && first == name {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

func (t *tool) groupUsage(w io.Writer, name string) {
	fmt.Fprintf(w, "Usage: %s %s <subcommand> [arguments]\n\nSubcommands:\n", Program, name)
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, c := range t.group(name) {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun '%s help %s <subcommand>' for its arguments and examples.\n", Program, name)
}

// names lists every command name a user may type: verbs, commands and groups.
func (t *tool) names() []string {
	var names []string
	for _, v := range t.verbs {
		names = append(names, v.Name)
	}
	for _, c := range t.commands() {
		names = append(names, c.name)
		if first, _, two := strings.Cut(c.name, " "); two && !slices.Contains(names, first) {
			names = append(names, first)
		}
	}
	return names
}

// suggest returns the command name closest to the words of args, or "" when none
// is close enough to be what was meant.
func (t *tool) suggest(args []string) string {
	best, bestDistance := "", 3
	for _, name := range t.names() {
		n := len(strings.Fields(name))
		if n > len(args) {
			continue
		}
		typed := strings.Join(args[:n], " ")
		d := editDistance(typed, name)
		if d == 0 || d > max(1, len(name)/3) {
			continue
		}
		// The longer name wins a tie: "secrets lst" is closer to "secrets list" than to "secrets".
		if d < bestDistance || (d == bestDistance && len(name) > len(best)) {
			best, bestDistance = name, d
		}
	}
	return best
}

// editDistance is the number of single-character insertions, deletions, substitutions
// and transpositions of neighbours that turn a into b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// reordered returns the command line of args, which start with flags, with the command
// first; "" when args name no command. A word right after a flag is taken for
// that flag's value (--stage dev deploy) unless no other word names a command (--fresh dev).
func (t *tool) reordered(args []string) string {
	var starts []int // where a command name starts in args
	for i := 1; i < len(args); i++ {
		if _, _, ok := t.lookup(args[i:]); ok || slices.ContainsFunc(t.verbs, func(v Verb) bool { return v.Name == args[i] }) {
			starts = append(starts, i)
		}
	}
	if len(starts) == 0 {
		return ""
	}
	at := starts[0]
	for _, i := range starts {
		if prev := args[i-1]; !strings.HasPrefix(prev, "-") || strings.Contains(prev, "=") {
			at = i
			break
		}
	}
	words := 1
	if cmd, _, ok := t.lookup(args[at:]); ok {
		words = len(strings.Fields(cmd.name))
	}
	line := append(append(append([]string{}, args[at:at+words]...), args[:at]...), args[at+words:]...)
	return Program + " " + strings.Join(line, " ")
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

// arity says how many positional arguments a command takes, and what they are.
type arity struct {
	min, max int    // max -1: any number
	expected string // e.g. "one NAME", for the usage error
}

// noArgs is the arity of a command that takes flags only.
var noArgs = arity{}

// parseLine parses a command line: the flags that define adds to a fresh set, and
// positional arguments within a. Every command starts with it.
func parseLine(name string, args []string, a arity, define func(*flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	define(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case a.max == 0 && len(pos) > 0:
		return nil, usagef("unexpected arguments %q", pos)
	case len(pos) < a.min || (a.max >= 0 && len(pos) > a.max):
		return nil, usagef("expected %s, got %d arguments", a.expected, len(pos))
	}
	return pos, nil
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

// PrintFlags lists the flags of fs as this tool writes them, with two dashes
// (--port 3000), each with its usage and default.
func PrintFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, usage)
	})
}
