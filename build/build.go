// Package build compiles Go Lambda handlers into bootstrap binaries and reproducible
// zip files, skipping the work when a handler's inputs have not changed.
package build

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Target is the platform a function is built for.
type Target struct {
	GOOS, GOARCH string
}

// Lambda is the platform of deployed functions: provided.al2023 on arm64.
var Lambda = Target{GOOS: "linux", GOARCH: "arm64"}

// Host is this machine's platform, for running handlers locally under the Lambda
// emulator, which is built for this machine too (Linux or macOS).
var Host = Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}

// Flags every function is built with: a static, stripped, reproducible binary
// without the RPC server that only the old go1.x runtime needed.
var buildFlags = []string{"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid="}

// Artifact is a built function.
type Artifact struct {
	Package   string // as given, e.g. "./lambdas/list"
	Binary    string // path of the bootstrap binary
	Zip       string // path of the zip holding bootstrap; empty from a binary-only Builder
	ZipSHA256 string // hex sha256 of the zip file
	ZipBytes  int64
	// SourceDirs are the module's own folders the binary is built from: the
	// package's and those of the module-local packages it imports.
	SourceDirs []string
	Rebuilt    bool // false when the cached artifact was still up to date
	Duration   time.Duration
}

// SourceCodeHash is the zip's hash as Lambda and Terraform's filebase64sha256 write it.
func (a Artifact) SourceCodeHash() string {
	sum, _ := hex.DecodeString(a.ZipSHA256)
	return base64.StdEncoding.EncodeToString(sum)
}

// Builder builds each package at most once per Builder, several at a time.
type Builder struct {
	root     string // the Go module root
	cacheDir string
	target   Target
	zip      bool
	slots    chan struct{}

	mu     sync.Mutex
	builds map[string]*pending

	goVersionOnce sync.Once
	goVersion     string
	goVersionErr  error
}

type pending struct {
	done     chan struct{}
	artifact Artifact
	err      error
}

// NewBuilder returns a Builder of deployable functions (binary and zip) for the
// module rooted at root that keeps its artifacts under cacheDir.
func NewBuilder(root, cacheDir string, target Target) *Builder {
	b := NewBinaryBuilder(root, cacheDir, target)
	b.zip = true
	return b
}

// NewBinaryBuilder returns a Builder of bootstrap binaries alone, for running
// functions locally.
func NewBinaryBuilder(root, cacheDir string, target Target) *Builder {
	return &Builder{
		root:     root,
		cacheDir: cacheDir,
		target:   target,
		slots:    make(chan struct{}, max(1, runtime.NumCPU())),
		builds:   map[string]*pending{},
	}
}

// Start begins building pkg in the background unless it has been started already.
func (b *Builder) Start(ctx context.Context, pkg string) {
	b.start(ctx, pkg)
}

// Wait starts pkg if needed and returns its artifact once built.
func (b *Builder) Wait(ctx context.Context, pkg string) (Artifact, error) {
	p := b.start(ctx, pkg)
	select {
	case <-p.done:
		return p.artifact, p.err
	case <-ctx.Done():
		return Artifact{}, ctx.Err()
	}
}

func (b *Builder) start(ctx context.Context, pkg string) *pending {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.builds[pkg]; ok {
		return p
	}
	p := &pending{done: make(chan struct{})}
	b.builds[pkg] = p
	go func() {
		defer close(p.done)
		p.artifact, p.err = b.build(ctx, pkg)
	}()
	return p
}

func (b *Builder) build(ctx context.Context, pkg string) (Artifact, error) {
	started := time.Now()
	if !strings.HasPrefix(pkg, "./") {
		return Artifact{}, fmt.Errorf("function package %q: give a path inside the module starting with ./ (for example ./lambdas/list)", pkg)
	}
	dir := filepath.Join(b.cacheDir, b.target.GOOS+"-"+b.target.GOARCH, strings.Trim(filepath.ToSlash(filepath.Clean(pkg)), "./"))
	art := Artifact{Package: pkg, Binary: filepath.Join(dir, "bootstrap")}
	if b.zip {
		art.Zip = filepath.Join(dir, "bootstrap.zip")
	}
	fingerprint, sourceDirs, err := b.fingerprint(ctx, pkg)
	if err != nil {
		return Artifact{}, err
	}
	art.SourceDirs = sourceDirs
	stampPath := filepath.Join(dir, "inputs.sha256")
	if stamp, err := os.ReadFile(stampPath); err == nil && string(stamp) == fingerprint {
		if err := art.describe(); err == nil {
			art.Duration = time.Since(started)
			return art, nil
		}
	}

	// Compiling is what needs the limit; checking fingerprints runs freely.
	select {
	case b.slots <- struct{}{}:
		defer func() { <-b.slots }()
	case <-ctx.Done():
		return Artifact{}, ctx.Err()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("building %s: %w", pkg, err)
	}
	// A stale stamp must not vouch for a half-written artifact if this build fails.
	if err := os.Remove(stampPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Artifact{}, fmt.Errorf("building %s: %w", pkg, err)
	}
	if err := b.compile(ctx, pkg, art.Binary); err != nil {
		return Artifact{}, err
	}
	if b.zip {
		if err := writeZip(art.Binary, art.Zip); err != nil {
			return Artifact{}, fmt.Errorf("zipping %s: %w", pkg, err)
		}
	}
	if err := art.describe(); err != nil {
		return Artifact{}, err
	}
	if err := os.WriteFile(stampPath, []byte(fingerprint), 0o644); err != nil {
		return Artifact{}, fmt.Errorf("recording build of %s: %w", pkg, err)
	}
	art.Rebuilt = true
	art.Duration = time.Since(started)
	return art, nil
}

