// Package terraform runs the terraform CLI in a synthesized stack's folder.
package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ErrNotFound means no terraform binary was found.
var ErrNotFound = errors.New("terraform not found on PATH nor in .tools/bin: install the pinned version with: make terraform")

// Find returns the terraform binary to run: $TERRAFORM_BIN if set, else terraform on PATH,
// else the one `make terraform` installs under <repoRoot>/.tools/bin.
func Find(repoRoot string) (string, error) {
	if bin := os.Getenv("TERRAFORM_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("TERRAFORM_BIN=%s: %w", bin, err)
		}
		return bin, nil
	}
	if bin, err := exec.LookPath("terraform"); err == nil {
		return bin, nil
	}
	bin := filepath.Join(repoRoot, ".tools", "bin", "terraform")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	return "", ErrNotFound
}

// tailLines is how many lines of terraform's error output a failure keeps.
const tailLines = 15

// ExitError is a terraform run that failed.
type ExitError struct {
	Command string   // e.g. "apply"
	Code    int      // exit code, -1 if terraform did not exit on its own
	Tail    []string // the last lines terraform wrote to stderr
	// Errors are the error diagnostics of all terraform wrote to stderr.
	Errors []Diagnostic
}

func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "terraform %s failed with exit code %d", e.Command, e.Code)
	if len(e.Tail) > 0 {
		b.WriteString("; the last lines of its error output:\n")
		for _, line := range e.Tail {
			b.WriteString("    " + line + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

var lockIDPattern = regexp.MustCompile(`^\W*ID:\s+(\S+)`)

// LockID returns the ID of the lock that made the run fail, if another run holds the state lock.
func (e *ExitError) LockID() (string, bool) {
	locked := false
	for _, line := range e.Tail {
		if strings.Contains(line, "Error acquiring the state lock") {
			locked = true
		}
		if m := lockIDPattern.FindStringSubmatch(line); locked && m != nil {
			return m[1], true
		}
	}
	return "", locked
}

// Runner runs terraform commands in one stack's folder.
type Runner struct {
	Bin    string    // the terraform binary
	Dir    string    // the stack's folder, holding cdk.tf.json
	Stdout io.Writer // where terraform's progress goes
	Stderr io.Writer
	Color  bool // keep terraform's colors (for a terminal)
}

// Init runs terraform init. Its output is shown only when it fails.
func (r *Runner) Init(ctx context.Context) error {
	var out bytes.Buffer
	err := r.run(ctx, &out, &out, r.withColor("init", "-input=false")...)
	if err != nil {
		r.Stderr.Write(out.Bytes())
	}
	return err
}

// Apply creates or updates the stack's resources without asking.
func (r *Runner) Apply(ctx context.Context) error {
	return r.run(ctx, r.Stdout, r.Stderr, r.withColor("apply", "-input=false", "-auto-approve")...)
}

// Destroy deletes every resource in the stack's state without asking.
func (r *Runner) Destroy(ctx context.Context) error {
	return r.run(ctx, r.Stdout, r.Stderr, r.withColor("destroy", "-input=false", "-auto-approve")...)
}

// Output is one of the stack's outputs, as `terraform output -json` gives it.
type Output struct {
	Sensitive bool            `json:"sensitive"`
	Type      json.RawMessage `json:"type"`
	Value     json.RawMessage `json:"value"`
}

// Outputs returns the stack's outputs by name; empty when nothing is deployed.
func (r *Runner) Outputs(ctx context.Context) (map[string]Output, error) {
	var out bytes.Buffer
	if err := r.run(ctx, &out, r.Stderr, "output", "-json"); err != nil {
		return nil, err
	}
	outputs := map[string]Output{}
	if err := json.Unmarshal(out.Bytes(), &outputs); err != nil {
		return nil, fmt.Errorf("decoding terraform output -json: %w", err)
	}
	return outputs, nil
}

// StateRemove takes resources out of the stack's state, leaving them where they are.
func (r *Runner) StateRemove(ctx context.Context, addresses ...string) error {
	return r.run(ctx, r.Stdout, r.Stderr, append([]string{"state", "rm"}, addresses...)...)
}

// State runs `terraform state` with args, e.g. "list" or "show ADDRESS".
func (r *Runner) State(ctx context.Context, args ...string) error {
	return r.run(ctx, r.Stdout, r.Stderr, append([]string{"state"}, args...)...)
}

// withColor adds -no-color to args unless the runner keeps colors.
func (r *Runner) withColor(args ...string) []string {
	if r.Color {
		return args
	}
	return append(args, "-no-color")
}

// interruptGrace is how long terraform gets to release its lock and save state
// after an interrupt before it is killed.
const interruptGrace = time.Minute

func (r *Runner) run(ctx context.Context, stdout, stderr io.Writer, args ...string) error {
	return run(ctx, r.Bin, r.Dir, stdout, stderr, args...)
}

// run runs terraform in dir.
func run(ctx context.Context, bin, dir string, stdout, stderr io.Writer, args ...string) error {
	tail := &tailWriter{max: tailLines}
	diags := &diagnosticWriter{}
	cmd := exec.CommandContext(ctx, bin, append([]string{"-chdir=" + dir}, args...)...)
	cmd.Stdout = stdout
	cmd.Stderr = io.MultiWriter(stderr, tail, diags)
	cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	if _, set := os.LookupEnv("CHECKPOINT_DISABLE"); !set {
		// Otherwise every run asks HashiCorp's checkpoint service for a newer version.
		cmd.Env = append(cmd.Env, "CHECKPOINT_DISABLE=1")
	}
	// Terraform stops cleanly on one interrupt; a kill could leave the state locked.
	ownProcessGroup(cmd)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = interruptGrace
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &ExitError{Command: strings.Join(commandWords(args), " "), Code: exit.ExitCode(), Tail: tail.lines(), Errors: diags.errors()}
	}
	if err != nil {
		return fmt.Errorf("running terraform %s: %w", args[0], err)
	}
	return nil
}

// commandWords returns the subcommand words of args, without flags and addresses.
func commandWords(args []string) []string {
	if len(args) > 1 && args[0] == "state" && !strings.HasPrefix(args[1], "-") {
		return args[:2]
	}
	return args[:1]
}

// tailWriter keeps the last max lines written to it.
type tailWriter struct {
	max     int
	partial []byte
	full    []string
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.add(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	return len(p), nil
}

// colorCodes matches the ANSI color sequences some terraform commands write even when
// told -no-color; the tail is quoted in plain text.
var colorCodes = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func (t *tailWriter) add(line string) {
	line = colorCodes.ReplaceAllString(line, "")
	if strings.TrimSpace(line) == "" {
		return
	}
	t.full = append(t.full, line)
	if len(t.full) > t.max {
		t.full = t.full[len(t.full)-t.max:]
	}
}

func (t *tailWriter) lines() []string {
	if len(t.partial) > 0 {
		t.add(string(t.partial))
		t.partial = nil
	}
	return t.full
}

// StackFile is the name of the Terraform JSON file synth writes in a stack's folder.
const StackFile = "cdk.tf.json"

// StateFile reads a local state file through terraform without initializing the
// stack's folder: no provider is installed and no AWS credentials are needed.
type StateFile struct {
	Bin    string // the terraform binary
	Path   string // the state file; it need not exist
	Stderr io.Writer
}

// Resources returns the addresses of the resources in the state, as `terraform state
// list ARGS` gives them (args filter them); none when the file does not exist.
func (s StateFile) Resources(ctx context.Context, args ...string) ([]string, error) {
	if _, err := os.Stat(s.Path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	var out bytes.Buffer
	if err := s.run(ctx, &out, append([]string{"state", "list", "-state=" + s.Path}, args...)...); err != nil {
		return nil, err
	}
	return strings.Fields(out.String()), nil
}

// Outputs returns the outputs recorded in the state, as Runner.Outputs does.
func (s StateFile) Outputs(ctx context.Context) (map[string]Output, error) {
	var out bytes.Buffer
	if err := s.run(ctx, &out, "output", "-json", "-state="+s.Path); err != nil {
		return nil, err
	}
	outputs := map[string]Output{}
	if err := json.Unmarshal(out.Bytes(), &outputs); err != nil {
		return nil, fmt.Errorf("decoding terraform output -json: %w", err)
	}
	return outputs, nil
}

// run runs terraform in an empty folder of its own: with no configuration there is
// nothing to initialize, and -state names the file to read.
func (s StateFile) run(ctx context.Context, stdout io.Writer, args ...string) error {
	empty, err := os.MkdirTemp("", "terraform-state-")
	if err != nil {
		return fmt.Errorf("reading the state: %w", err)
	}
	defer os.RemoveAll(empty)
	return run(ctx, s.Bin, empty, stdout, s.Stderr, args...)
}
