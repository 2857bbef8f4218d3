//go:build unix

package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockSource holds an exclusive lock on the source folder src, across
// processes, until unlock is called. The lock file lives in the temporary
// folder, named after src, so it is never part of the sources.
func lockSource(ctx context.Context, src string) (unlock func(), err error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(abs))
	path := filepath.Join(os.TempDir(), "site-build-"+hex.EncodeToString(sum[:8])+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking %s for the build: %w", src, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking %s for the build: %w", src, err)
		}
		// Another process is building this site; its build is usually the one
		// this caller wants, and the fingerprint check after the lock tells.
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another build of %s: %w", src, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
