package localaws

import (
	"os/exec"
	"syscall"
)

// OwnProcessGroup puts cmd in a process group of its own, so that KillGroup also
// ends its children (node's), and has the kernel kill it if this process dies first,
// so that a crashed test leaves no server behind.
func OwnProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
