package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
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
