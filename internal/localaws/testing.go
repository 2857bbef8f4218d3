package localaws

import (
	"context"
	"errors"
	"testing"
)

// Dynalite starts dynalite for the test and stops it when the test ends.
// It skips the test, saying how to install dynalite, when it is missing.
func Dynalite(tb testing.TB) *Server {
	tb.Helper()
	return startForTest(tb, StartDynalite)
}

// Goaws starts goaws for the test and stops it when the test ends.
// It skips the test, saying how to install goaws, when it is missing.
func Goaws(tb testing.TB) *Server {
	tb.Helper()
	return startForTest(tb, StartGoaws)
}

func startForTest(tb testing.TB, start func(context.Context) (*Server, error)) *Server {
	tb.Helper()
	srv, err := start(context.Background())
	if errors.Is(err, ErrToolMissing) {
		tb.Skip(err.Error())
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			tb.Errorf("stopping local server: %v", err)
		}
	})
	return srv
}
