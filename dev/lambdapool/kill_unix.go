//go:build unix

package lambdapool

import "syscall"

// killTree ends the emulator whose process id is pid and the bootstraps it started.
// The emulator starts each bootstrap in a process group of its own: end those
// groups first, then the emulator's.
func killTree(pid int) {
	for _, child := range children(pid) {
		_ = syscall.Kill(-child, syscall.SIGKILL)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
