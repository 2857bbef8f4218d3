package dev

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher reports which functions' sources changed, a short while after the last change
// so that an editor's burst of writes causes one rebuild.
type watcher struct {
	fs   *fsnotify.Watcher
	dirs map[string][]string // source folder to the functions built from it
}

const settle = 100 * time.Millisecond

func newWatcher() (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return &watcher{fs: fw, dirs: map[string][]string{}}, nil
}

// set replaces the folders watched for function fn.
func (w *watcher) set(fn string, dirs []string) error {
	for d, fns := range w.dirs {
		w.dirs[d] = slices.DeleteFunc(fns, func(f string) bool { return f == fn })
	}
	for _, d := range dirs {
		if len(w.dirs[d]) == 0 {
			if err := w.fs.Add(d); err != nil {
				return err
			}
		}
		w.dirs[d] = append(w.dirs[d], fn)
	}
	for d, fns := range w.dirs {
		if len(fns) == 0 {
			_ = w.fs.Remove(d)
			delete(w.dirs, d)
		}
	}
	return nil
}

// affected returns the functions built from the folder holding file, if it is Go source.
func (w *watcher) affected(file string) []string {
	base := filepath.Base(file)
	if !strings.HasSuffix(base, ".go") || strings.HasPrefix(base, ".") || strings.HasSuffix(base, "_test.go") {
		return nil
	}
	return w.dirs[filepath.Dir(file)]
}

// run collects changes and calls rebuild with the affected functions; rebuild may call set.
func (w *watcher) run(ctx context.Context, rebuild func([]string), logf func(string, ...any)) {
	pending := map[string]bool{}
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Remove|fsnotify.Rename) == 0 {
				continue
			}
			for _, fn := range w.affected(ev.Name) {
				pending[fn] = true
			}
			if len(pending) > 0 {
				timer = time.After(settle)
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			logf("watching sources: %v", err)
		case <-timer:
			fns := make([]string, 0, len(pending))
			for fn := range pending {
				fns = append(fns, fn)
			}
			pending = map[string]bool{}
			timer = nil
			rebuild(fns)
		}
	}
}

func (w *watcher) close() error { return w.fs.Close() }

// watch rebuilds functions when their sources change.
func (s *Session) watch(sources map[string][]string) error {
	w, err := newWatcher()
	if err != nil {
		return fmt.Errorf("watching sources: %w", err)
	}
	s.closers = append(s.closers, func() { w.close() })
	for _, fn := range s.stack.Functions {
		if err := w.set(fn.Name, sources[fn.Package]); err != nil {
			return fmt.Errorf("watching the sources of %s: %w", fn.Name, err)
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		w.run(s.runCtx, func(fns []string) { s.rebuild(s.runCtx, w, fns) }, s.log.printf)
	}()
	return nil
}
