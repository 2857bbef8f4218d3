package terraform_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/personabackend/app/cli/terraform"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	installed := filepath.Join(root, ".tools", "bin", "terraform")

	t.Setenv("PATH", "")
	t.Setenv("TERRAFORM_BIN", "")
	if _, err := terraform.Find(root); err != terraform.ErrNotFound || !strings.Contains(err.Error(), "make terraform") {
		t.Errorf("without terraform, Find = %v, want advice to run make terraform", err)
	}

	if err := os.MkdirAll(filepath.Dir(installed), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(installed, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := terraform.Find(root); err != nil || got != installed {
		t.Errorf("with make terraform's binary, Find = %q, %v; want %q", got, err, installed)
	}

	t.Setenv("TERRAFORM_BIN", filepath.Join(root, "missing"))
	if _, err := terraform.Find(root); err == nil || !strings.Contains(err.Error(), "TERRAFORM_BIN") {
		t.Errorf("with TERRAFORM_BIN naming no file, Find = %v, want an error naming TERRAFORM_BIN", err)
	}
}

func TestLockID(t *testing.T) {
	tests := []struct {
		name       string
		tail       []string
		wantID     string
		wantLocked bool
	}{
		{
			name: "a remote lock's ID is read from the lock info",
			tail: []string{
				"│ Error: Error acquiring the state lock",
				"│ Lock Info:",
				"│   ID:        6b9a5c3e-1f2d-4c1a-9e0b-2f1f7d7c8a11",
				"│   Path:      persona-state/persona-dev.tfstate",
			},
			wantID: "6b9a5c3e-1f2d-4c1a-9e0b-2f1f7d7c8a11", wantLocked: true,
		},
		{
			name:       "a local lock without lock info is still a lock",
			tail:       []string{"Error: Error acquiring the state lock", "Error message: resource temporarily unavailable"},
			wantLocked: true,
		},
		{
			name: "other failures are not locks",
			tail: []string{"Error: Reference to undeclared resource", "  ID: not-a-lock"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, locked := (&terraform.ExitError{Command: "apply", Code: 1, Tail: tt.tail}).LockID()
			if id != tt.wantID || locked != tt.wantLocked {
				t.Errorf("LockID = %q, %v; want %q, %v", id, locked, tt.wantID, tt.wantLocked)
			}
		})
	}
}

func TestAFailedRunKeepsTheLastLinesOfItsErrorsWithoutColors(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "terraform")
	body := "#!/bin/sh\nfor i in $(seq 1 40); do echo \"progress $i\"; echo \"error line $i\" >&2; done\nprintf '\\033[31mNo state file was found!\\033[0m\\n' >&2\nexit 3\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	r := &terraform.Runner{Bin: script, Dir: dir, Stdout: &stdout, Stderr: &stderr}
	err := r.State(context.Background(), "list")
	var exit *terraform.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("State = %v, want an ExitError", err)
	}
	if exit.Code != 3 || exit.Command != "state list" {
		t.Errorf("ExitError = %q exit %d, want state list exit 3", exit.Command, exit.Code)
	}
	if last := exit.Tail[len(exit.Tail)-1]; last != "No state file was found!" {
		t.Errorf("last line = %q", last)
	}
	if exit.Tail[0] != "error line 27" || len(exit.Tail) != 15 {
		t.Errorf("tail = %q, want the last 15 lines", exit.Tail)
	}
	if !strings.Contains(stdout.String(), "progress 40") || !strings.Contains(stderr.String(), "error line 1\n") {
		t.Error("terraform's output was not passed through")
	}
}

func TestTerraformRunsWithoutAskingForNewerVersions(t *testing.T) {
	dir := t.TempDir()
	// A terraform that answers `output -json` with the checkpoint setting it was given.
	bin := filepath.Join(dir, "terraform")
	script := "#!/bin/sh\nprintf '{\"checkpoint\":{\"value\":\"%s\"}}' \"$CHECKPOINT_DISABLE\"\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHECKPOINT_DISABLE", "") // restored when the test ends
	os.Unsetenv("CHECKPOINT_DISABLE")
	r := &terraform.Runner{Bin: bin, Dir: dir, Stdout: io.Discard, Stderr: io.Discard}
	outputs, err := r.Outputs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := string(outputs["checkpoint"].Value); got != `"1"` {
		t.Errorf("terraform ran with CHECKPOINT_DISABLE=%s, want 1", got)
	}
}
