//go:build linux || darwin

package procgroup

import (
	"os/exec"
	"syscall"
)

// Kill ends the process group of cmd, which Own gave it, and first
// the groups its children lead: a program such as the Lambda emulator starts each
// child in a process group of its own.
func Kill(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	pid := cmd.Process.Pid
	for _, child := range childProcesses(pid) {
		// A child in cmd's own group leads none: this answers ESRCH and does nothing.
		_ = syscall.Kill(-child, syscall.SIGKILL)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
