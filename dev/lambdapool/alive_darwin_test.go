package lambdapool

import "golang.org/x/sys/unix"

// szomb is the state of a process that has exited and waits to be reaped (sys/proc.h).
const szomb = 5

// alive reports whether pid runs; a zombie waiting for its new parent to reap it does not.
func alive(pid int) bool {
	p, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	return err == nil && int(p.Proc.P_pid) == pid && p.Proc.P_stat != szomb
}
