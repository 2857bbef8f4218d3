//go:build unix

package terraform

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup keeps a Ctrl-C at the terminal from reaching terraform directly: the tool
// forwards exactly one interrupt when its context ends, and a second interrupt would make
// terraform exit at once, possibly without saving its state.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
