package cli_test

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"

	"github.com/personabackend/app/cli"
)

func TestHelpListsEveryCommandIncludingOtherVerbs(t *testing.T) {
	var got []string
	dev := cli.Verb{Name: "dev", Summary: "Run a stage on this machine", Run: func(_ context.Context, args []string) int {
		got = args
		return 3
	}}
	var stdout, stderr bytes.Buffer
	p := &testProject{}
	if code := cli.Main(context.Background(), []string{"help"}, p, strings.NewReader(""), &stdout, &stderr, dev); code != 0 {
		t.Fatalf("help exit code %d: %s", code, stderr.String())
	}
	for _, want := range []string{"dev ", "Run a stage on this machine", "deploy ", "diff ", "outputs ", "remove ", "state ",
		"secrets set ", "secrets load ", "secrets list ", "secrets remove ", "bootstrap-state ", "make terraform"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("help does not list %q:\n%s", want, stdout.String())
		}
	}

	if code := cli.Main(context.Background(), []string{"dev", "--stage", "local"}, p, nil, &stdout, &stderr, dev); code != 3 {
		t.Errorf("dev exit code %d, want the verb's own 3", code)
	}
	if strings.Join(got, " ") != "--stage local" {
		t.Errorf("dev got arguments %q", got)
	}
	cli.Main(context.Background(), []string{"help", "dev"}, p, nil, &stdout, &stderr, dev)
	if strings.Join(got, " ") != "-h" {
		t.Errorf("help dev ran dev with %q, want -h", got)
	}
}

func TestCommandHelpShowsUsageAndExamples(t *testing.T) {
	p := &testProject{}
	for _, args := range [][]string{{"help", "secrets", "set"}, {"secrets", "set", "--help"}} {
		r := run(t, p, "", args...)
		if r.code != 0 {
			t.Fatalf("%q: exit code %d", args, r.code)
		}
		assertContains(t, strings.Join(args, " "), r.stdout,
			"Usage: go run . secrets set NAME [VALUE] (--stage STAGE | --fallback)", "--store", "Examples:")
	}
	bare := run(t, p, "", "secrets")
	if bare.code != 2 || !strings.Contains(bare.stderr, "secrets needs a subcommand:") || !strings.Contains(bare.stderr, "secrets remove ") {
		t.Errorf("secrets alone: exit %d, %s", bare.code, bare.stderr)
	}
	unknown := run(t, p, "", "secrets", "rotate")
	if unknown.code != 2 || !strings.Contains(unknown.stderr, `unknown command "secrets rotate"`) {
		t.Errorf("unknown command: exit %d, %s", unknown.code, unknown.stderr)
	}
}

func TestHelpOfAGroupListsItsSubcommands(t *testing.T) {
	r := run(t, &testProject{}, "", "help", "secrets")
	if r.code != 0 {
		t.Fatalf("help secrets: exit code %d: %s", r.code, r.stderr)
	}
	assertContains(t, "help secrets", r.stdout, "secrets set ", "secrets load ", "secrets list ", "secrets remove ",
		"go run . help secrets <subcommand>")
}

func TestFlagsBeforeTheCommandGetTheCommandLineThatWorks(t *testing.T) {
	dev := cli.Verb{Name: "dev", Run: func(context.Context, []string) int { return 0 }}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--stage", "dev", "deploy"}, "go run . deploy --stage dev\n"},
		{[]string{"--stage", "dev", "secrets", "list"}, "go run . secrets list --stage dev\n"},
		{[]string{"--json", "outputs", "--stage", "dev"}, "go run . outputs --json --stage dev\n"},
		{[]string{"--fresh", "dev"}, "go run . dev --fresh\n"},
		{[]string{"--stage", "dev", "dev"}, "go run . dev --stage dev\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Main(context.Background(), tt.args, &testProject{}, strings.NewReader(""), &stdout, &stderr, dev)
			if code != 2 {
				t.Errorf("exit code %d, want 2 (a usage error)", code)
			}
			assertContains(t, "error", stderr.String(), tt.args[0]+" is a flag: the command comes first", tt.want)
		})
	}
}

func TestAnUnknownCommandNamesTheClosestOne(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"deplyo", "--stage", "dev"}, `unknown command "deplyo"; did you mean "deploy"?`},
		{[]string{"stat"}, `unknown command "stat"; did you mean "state"?`},
		{[]string{"secrets", "lst"}, `unknown command "secrets lst"; did you mean "secrets list"?`},
		{[]string{"secret", "set", "MyApiKey"}, `unknown command "secret"; did you mean "secrets set"?`},
		{[]string{"help", "secrets", "lst"}, `no help for "secrets lst"; did you mean "secrets list"?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"` + "\n\nUsage:"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(t, &testProject{}, "", tt.args...)
			if r.code != 2 {
				t.Errorf("exit code %d, want 2", r.code)
			}
			assertContains(t, "error", r.stderr, tt.want)
		})
	}
}

func TestFlagsArePrintedWithTwoDashesAsTheREADMEWritesThem(t *testing.T) {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.Bool("fresh", false, "start with empty tables")
	fs.Int("port", 3000, "where the local API listens")
	var out bytes.Buffer
	cli.PrintFlags(&out, fs)
	assertContains(t, "flags", out.String(), "  --fresh\n    \tstart with empty tables\n", "  --port int\n    \twhere the local API listens (default 3000)\n")
	if strings.Contains(out.String(), " -fresh") {
		t.Errorf("a flag is printed with one dash:\n%s", out.String())
	}
}
