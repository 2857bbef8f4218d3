package localawstest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

func TestAFunctionAnswersInvocationsThroughTheRuntimeAPI(t *testing.T) {
	ctx := context.Background()
	f := StartBootstrap(t, BuildBootstrap(t, "./internal/localaws/localawstest/testdata/echo"), nil)
	if f.InitDuration <= 0 {
		t.Errorf("InitDuration = %v, want the measured start-up time", f.InitDuration)
	}
	for _, tt := range []struct {
		event      string
		wantFailed bool
	}{{`{"n":1}`, false}, {`"fail"`, true}, {`{"n":2}`, false}} {
		res, err := f.Invoke(ctx, []byte(tt.event))
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed != tt.wantFailed || (!tt.wantFailed && string(res.Payload) != tt.event) {
			t.Fatalf("invoking with %s answered %+v (%s)", tt.event, res, res.Payload)
		}
	}
}

func TestAFunctionThatExitsDuringInitIsReportedWithItsOutput(t *testing.T) {
	exit, err := exec.LookPath("false")
	if err != nil {
		SkipOrFail(t, err)
	}
	_, err = StartFunction(context.Background(), exit, nil)
	if err == nil || !strings.Contains(err.Error(), "exited during initialisation") {
		t.Fatalf("err = %v, want the process reported as exited during initialisation", err)
	}
}
