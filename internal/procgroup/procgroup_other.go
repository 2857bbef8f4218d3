//go:build !linux && !darwin

package procgroup

import (
	"os/exec"
	"syscall"
)

// Own does nothing where process groups are not handled: Kill then ends cmd alone.
func Own(cmd *exec.Cmd, onParentDeath syscall.Signal) {}

// Kill ends cmd; the processes it started are left running.
func Kill(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