// compile builds pkg beside binary and renames it into place, so processes still
// running the old binary keep it and nothing ever runs a half-written one.
func (b *Builder) compile(ctx context.Context, pkg, binary string) error {
	tmp := binary + ".new"
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", tmp, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = b.root
	cmd.Env = b.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("building %s for %s/%s failed (run `go build %s` to see it alone):\n%s",
			pkg, b.target.GOOS, b.target.GOARCH, pkg, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(tmp, binary); err != nil {
		return fmt.Errorf("installing the build of %s: %w", pkg, err)
	}
	return nil
}

func (b *Builder) env() []string { return targetEnv(b.target) }

func targetEnv(t Target) []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH)
}

// describe checks the artifact's files exist and records the zip's hash and size.
func (a *Artifact) describe() error {
	if _, err := os.Stat(a.Binary); err != nil {
		return err
	}
	if a.Zip == "" {
		return nil
	}
	f, err := os.Open(a.Zip)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("hashing %s: %w", a.Zip, err)
	}
	a.ZipSHA256 = hex.EncodeToString(h.Sum(nil))
	a.ZipBytes = n
	return nil
}

// sourcePackage is one package a function's binary is built from, as go list tells.
type sourcePackage struct {
	Dir, ImportPath string
	Standard        bool
	GoFiles         []string
	EmbedFiles      []string
	Module          *struct {
		Path, Version string
		Main          bool
		Replace       *struct{ Version string }
	}
	Error *struct{ Err string }
}

// local reports whether the package's files must be read to know they changed:
// the module's own, and those of a dependency replaced by a local folder. Other
// dependencies are fixed by their version.
func (p sourcePackage) local() bool {
	if p.Standard {
		return false
	}
	return p.Module == nil || p.Module.Main || (p.Module.Replace != nil && p.Module.Replace.Version == "")
}

// listSources lists every package pkg is built from for target.
func listSources(ctx context.Context, root, pkg string, env []string) ([]sourcePackage, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-tags", "lambda.norpc", "-json=Dir,ImportPath,Standard,GoFiles,EmbedFiles,Module,Error", pkg)
	cmd.Dir = root
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the sources of %s: %v: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	var pkgs []sourcePackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p sourcePackage
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("reading the sources of %s: %w", pkg, err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("function package %s: %s", pkg, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// SourceDirs lists the folders whose files pkg is built from for target, other
// than versioned dependencies: what to watch for changes.
func SourceDirs(ctx context.Context, root, pkg string, target Target) ([]string, error) {
	pkgs, err := listSources(ctx, root, pkg, targetEnv(target))
	if err != nil {
		return nil, err
	}
	return localDirs(pkgs), nil
}

func localDirs(pkgs []sourcePackage) []string {
	var dirs []string
	for _, p := range pkgs {
		if p.local() {
			dirs = append(dirs, p.Dir)
		}
	}
	sort.Strings(dirs)
	return dirs
}

// fingerprint hashes everything the binary depends on: the toolchain, target and
// flags, the contents of every module-local source file, and the exact versions
// of the other modules, so an unchanged function is recognised without compiling.
// It also returns the module-local folders it read.
func (b *Builder) fingerprint(ctx context.Context, pkg string) (string, []string, error) {
	pkgs, err := listSources(ctx, b.root, pkg, b.env())
	if err != nil {
		return "", nil, err
	}
	b.goVersionOnce.Do(func() {
		// Asked the way go build is run, so a toolchain chosen by go.mod or
		// GOTOOLCHAIN is the one named; not under one caller's ctx, as it is kept.
		cmd := exec.Command("go", "env", "GOVERSION")
		cmd.Dir = b.root
		cmd.Env = b.env()
		out, err := cmd.Output()
		b.goVersion, b.goVersionErr = strings.TrimSpace(string(out)), err
	})
	if b.goVersionErr != nil {
		return "", nil, fmt.Errorf("reading the Go version: %w", b.goVersionErr)
	}
	h := sha256.New()
	fmt.Fprintf(h, "go=%s target=%s/%s flags=%q goflags=%q\n", b.goVersion, b.target.GOOS, b.target.GOARCH, buildFlags, os.Getenv("GOFLAGS"))
	for _, p := range pkgs {
		switch {
		case p.Standard:
			continue
		case !p.local():
			fmt.Fprintf(h, "dep %s %s@%s\n", p.ImportPath, p.Module.Path, p.Module.Version)
			continue
		}
		files := append(append([]string{}, p.GoFiles...), p.EmbedFiles...)
		sort.Strings(files)
		for _, name := range files {
			data, err := os.ReadFile(filepath.Join(p.Dir, name))
			if err != nil {
				return "", nil, fmt.Errorf("reading the sources of %s: %w", pkg, err)
			}
			fmt.Fprintf(h, "file %s/%s %x\n", p.ImportPath, name, sha256.Sum256(data))
		}
	}
	return hex.EncodeToString(h.Sum(nil)), localDirs(pkgs), nil
}

// zipEpoch is the fixed modification time written into every zip, so that the
// same binary always gives the same zip bytes and Terraform sees no change.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func writeZip(binary, zipPath string) error {
	data, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(zipPath), ".bootstrap-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	zw := zip.NewWriter(tmp)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipEpoch}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), zipPath)
}

// ModuleRoot walks up from dir to the folder holding go.mod.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or any parent: run from inside the project", dir)
		}
	}
}
