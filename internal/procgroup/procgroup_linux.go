package procgroup

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// Own puts cmd in a process group of its own, so that Kill also ends
// its children, and has the kernel send it onParentDeath should this process die
// first (SIGKILL: a crashed test leaves no server behind; SIGTERM: a program that
// stops its own children, such as the Lambda emulator, gets to).
func Own(cmd *exec.Cmd, onParentDeath syscall.Signal) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: onParentDeath}
}

// childProcesses lists the process IDs whose parent is pid, from /proc.
func childProcesses(pid int) []int {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, task := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}
