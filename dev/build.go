package dev

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// buildFunction compiles a function's package for this machine into dir/bootstrap.
// When running is true, emulator processes run the current binary: the new one is
// written beside it and renamed into place, so they keep running the old one.
// Otherwise it is built in place, which lets go build skip an up-to-date binary.
func buildFunction(ctx context.Context, root, pkg, dir string, running bool) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	bootstrap := filepath.Join(dir, "bootstrap")
	tmp := bootstrap
	if running {
		tmp = bootstrap + ".new"
	}
	// -w leaves out DWARF debugging data: linking without it is markedly faster, which
	// is most of a rebuild's time.
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-ldflags=-w", "-o", tmp, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", pkg, err, strings.TrimSpace(out.String()))
	}
	if tmp != bootstrap {
		if err := os.Rename(tmp, bootstrap); err != nil {
			return "", fmt.Errorf("installing %s: %w", bootstrap, err)
		}
	}
	return bootstrap, nil
}

// sourceDirs lists the folders inside root whose Go files pkg is built from:
// its own and those of the module-local packages it imports.
func sourceDirs(ctx context.Context, root, pkg string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the packages %s imports: %w\n%s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	var dirs []string
	prefix := root + string(filepath.Separator)
	for _, d := range strings.Split(string(out), "\n") {
		if d != "" && (strings.HasPrefix(d, prefix) || d == root) {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}
