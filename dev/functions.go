package dev

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/dev/lambdapool"
	"github.com/personabackend/app/topology"
)

// buildAndStartDynamoDB builds every function and starts dynalite with the stack's
// tables, all at once: builds take longest. It returns each function's bootstrap by
// name and each package's source folders.
func (s *Session) buildAndStartDynamoDB(ctx context.Context) (map[string]string, map[string][]string, error) {
	builder := s.builder()
	for _, fn := range s.stack.Functions {
		builder.Start(ctx, fn.Package)
	}
	dbErr := s.startDynamoDB(ctx)
	bootstraps := map[string]string{}
	sources := map[string][]string{}
	var errs []error
	for _, fn := range s.stack.Functions {
		art, err := builder.Wait(ctx, fn.Package)
		if err != nil {
			errs = append(errs, fmt.Errorf("function %s: %w", fn.Name, err))
			continue
		}
		bootstraps[fn.Name] = art.Binary
		sources[fn.Package] = art.SourceDirs
	}
	if dbErr != nil {
		return nil, nil, dbErr
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return bootstraps, sources, nil
}

// builder builds functions for this machine, each package at most once; a rebuild
// takes a new one. Unchanged functions are found up to date without relinking. The
// builds are a cache, kept with synth's under .build/, apart from the stages' data.
func (s *Session) builder() *build.Builder {
	return build.NewBinaryBuilder(s.opts.Root, filepath.Join(s.opts.Root, ".build", "dev"), build.Host)
}

// startFunctions starts each function's pool with one process running, so the first
// request does not wait for an emulator to start.
func (s *Session) startFunctions(ctx context.Context, bootstraps map[string]string) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(s.stack.Functions))
	for _, fn := range s.stack.Functions {
		pool, err := s.newPool(fn, bootstraps[fn.Name])
		if err != nil {
			return err
		}
		s.pools[fn.Name] = pool
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pool.Warm(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (s *Session) newPool(fn topology.Function, bootstrap string) (*lambdapool.Pool, error) {
	env, err := functionEnv(s.stack, fn, s.AWSEndpoint, s.broker, s.access.credentials[fn.Name])
	if err != nil {
		return nil, err
	}
	emulator, err := lambdapool.EmulatorTool.PathIn(s.opts.Root)
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(fn.TimeoutSeconds) * time.Second
	return lambdapool.New(lambdapool.Config{
		Name: fn.Name, Emulator: emulator, Bootstrap: bootstrap, Env: env,
		Size: s.opts.PoolSize, Timeout: timeout, Log: s.log,
	}), nil
}

// Invoke runs the function named function with payload on its current pool.
// As in Lambda, an invoke runs to its end even when the caller stops waiting
// (an HTTP client hanging up); only closing the session cuts it short.
func (s *Session) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	s.mu.RLock()
	pool, ok := s.pools[function]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("function %s is not running in stage %s", function, s.stack.Stage)
	}
	ictx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	defer context.AfterFunc(s.runCtx, cancel)()
	return pool.Invoke(ictx, payload)
}

// rebuild builds the functions whose sources changed, all at once, and swaps in their
// new code; a build that fails leaves the function running its last good build. One
// broken package that several functions share is reported once, naming them all.
func (s *Session) rebuild(ctx context.Context, w *watcher, fns []string) {
	sort.Strings(fns)
	begin := time.Now()
	builder := s.builder()
	var todo []topology.Function
	for _, name := range fns {
		if fn, ok := s.stack.Function(name); ok {
			builder.Start(ctx, fn.Package)
			todo = append(todo, fn)
		}
	}
	type failure struct {
		functions []string
		err       error
	}
	var failures []*failure
	byCause := map[string]*failure{}
	defer func() {
		for _, f := range failures {
			s.log.printf("%s: build failed, still serving the previous build:\n%v", strings.Join(f.functions, ", "), f.err)
		}
	}()
	for _, fn := range todo {
		art, err := builder.Wait(ctx, fn.Package)
		if err != nil {
			// The same compiler output for another package is the same cause.
			cause := strings.ReplaceAll(err.Error(), fn.Package, "\x00")
			f := byCause[cause]
			if f == nil {
				f = &failure{err: err}
				byCause[cause] = f
				failures = append(failures, f)
			}
			f.functions = append(f.functions, fn.Name)
			continue
		}
		pool, err := s.newPool(fn, art.Binary)
		if err == nil {
			err = pool.Warm(ctx)
		}
		if err != nil {
			s.log.printf("%s: starting the new build: %v", fn.Name, err)
			continue
		}
		if !s.swapPool(fn.Name, pool) {
			return
		}
		s.log.printf("%s: rebuilt and reloaded in %s", fn.Name, time.Since(begin).Round(time.Millisecond))
		// The edit may have changed what the function imports.
		if err := w.set(fn.Name, art.SourceDirs); err != nil {
			s.log.printf("%s: watching its sources: %v", fn.Name, err)
		}
	}
}

// swapPool puts pool in service for the function named name and closes the pool it
// replaces. Once the session is closing it closes pool instead and reports false:
// Close has already taken the pools it stops and would never see this one.
func (s *Session) swapPool(name string, pool *lambdapool.Pool) bool {
	s.mu.Lock()
	if s.runCtx.Err() != nil {
		s.mu.Unlock()
		pool.Close()
		return false
	}
	old := s.pools[name]
	s.pools[name] = pool
	s.mu.Unlock()
	if old != nil {
		// Invokes already running on the old build finish there; Close waits for them.
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			old.Close()
		}()
	}
	return true
}
