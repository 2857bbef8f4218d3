package localawstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/personabackend/app/internal/localaws"
)

// GoawsTool is goaws, SNS and SQS in the query protocol.
var GoawsTool = localaws.Tool{Name: "goaws", EnvVar: "GOAWS_BIN", InRepo: ".tools/bin/goaws"}

// Goaws starts goaws for the test and stops it when the test ends.
func Goaws(tb testing.TB) *localaws.Server {
	tb.Helper()
	dir := tb.TempDir()
	return startForTest(tb, func(ctx context.Context) (*localaws.Server, error) { return StartGoaws(ctx, dir) })
}

// StartGoaws starts goaws on a free port with its configuration in dir.
func StartGoaws(ctx context.Context, dir string) (*localaws.Server, error) {
	bin, err := GoawsTool.Path()
	if err != nil {
		return nil, err
	}
	return localaws.StartServer(ctx, GoawsTool.Name, func(port int) *exec.Cmd {
		conf := fmt.Sprintf("Local:\n  Host: 127.0.0.1\n  Port: %d\n  Region: %s\n  AccountId: \"100010001000\"\n  LogToFile: false\n  QueueAttributeDefaults:\n    VisibilityTimeout: 30\n    ReceiveMessageWaitTimeSeconds: 0\n", port, Region)
		path := filepath.Join(dir, "goaws.yaml")
		os.WriteFile(path, []byte(conf), 0o600)
		cmd := exec.Command(bin, "-config", path, "Local")
		cmd.Dir = dir
		return cmd
	})
}
