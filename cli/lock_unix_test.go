//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestALockedStateSaysHowToUnlockIt(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	mustRun(t, p, "deploy", "--stage", "dev")

	// Hold the lock that terraform's local backend takes on the state file, as a run
	// still in progress would.
	state, err := os.OpenFile(filepath.Join(p.root, ".state", "persona-dev.tfstate"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	lock := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := syscall.FcntlFlock(state.Fd(), syscall.F_SETLK, &lock); err != nil {
		t.Fatal(err)
	}

	r := mustFail(t, p, "", "deploy", "--stage", "dev")
	assertContains(t, "deploy error", r.stderr, "state is locked by another terraform run", "Wait for that run to finish")
}
