package localaws

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestAMissingMotoSaysHowToInstallIt(t *testing.T) {
	t.Setenv(MotoPythonEnv, "/nonexistent/python3")
	motoCheck.once, motoCheck.python, motoCheck.err = sync.Once{}, "", nil
	t.Cleanup(func() { motoCheck.once, motoCheck.python, motoCheck.err = sync.Once{}, "", nil })
	_, err := StartMoto(context.Background())
	if !errors.Is(err, ErrToolMissing) {
		t.Fatalf("err = %v, want ErrToolMissing", err)
	}
	if !strings.Contains(err.Error(), "pip install 'moto[server]'") {
		t.Errorf("error %q does not say how to install moto", err)
	}
}
