package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/personabackend/app/cli"
)

func TestAnInterruptedDeployStopsTerraformCleanly(t *testing.T) {
	p := newProject(t)
	useTerraform(t)
	p.slow = true

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- cli.Main(ctx, []string{"deploy", "--stage", "dev"}, p, strings.NewReader(""), &stdout, &stderr)
	}()

	// terraform writes the lock info while apply holds the state lock.
	lockInfo := filepath.Join(p.root, ".state", ".persona-dev.tfstate.lock.info")
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(lockInfo); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("apply did not start:\n%s%s", stdout.String(), stderr.String())
		}
	}
	cancel()
	// A terraform that ignored the interrupt would be killed after the runner's minute
	// of grace, leaving its lock behind: the lock, not the time taken, tells them apart.
	select {
	case code := <-done:
		if code == 0 || strings.Contains(stdout.String(), "Deployed stage") {
			t.Errorf("an interrupted deploy reports success (exit %d):\n%s", code, stdout.String())
		}
		assertContains(t, "deploy error", stderr.String(), "deploy for stage dev was interrupted")
	case <-time.After(3 * time.Minute):
		t.Fatal("deploy did not stop after its context ended")
	}
	if _, err := os.Stat(lockInfo); err == nil {
		t.Error("the state is still locked after the interrupted deploy: terraform did not stop cleanly")
	}
	p.slow = false
	mustRun(t, p, "deploy", "--stage", "dev")
}
