package localaws

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestAMissingMotoSaysOnceWhatIsMissingAndHowToInstallIt(t *testing.T) {
	t.Setenv(MotoPythonEnv, "/nonexistent/python3")
	_, err := StartMoto(context.Background())
	var missing *ToolMissingError
	if !errors.Is(err, ErrToolMissing) || !errors.As(err, &missing) {
		t.Fatalf("err = %v, want a ToolMissingError", err)
	}
	want := "moto cannot run here (/nonexistent/python3: "
	if got := err.Error(); !strings.HasPrefix(got, want) || strings.Count(got, MotoInstall) != 1 || strings.Contains(got, ErrToolMissing.Error()) {
		t.Errorf("error %q, want it to start %q and say how to install moto once", got, want)
	}
	if !strings.Contains(missing.Fix, MotoInstall) || !strings.Contains(missing.Fix, MotoPythonEnv) {
		t.Errorf("fix %q does not say how to install moto or where to point %s", missing.Fix, MotoPythonEnv)
	}
}
