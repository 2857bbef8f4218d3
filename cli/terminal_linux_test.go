package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/personabackend/app/cli"

	"github.com/personabackend/app/internal/localaws/localawstest"
)

func TestSecretsSetAtATerminalDoesNotShowTheValue(t *testing.T) {
	p := newProject(t, "MyApiKey")
	screen, keyboard := openTerminal(t)

	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		code := cli.Main(context.Background(), []string{"secrets", "set", "MyApiKey", "--stage", "dev", "--store", "local"},
			p, keyboard, &stdout, &stderr)
		done <- result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	}()
	// Type only once the command has turned echo off: the terminal echoes input as it arrives.
	if !waitEchoOff(keyboard, time.Minute) {
		t.Error("the terminal still echoes input while the command waits for the value")
	}
	if _, err := screen.Write([]byte("typed-s3cret\n")); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("secrets set did not finish after the value was typed")
	}
	if r.code != 0 {
		t.Fatalf("secrets set failed: %s", r.stderr)
	}
	assertContains(t, "prompt", r.stderr, "Value for MyApiKey (not shown as you type)")
	if shown := readScreen(t, screen); strings.Contains(shown, "typed-s3cret") {
		t.Errorf("the terminal showed the typed value: %q", shown)
	}
	assertContains(t, "list --reveal", mustRun(t, p, "secrets", "list", "--stage", "dev", "--store", "local", "--reveal").stdout,
		"MyApiKey   set      typed-s3cret\n")
}

func TestDeployOfAProtectedStageAtATerminalAppliesThePlanOnlyOnceAgreed(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	useStateBucket(t, p)

	for _, answer := range []string{"\n", "n\n", "apply\n"} {
		declined := runAtTerminal(t, p, answer, "deploy", "--stage", "prod")
		if declined.code == 0 {
			t.Fatalf("deploy went ahead on the answer %q:\n%s", answer, declined.stdout)
		}
		assertContains(t, "deploy declined", declined.stdout, "terraform_data.api will be created", "Summary: 2 to add, 0 to change, 0 to destroy.")
		assertContains(t, "deploy declined", declined.stderr, "Apply this plan to stage prod? Only 'y' or 'yes' applies it: ",
			"not confirmed: nothing was applied")
	}
	assertContains(t, "prod's outputs after declining", mustFail(t, p, "", "outputs", "--stage", "prod").stderr, "stage prod is not deployed")

	agreed := runAtTerminal(t, p, "y\n", "deploy", "--stage", "prod")
	if agreed.code != 0 {
		t.Fatalf("deploy after y failed: %s", agreed.stderr)
	}
	assertContains(t, "deploy agreed", agreed.stdout, "Summary: 2 to add, 0 to change, 0 to destroy.", "Apply complete! Resources: 2 added",
		"Deployed stage prod (stack persona-prod).", "apiUrl = https://api-prod.example.test")
	if plans, _ := filepath.Glob(filepath.Join(p.root, "cdktf.out", "stacks", "persona-prod", "*.tfplan")); len(plans) != 0 {
		t.Errorf("the saved plan was left behind: %v", plans)
	}
}

func TestRemoveOfAProtectedStageAtATerminalTakesTheStacksName(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	useStateBucket(t, p)
	mustRun(t, p, "deploy", "--stage", "prod", "--yes")

	for _, answer := range []string{"prod\n", "y\n", "PERSONA-PROD\n"} {
		declined := runAtTerminal(t, p, answer, "remove", "--stage", "prod", "--force")
		assertContains(t, "remove declined", declined.stdout, "Removing stage prod destroys 1 resource(s)", "keeps 1 protected resource(s)")
		assertContains(t, "remove declined", declined.stderr, "To remove stage prod, type its stack's name, persona-prod: ",
			"not confirmed: nothing was removed")
	}
	assertContains(t, "prod's state after declining", mustRun(t, p, "state", "--stage", "prod", "--", "list").stdout,
		"terraform_data.api", "terraform_data.table")

	agreed := runAtTerminal(t, p, "persona-prod\n", "remove", "--stage", "prod", "--force")
	if agreed.code != 0 {
		t.Fatalf("remove after typing the stack's name failed: %s", agreed.stderr)
	}
	assertContains(t, "remove agreed", agreed.stdout, "Removed stage prod (stack persona-prod).", "Kept in AWS", "terraform_data.table (id ")
}

// runAtTerminal runs a command whose standard input is a terminal on which typed was typed.
func runAtTerminal(t *testing.T, p cli.Project, typed string, args ...string) result {
	t.Helper()
	screen, keyboard := openTerminal(t)
	// A terminal keeps typed lines until they are read: typing ahead is what a person may do.
	if _, err := screen.Write([]byte(typed)); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, p, keyboard, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// openTerminal opens a pseudo-terminal: what is written to screen is typed on keyboard,
// and what keyboard's terminal echoes or is written to it is read from screen.
func openTerminal(t *testing.T) (screen, keyboard *os.File) {
	t.Helper()
	screen, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		localawstest.SkipOrFail(t, fmt.Errorf("no pseudo-terminal to type into (/dev/ptmx): %w", err))
	}
	t.Cleanup(func() { screen.Close() })
	// Through SyscallConn, not Fd, which would make screen blocking and its read deadline useless.
	conn, err := screen.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var ioctlErr error
	if err := conn.Control(func(fd uintptr) {
		if ioctlErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioctlErr == nil {
			n, ioctlErr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
		}
	}); err != nil || ioctlErr != nil {
		t.Fatalf("opening the pseudo-terminal: %v %v", err, ioctlErr)
	}
	keyboard, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keyboard.Close() })
	return screen, keyboard
}

// waitEchoOff reports whether tty's echo is turned off within wait.
func waitEchoOff(tty *os.File, wait time.Duration) bool {
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		termios, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err == nil && termios.Lflag&unix.ECHO == 0 {
			return true
		}
	}
	return false
}

// readScreen returns what the terminal has shown so far.
func readScreen(t *testing.T, screen *os.File) string {
	t.Helper()
	if err := screen.SetReadDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
		t.Fatalf("reading the pseudo-terminal: %v", err)
	}
	var shown bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := screen.Read(buf)
		shown.Write(buf[:n])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return shown.String()
		}
		if err != nil {
			t.Fatalf("reading the pseudo-terminal: %v", err)
		}
	}
}
