package localawstest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/personabackend/app/internal/localaws"
)

// outcome is what a test that asked for a shared value was told: to skip, to fail,
// or nothing (it got the value).
type outcome struct {
	testing.TB
	skipped, failed string
}

func (o *outcome) Helper() {}

func (o *outcome) Skip(args ...any) {
	o.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}

func (o *outcome) Fatal(args ...any) {
	o.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

func (o *outcome) Fatalf(format string, args ...any) {
	o.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// ask runs Get as a test of its own would, and says what that test was told.
func ask[T any](t *testing.T, s *Shared[T]) (T, *outcome) {
	t.Helper()
	o := &outcome{TB: t}
	var v T
	done := make(chan struct{})
	go func() {
		defer close(done)
		v = s.Get(o)
	}()
	<-done
	return v, o
}

func TestASharedValueStartsOnceForEveryTestThatAsksAndStopsOnceAtTheEnd(t *testing.T) {
	starts, stops := 0, 0
	s := &Shared[int]{
		Start: func(context.Context) (int, error) { starts++; return 42, nil },
		Stop:  func(int) { stops++ },
	}
	for range 3 {
		if v, o := ask(t, s); v != 42 || o.skipped != "" || o.failed != "" {
			t.Fatalf("Get = %d (skipped %q, failed %q), want 42", v, o.skipped, o.failed)
		}
	}
	s.Close()
	s.Close()
	if starts != 1 || stops != 1 {
		t.Errorf("started %d times and stopped %d times, want once each", starts, stops)
	}
}

func TestASharedValueNoTestAskedForIsNeitherStartedNorStopped(t *testing.T) {
	s := &Shared[int]{
		Start: func(context.Context) (int, error) { t.Error("started"); return 0, nil },
		Stop:  func(int) { t.Error("stopped") },
	}
	s.Close()
}

func TestAMissingToolSkipsEveryTestThatAsksOrFailsThemInCI(t *testing.T) {
	missing := fmt.Errorf("moto: python3 is not on PATH: %w", localaws.ErrToolMissing)
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			s := &Shared[int]{Start: func(context.Context) (int, error) { return 0, missing }}
			for range 2 {
				_, o := ask(t, s)
				skipped, failed := o.skipped != "", o.failed != ""
				if skipped == (ci == "true") || failed != (ci == "true") || !strings.Contains(o.skipped+o.failed, missing.Error()) {
					t.Errorf("skipped %q, failed %q; want the missing tool named, in a skip unless CI=true", o.skipped, o.failed)
				}
			}
		})
	}
}

func TestAServerThatCannotStartFailsEveryTestThatAsks(t *testing.T) {
	t.Setenv("CI", "")
	s := &Shared[int]{Start: func(context.Context) (int, error) { return 0, errors.New("port taken") }}
	for range 2 {
		if _, o := ask(t, s); o.failed != "port taken" || o.skipped != "" {
			t.Errorf("skipped %q, failed %q; want a failure saying the port is taken", o.skipped, o.failed)
		}
	}
}
