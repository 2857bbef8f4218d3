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

// sourceDirs maps each of pkgs to the folders inside root whose Go files it is built
// from: its own and those of the module-local packages it imports. One go list
// answers for all of them.
func sourceDirs(ctx context.Context, root string, pkgs ...string) (map[string][]string, error) {
	args := append([]string{"list", "-deps", "-f", "{{.Dir}}\t{{if not .Standard}}{{join .Deps \" \"}}{{end}}\t{{.ImportPath}}"}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the packages of %s: %w\n%s", strings.Join(pkgs, " "), err, strings.TrimSpace(stderr.String()))
	}
	dirOf := map[string]string{}    // import path to folder, for folders inside root
	depsOf := map[string][]string{} // folder to the import paths it depends on
	prefix := root + string(filepath.Separator)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, rest, _ := strings.Cut(line, "\t")
		deps, importPath, _ := strings.Cut(rest, "\t")
		if dir != root && !strings.HasPrefix(dir, prefix) {
			continue
		}
		dirOf[importPath] = dir
		depsOf[dir] = strings.Fields(deps)
	}
	result := make(map[string][]string, len(pkgs))
	for _, pkg := range pkgs {
		own := filepath.Join(root, pkg)
		deps, ok := depsOf[own]
		if !ok {
			return nil, fmt.Errorf("listing the packages of %s: go list did not report it", pkg)
		}
		dirs := []string{own}
		for _, d := range deps {
			if dir, ok := dirOf[d]; ok {
				dirs = append(dirs, dir)
			}
		}
		result[pkg] = dirs
	}
	return result, nil
}
