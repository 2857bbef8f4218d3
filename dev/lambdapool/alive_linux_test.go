package lambdapool

import (
	"os"
	"strconv"
	"strings"
)

// alive reports whether pid runs; a zombie waiting for its new parent to reap it does not.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	return !strings.HasPrefix(rest, "Z")
}
