package lambdapool

import (
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// ownProcessGroup puts the emulator in a process group of its own, so that killTree
// ends it whole. macOS has no parent-death signal: a dev killed with SIGKILL leaves
// its emulators running (an interrupt or SIGTERM stops them).
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// children lists the process IDs whose parent is pid, from the kernel's process table.
func children(pid int) []int {
	procs, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil
	}
	var out []int
	for _, p := range procs {
		if int(p.Eproc.Ppid) == pid {
			out = append(out, int(p.Proc.P_pid))
		}
	}
	return out
}
