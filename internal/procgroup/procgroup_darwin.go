package procgroup

import (
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// Own puts cmd in a process group of its own, so that Kill also ends
// its children. macOS has no parent-death signal, so onParentDeath is not sent: a
// process killed with SIGKILL leaves cmd running (an interrupt or SIGTERM, which
// the process handles by stopping what it started, does not).
func Own(cmd *exec.Cmd, onParentDeath syscall.Signal) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// childProcesses lists the process IDs whose parent is pid, from the kernel's process table.
func childProcesses(pid int) []int {
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
