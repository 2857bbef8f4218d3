package localaws

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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

// motoChecks holds, per Python interpreter, whether it can run moto's server.
var motoChecks struct {
	sync.Mutex
	err map[string]error
}

// motoPython returns the Python interpreter that can run moto's server: MOTO_PYTHON,
// else python3 on PATH. Each interpreter is checked once per process.
func motoPython() (string, error) {
	python := os.Getenv(MotoPythonEnv)
	if python == "" {
		var err error
		if python, err = exec.LookPath("python3"); err != nil {
			return "", &ToolMissingError{Tool: "moto", Problem: "python3 is not on PATH", Fix: "install Python 3, then " + MotoInstall}
		}
	}
	motoChecks.Lock()
	defer motoChecks.Unlock()
	if err, checked := motoChecks.err[python]; checked {
		return python, err
	}
	var err error
	if out, runErr := exec.Command(python, "-c", "import moto.server, flask").CombinedOutput(); runErr != nil {
		why := lastLine(string(out))
		var notRun *fs.PathError
		switch {
		case why != "":
		case errors.As(runErr, &notRun): // the interpreter itself is missing
			why = notRun.Err.Error()
		default:
			why = runErr.Error()
		}
		err = &ToolMissingError{Tool: "moto", Problem: python + ": " + why,
			Fix: fmt.Sprintf("install it with %s, or point %s at a Python that has it", MotoInstall, MotoPythonEnv)}
	}
	if motoChecks.err == nil {
		motoChecks.err = map[string]error{}
	}
	motoChecks.err[python] = err
	return python, err
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
