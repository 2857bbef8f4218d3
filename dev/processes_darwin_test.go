package dev

import (
	"os/exec"
	"strings"
)

// processesUnder lists running processes whose command line mentions dir.
func processesUnder(dir string) []string {
	out, err := exec.Command("ps", "-axww", "-o", "pid=,stat=,command=").Output()
	if err != nil {
		return []string{"ps failed: " + err.Error()}
	}
	var found []string
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || strings.HasPrefix(fields[1], "Z") || !strings.Contains(line, dir) {
			continue
		}
		found = append(found, strings.TrimSpace(line))
	}
	return found
}
