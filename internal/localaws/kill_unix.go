//go:build unix

package localaws

import (
	"os/exec"
	"syscall"
)

// KillGroup ends the process group of cmd, which OwnProcessGroup started.
func KillGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
