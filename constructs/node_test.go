package constructs

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv makes the test binary, run again by a test, declare a stack and exit.
const childEnv = "CONSTRUCTS_TEST_DECLARE_ONLY"

func TestJSIIPrintsNoNodeEndOfLifeBanner(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		app, err := NewApp(context.Background(), AppProps{Name: "quiet", Outdir: t.TempDir(), Region: "eu-west-1", DeclareOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Declare(func() error {
			_, err := app.NewStack(Stage{Name: "dev"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestJSIIPrintsNoNodeEndOfLifeBanner$", "-test.v")
	cmd.Env = append(withoutEnv(os.Environ(), nodeEndOfLifeEnv), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("declaring a stack in a fresh process: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "end-of-life") || strings.Contains(string(out), "!!!!") {
		t.Errorf("a command that starts jsii prints its Node banner:\n%s", out)
	}
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
