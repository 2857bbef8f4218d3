package web

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/personabackend/app/internal/localaws/localawstest"
)

// TestThePagesOwnTestsPass runs the page's unit tests (src/**/*.test.ts: the
// config rules shared with this package, the form's rules, the API error
// mapping, polling) with Node's test runner.
func TestThePagesOwnTestsPass(t *testing.T) {
	if _, err := os.Stat("node_modules/.package-lock.json"); err != nil {
		localawstest.SkipOrFail(t, errors.New("web/node_modules is missing: run `make tools` (or `cd web && npm ci`)"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "npm", "test").CombinedOutput()
	if err != nil {
		t.Fatalf("`cd web && npm test` failed: %v\n%s", err, out)
	}
}
