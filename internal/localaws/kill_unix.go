//go:build unix

package localaws

import (
	"os/exec"
	"syscall"
)

// killGroup ends cmd's process group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
