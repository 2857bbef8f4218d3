//go:build unix && !linux

package localaws

import (
	"os/exec"
	"syscall"
)

// OwnProcessGroup puts cmd in a process group of its own, so that KillGroup also
// ends its children (node's).
func OwnProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
