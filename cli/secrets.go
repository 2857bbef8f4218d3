package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/personabackend/app/secretstore"
	"github.com/personabackend/app/topology"
)

const storeHelp = `Where values are kept (--store, or $SECRETS_STORE):
  ssm     SSM Parameter Store, SecureString parameters; where deployed functions read them.
          The default for every stage but "local". Needs AWS credentials.
  local   Files under .secrets/ (not tracked by git, readable by you only); the default for
          the "local" stage, which the dev mode runs on this machine.

A value set with --fallback is used by every unprotected stage that has no value of its own;
a protected stage (prod) reads its own values only.
Values are never printed (unless list --reveal) and never given to terraform.`

var secretsSetCommand = command{
	name:    "secrets set",
	args:    "NAME [VALUE] (--stage STAGE | --fallback) [--store ssm|local]",
	summary: "Set a secret's value for a stage, or the fallback value for all stages",
	details: `Sets the value of the declared secret NAME for one stage (--stage), or the fallback
value that unprotected stages without their own use (--fallback).

Without VALUE, the value is read from standard input, so it stays out of your shell history:
a piped value is taken whole (one trailing newline removed); at a terminal, one line is read
without being shown.
A VALUE that starts with - goes after --, as in: PROGRAM secrets set NAME --stage dev -- -value

` + storeHelp + `

Examples:
  PROGRAM secrets set MyApiKey --stage dev            (then type the value)
  printf %s "$KEY" | PROGRAM secrets set MyApiKey --stage prod
  PROGRAM secrets set MyApiKey sk-test-123 --fallback`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.secretsSet(ctx, args) },
}

var secretsLoadCommand = command{
	name:    "secrets load",
	args:    "FILE (--stage STAGE | --fallback) [--store ssm|local]",
	summary: "Set secrets from a .env file, checked whole before anything is written",
	details: `Sets every secret in a .env file (FILE, or - for standard input) for one stage.

The file holds NAME=value lines, # comments and blank lines; "export " before a name is
allowed. Every value is stored as written: nothing is expanded ($NAME is text like any other).
  NAME=value      to the end of the line, or to a # after a space; outer spaces dropped
  NAME='value'    exactly what is between the quotes, over several lines if need be
  NAME="value"    the same, with the escapes \n \r \t \" \\ \$; any other backslash is an error
Every name must be a declared secret. The whole file is checked first: if any line is
malformed or names an undeclared secret, nothing is written and each such line is reported.
The local store then writes a stage's values at once. SSM has no transactions: values are
written one at a time in name order, and if a write fails, the error names the parameters
already written and those not written; running the command again writes them all.

` + storeHelp + `

Example:
  PROGRAM secrets load .env.staging --stage staging`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.secretsLoad(ctx, args) },
}

var secretsListCommand = command{
	name:    "secrets list",
	args:    "(--stage STAGE | --fallback) [--reveal] [--store ssm|local]",
	summary: "List the declared secrets and whether each has a value",
	details: `Lists the app's declared secrets for a stage: set (the stage's own value), fallback
(the shared value; never for a protected stage, which does not read it), or missing.
Values are masked unless --reveal is given; without it no value is read, only whether
each is set (in SSM: without decryption).

` + storeHelp + `

Example:
  PROGRAM secrets list --stage dev`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.secretsList(ctx, args) },
}

var secretsRemoveCommand = command{
	name:    "secrets remove",
	args:    "NAME (--stage STAGE | --fallback) [--store ssm|local]",
	summary: "Remove a secret's value for a stage, or its fallback value",
	details: `Removes the stage's own value of secret NAME (or, with --fallback, the shared value).
An unprotected stage whose own value is removed uses the fallback value, if there is one;
a protected stage's functions fail from their next start until the value is set again.

` + storeHelp + `

Example:
  PROGRAM secrets remove MyApiKey --stage dev`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.secretsRemove(ctx, args) },
}

// secretsTarget is the stage (or fallback) and store a secrets command works on.
type secretsTarget struct {
	stage     string
	fallback  bool
	protected bool // the stage reads its own values only
	declared  []topology.Secret
	store     secretstore.Store
	storeName string
}

// where names the target in messages, e.g. "stage dev" or "the fallback".
func (s *secretsTarget) where() string {
	if s.fallback {
		return "the fallback (used by unprotected stages without their own value)"
	}
	return "stage " + s.stage
}

// flagForCommand is the part of a command line that selects the target, e.g. "--stage dev".
func (s *secretsTarget) flagForCommand() string {
	if s.fallback {
		return "--fallback"
	}
	return "--stage " + s.stage
}

