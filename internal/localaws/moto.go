package localaws

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// MotoPythonEnv names the Python interpreter that has moto installed; default python3 on PATH.
const MotoPythonEnv = "MOTO_PYTHON"

// MotoInstall is how a machine without moto gets it.
const MotoInstall = "pip install 'moto[server]'"

var motoCheck struct {
	once   sync.Once
	python string
	err    error
}

// motoPython returns a Python interpreter that can run moto's server, checked once per process.
func motoPython() (string, error) {
	motoCheck.once.Do(func() {
		python := os.Getenv(MotoPythonEnv)
		if python == "" {
			var err error
			if python, err = exec.LookPath("python3"); err != nil {
				motoCheck.err = fmt.Errorf("moto: python3 is not on PATH (install Python 3, then %s): %w", MotoInstall, ErrToolMissing)
				return
			}
		}
		out, err := exec.Command(python, "-c", "import moto.server, flask").CombinedOutput()
		if err != nil {
			why := lastLine(string(out))
			if why == "" {
				why = err.Error()
			}
			motoCheck.err = fmt.Errorf("moto: %s cannot run moto's server (%s); install it with %s or point %s at a Python that has it: %w",
				python, why, MotoInstall, MotoPythonEnv, ErrToolMissing)
			return
		}
		motoCheck.python = python
	})
	return motoCheck.python, motoCheck.err
}

// StartMoto starts moto's server on a free loopback port: one endpoint answering
// SSM, Cognito (cognito-idp), SNS, SQS, DynamoDB and IAM for any credentials, in the
// region of the request. Its state lives in memory and ends with the server. The dev
// mode runs its local Cognito on it; tests use it where it implements the API.
func StartMoto(ctx context.Context) (*Server, error) {
	python, err := motoPython()
	if err != nil {
		return nil, err
	}
	return StartServer(ctx, "moto", func(port int) *exec.Cmd {
		return exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	})
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
