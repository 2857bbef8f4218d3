package cli_test

import (
	"bytes"
	"context"
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
		"secrets set ", "secrets load ", "secrets list ", "secrets remove ", "make terraform"} {
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
	if bare.code != 2 || !strings.Contains(bare.stderr, "secrets needs a subcommand: set, load, list or remove") {
		t.Errorf("secrets alone: exit %d, %s", bare.code, bare.stderr)
	}
	unknown := run(t, p, "", "secrets", "rotate")
	if unknown.code != 2 || !strings.Contains(unknown.stderr, `unknown command "secrets rotate"`) {
		t.Errorf("unknown command: exit %d, %s", unknown.code, unknown.stderr)
	}
}