// parameter returns where secret's value lives for the target.
func (s *secretsTarget) parameter(secret topology.Secret) string {
	if s.fallback {
		return secret.FallbackParameter
	}
	return secret.Parameter
}

// declaredSecret returns the declared secret called name.
func (s *secretsTarget) declaredSecret(name string) (topology.Secret, error) {
	for _, d := range s.declared {
		if d.Name == name {
			return d, nil
		}
	}
	return topology.Secret{}, fmt.Errorf("unknown secret %q: %s", name, declaredList(s.declared))
}

func declaredList(declared []topology.Secret) string {
	if len(declared) == 0 {
		return "the app declares no secrets"
	}
	names := make([]string, len(declared))
	for i, d := range declared {
		names[i] = d.Name
	}
	return "the app declares " + strings.Join(names, ", ")
}

// secretsArgs parses the command line of a secrets command: --stage or --fallback,
// --store, the flags that define adds (if any), and positional arguments within a.
// It returns the validated target, with its store open, and the positional arguments.
func (t *tool) secretsArgs(ctx context.Context, name string, args []string, a arity, define func(*flag.FlagSet)) (*secretsTarget, []string, error) {
	s := &secretsTarget{}
	var store string
	pos, err := parseLine(name, args, a, func(fs *flag.FlagSet) {
		fs.StringVar(&s.stage, "stage", "", "the stage")
		fs.BoolVar(&s.fallback, "fallback", false, "the fallback value for stages without their own")
		fs.StringVar(&store, "store", "", "ssm or local")
		if define != nil {
			define(fs)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	if err := t.target(ctx, s, store); err != nil {
		return nil, nil, err
	}
	return s, pos, nil
}

// target validates s, the stage or fallback a command names, and opens the store.
func (t *tool) target(ctx context.Context, s *secretsTarget, store string) error {
	if s.stage == "" && !s.fallback {
		return usagef("give --stage STAGE, or --fallback for the value shared by all stages")
	}
	if s.stage != "" && s.fallback {
		return usagef("give --stage STAGE or --fallback, not both: --fallback is the value shared by all stages")
	}
	if s.stage != "" {
		info, err := t.project.Stage(s.stage)
		if err != nil {
			return err
		}
		s.protected = info.Protected
		if s.declared, err = t.stageSecrets(info); err != nil {
			return err
		}
	} else {
		declared, err := t.project.Secrets("")
		if err != nil {
			return fmt.Errorf("reading the declared secrets: %w", err)
		}
		s.declared = declared
	}
	kind, err := storeKind(store, s.stage)
	if err != nil {
		return err
	}
	s.store, s.storeName, err = openStore(ctx, kind)
	return err
}

func (t *tool) secretsSet(ctx context.Context, args []string) error {
	s, pos, err := t.secretsArgs(ctx, "secrets set", args, arity{min: 1, max: 2, expected: "NAME and an optional VALUE"}, nil)
	if err != nil {
		return err
	}
	secret, err := s.declaredSecret(pos[0])
	if err != nil {
		return err
	}
	var value string
	if len(pos) == 2 {
		value = pos[1]
	} else if value, err = t.readValue(secret.Name); err != nil {
		return err
	}
	if value == "" {
		return fmt.Errorf("empty value for %s: nothing was written. Give the value as an argument or on standard input (to remove a value, run: %s secrets remove %s %s)",
			secret.Name, Program, secret.Name, s.flagForCommand())
	}
	param := s.parameter(secret)
	if err := s.store.Put(ctx, map[string]string{param: value}); err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "Set %s for %s: %s in %s.\n", secret.Name, s.where(), param, s.storeName)
	return nil
}

// readValue reads a secret's value from standard input; at a terminal, without echoing it.
func (t *tool) readValue(name string) (string, error) {
	if f, ok := t.stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprintf(t.stderr, "Value for %s (not shown as you type), then Enter: ", name)
		value, err := term.ReadPassword(int(f.Fd()))
		// The Enter that ended the value was not echoed either.
		fmt.Fprintln(t.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the value: %w", err)
		}
		return string(value), nil
	}
	data, err := io.ReadAll(t.stdin)
	if err != nil {
		return "", fmt.Errorf("reading the value from standard input: %w", err)
	}
	value := strings.TrimSuffix(string(data), "\n")
	return strings.TrimSuffix(value, "\r"), nil
}

func (t *tool) secretsLoad(ctx context.Context, args []string) error {
	s, pos, err := t.secretsArgs(ctx, "secrets load", args, arity{min: 1, max: 1, expected: "one FILE (or - for standard input)"}, nil)
	if err != nil {
		return err
	}
	var data []byte
	if pos[0] == "-" {
		data, err = io.ReadAll(t.stdin)
	} else {
		data, err = os.ReadFile(pos[0])
	}
	if err != nil {
		return fmt.Errorf("reading the secrets file: %w", err)
	}
	entries, problems := parseDotenv(data)
	values := map[string]string{}
	var names []string
	for _, e := range entries {
		secret, err := s.declaredSecret(e.name)
		if err != nil {
			problems = append(problems, lineError{line: e.line, msg: err.Error()})
			continue
		}
		if e.value == "" {
			problems = append(problems, lineError{line: e.line, msg: fmt.Sprintf("%s has an empty value", e.name)})
			continue
		}
		values[s.parameter(secret)] = e.value
		names = append(names, e.name)
	}
	if len(problems) > 0 {
		return loadError(pos[0], problems)
	}
	if len(values) == 0 {
		return fmt.Errorf("%s sets no secrets: nothing was written", pos[0])
	}
	if err := s.store.Put(ctx, values); err != nil {
		return fmt.Errorf("%w\nOnce the cause is fixed, run the same command again: it writes every value in %s.", err, pos[0])
	}
	fmt.Fprintf(t.stdout, "Set %d secret(s) for %s in %s: %s.\n", len(names), s.where(), s.storeName, strings.Join(names, ", "))
	return nil
}

func (t *tool) secretsList(ctx context.Context, args []string) error {
	var reveal bool
	s, _, err := t.secretsArgs(ctx, "secrets list", args, noArgs, func(fs *flag.FlagSet) {
		fs.BoolVar(&reveal, "reveal", false, "show values")
	})
	if err != nil {
		return err
	}
	if len(s.declared) == 0 {
		fmt.Fprintln(t.stdout, "The app declares no secrets.")
		return nil
	}
	lookup := s.declared
	if s.fallback {
		// Only the fallback values: look them up as if they were a stage's own.
		lookup = make([]topology.Secret, len(s.declared))
		for i, d := range s.declared {
			lookup[i] = topology.Secret{Name: d.Name, Parameter: d.FallbackParameter}
		}
	}
	var values []secretstore.Value
	if reveal {
		values, err = secretstore.Lookup(ctx, s.store, lookup)
	} else {
		// Whether a value is set is all the list shows: no value is read (or decrypted).
		values, err = secretstore.Sources(ctx, s.store, lookup)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "Secrets for %s in %s:\n", s.where(), s.storeName)
	tw := tabwriter.NewWriter(t.stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tVALUE")
	for _, v := range values {
		status, shown := "set", "********"
		switch {
		case v.Source == secretstore.Missing:
			status, shown = "missing", "-"
		case v.Source == secretstore.Fallback:
			status = "fallback"
		}
		if reveal && v.Source != secretstore.Missing {
			shown = v.Value
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, status, shown)
	}
	tw.Flush()
	if missing := secretstore.MissingNames(values); len(missing) > 0 {
		fmt.Fprintf(t.stdout, "\nSet a missing one with: %s secrets set %s %s\n", Program, missing[0], s.flagForCommand())
	}
	if s.protected {
		fmt.Fprintf(t.stdout, "Stage %s is protected: its functions read its own values only, never the fallback.\n", s.stage)
	}
	return nil
}

func (t *tool) secretsRemove(ctx context.Context, args []string) error {
	s, pos, err := t.secretsArgs(ctx, "secrets remove", args, arity{min: 1, max: 1, expected: "one NAME"}, nil)
	if err != nil {
		return err
	}
	secret, err := s.declaredSecret(pos[0])
	if err != nil {
		return err
	}
	found, err := s.store.Delete(ctx, s.parameter(secret))
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s has no value of its own for %s in %s: nothing was removed", secret.Name, s.where(), s.storeName)
	}
	fmt.Fprintf(t.stdout, "Removed %s for %s from %s.\n", secret.Name, s.where(), s.storeName)
	if s.protected {
		fmt.Fprintf(t.stdout, "Stage %s is protected and reads its own values only: the fallback does not stand in, so its functions that use %s fail from their next start until it is set again:\n    %s secrets set %s --stage %s\n",
			s.stage, secret.Name, Program, secret.Name, s.stage)
	}
	return nil
}
