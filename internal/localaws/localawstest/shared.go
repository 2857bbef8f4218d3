package localawstest

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/personabackend/app/internal/localaws"
)

// Shared is something the tests of one package share, such as a local server: the
// first test that asks for it (Get) starts it, and the package's TestMain stops it
// (Main). A Start that finds a tool missing says so by wrapping localaws.ErrToolMissing:
// every test that asks then skips saying what to install, or fails when CI=true; any
// other error fails them.
type Shared[T any] struct {
	Start func(context.Context) (T, error)
	Stop  func(T)

	once    sync.Once
	value   T
	err     error
	started bool
}

// SharedServer is a Shared local server started by start, e.g. localaws.StartMoto.
func SharedServer(start func(context.Context) (*localaws.Server, error)) *Shared[*localaws.Server] {
	return &Shared[*localaws.Server]{Start: start, Stop: (*localaws.Server).Stop}
}

// Get returns the shared value, starting it if no test has yet.
func (s *Shared[T]) Get(tb testing.TB) T {
	tb.Helper()
	s.once.Do(func() {
		s.value, s.err = s.Start(context.Background())
		s.started = s.err == nil
	})
	if errors.Is(s.err, localaws.ErrToolMissing) {
		SkipOrFail(tb, s.err)
	}
	if s.err != nil {
		tb.Fatal(s.err)
	}
	return s.value
}

// Close stops the shared value if a test started it.
func (s *Shared[T]) Close() {
	if s.started && s.Stop != nil {
		s.Stop(s.value)
	}
	s.started = false
}

// Main runs the package's tests, closes what they shared, and exits with their
// status: a package's TestMain is `func TestMain(m *testing.M) { localawstest.Main(m, moto) }`.
func Main(m *testing.M, shared ...interface{ Close() }) {
	code := m.Run()
	for _, s := range shared {
		s.Close()
	}
	os.Exit(code)
}
