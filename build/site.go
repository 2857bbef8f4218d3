package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/personabackend/app/internal/procgroup"
)

// Site is a static site built by its own tools (e.g. npm and Next.js) from a
// folder of the module.
type Site struct {
	// Name names the site's folder in the build cache, <cache>/<Name>.
	Name string
	// Dir is the site's source folder, relative to the module root, e.g. "web".
	Dir string
	// Install fetches the site's dependencies, run in Dir, e.g. npm ci. It runs
	// when Installed is missing or older than Lockfile, as make would decide.
	Install   []string
	Installed string // a file Install writes last, relative to Dir, e.g. node_modules/.package-lock.json
	Lockfile  string // relative to Dir, e.g. package-lock.json
	// Build writes the site into Output, run in Dir, e.g. npm run build. It gets
	// the environment, Env, and SITE_BUILD_ID: a fingerprint of the sources, to
	// name the build by, so the same sources give the same files.
	Build  []string
	Env    []string
	Output string // the folder Build writes, relative to Dir, e.g. out
	// Sources lists the files and folders under Dir that Build reads, e.g. src and
	// package.json: only they are fingerprinted, so editing anything else in Dir (a Go
	// package beside the site, its tests, a README) rebuilds nothing. Empty means every
	// file under Dir but Ignore and Output.
	Sources []string
	// Ignore lists the folders under Dir that the tools write (dependencies,
	// caches, Output): they are not sources.
	Ignore []string
}

// SiteArtifact is a built site.
type SiteArtifact struct {
	Name string
	// Dir holds the built files, <cache>/<Name>/out: replaced whole by a rebuild,
	// never written into.
	Dir         string
	Fingerprint string // hex sha256 of everything the build read: sources, Node version, commands
	Files       int
	Bytes       int64
	Rebuilt     bool // false when the cached build was still up to date
	Duration    time.Duration
}

// BuildIDEnv is the environment variable through which Build receives the
// fingerprint of the sources.
const BuildIDEnv = "SITE_BUILD_ID"

// BuildID is the short form of a fingerprint that a build names itself by.
func BuildID(fingerprint string) string { return fingerprint[:20] }

// SiteBuilder builds each site at most once per SiteBuilder.
type SiteBuilder struct {
	root     string
	cacheDir string

	mu     sync.Mutex
	builds map[string]*pendingSite

	nodeOnce    sync.Once
	nodeVersion string
	nodeErr     error
}

type pendingSite struct {
	done     chan struct{}
	artifact SiteArtifact
	err      error
}

// NewSiteBuilder returns a SiteBuilder for the module rooted at root that keeps
// its builds under cacheDir (e.g. <root>/.build/site).
func NewSiteBuilder(root, cacheDir string) *SiteBuilder {
	return &SiteBuilder{root: root, cacheDir: cacheDir, builds: map[string]*pendingSite{}}
}

// Start begins building site in the background unless it has been started already.
func (b *SiteBuilder) Start(ctx context.Context, site Site) {
	b.start(ctx, site)
}

// Wait starts site if needed and returns it once built.
func (b *SiteBuilder) Wait(ctx context.Context, site Site) (SiteArtifact, error) {
	p := b.start(ctx, site)
	select {
	case <-p.done:
		return p.artifact, p.err
	case <-ctx.Done():
		return SiteArtifact{}, ctx.Err()
	}
}

func (b *SiteBuilder) start(ctx context.Context, site Site) *pendingSite {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.builds[site.Name]; ok {
		return p
	}
	p := &pendingSite{done: make(chan struct{})}
	b.builds[site.Name] = p
	go func() {
		defer close(p.done)
		p.artifact, p.err = b.build(ctx, site)
	}()
	return p
}

func (s Site) check() error {
	switch {
	case s.Name == "" || strings.ContainsAny(s.Name, `/\`) || s.Name == "." || s.Name == "..":
		return fmt.Errorf("site %q: give a Name of one folder name, e.g. web", s.Name)
	case s.Dir == "" || filepath.IsAbs(s.Dir) || !filepath.IsLocal(s.Dir):
		return fmt.Errorf("site %s: Dir %q must be a folder inside the module, e.g. web", s.Name, s.Dir)
	case len(s.Build) == 0:
		return fmt.Errorf("site %s: give the Build command, e.g. npm run build", s.Name)
	case len(s.Install) > 0 && (s.Installed == "" || s.Lockfile == ""):
		return fmt.Errorf("site %s: an Install command needs Installed and Lockfile to tell when it must run", s.Name)
	case s.Output == "" || !filepath.IsLocal(s.Output):
		return fmt.Errorf("site %s: Output %q must be a folder inside %s, e.g. out", s.Name, s.Output, s.Dir)
	}
	for _, source := range s.Sources {
		if !filepath.IsLocal(source) {
			return fmt.Errorf("site %s: source %q must be a file or folder inside %s, e.g. src", s.Name, source, s.Dir)
		}
	}
	return nil
}

func (b *SiteBuilder) build(ctx context.Context, site Site) (SiteArtifact, error) {
	started := time.Now()
	if err := site.check(); err != nil {
		return SiteArtifact{}, err
	}
	src := filepath.Join(b.root, site.Dir)
	if info, err := os.Stat(src); err != nil || !info.IsDir() {
		return SiteArtifact{}, fmt.Errorf("site %s: no folder %s in the module", site.Name, src)
	}
	home := filepath.Join(b.cacheDir, site.Name)
	art := SiteArtifact{Name: site.Name, Dir: filepath.Join(home, "out")}
	stampPath := filepath.Join(home, "inputs.sha256")

	// Builds of one source folder share its dependencies and output: one at a
	// time, across processes too (tests and synth may run together).
	unlock, err := lockSource(ctx, src)
	if err != nil {
		return SiteArtifact{}, fmt.Errorf("site %s: %w", site.Name, err)
	}
	defer unlock()

	fingerprint, err := b.siteFingerprint(site, src)
	if err != nil {
		return SiteArtifact{}, err
	}
	art.Fingerprint = fingerprint
	if stamp, err := os.ReadFile(stampPath); err == nil && string(stamp) == fingerprint {
		if err := art.describe(); err == nil {
			art.Duration = time.Since(started)
			return art, nil
		}
	}

	if err := os.MkdirAll(home, 0o755); err != nil {
		return SiteArtifact{}, fmt.Errorf("site %s: %w", site.Name, err)
	}
	if site.needsInstall(src) {
		if err := b.run(ctx, site, src, site.Install, nil); err != nil {
			return SiteArtifact{}, err
		}
	}
	built := filepath.Join(src, site.Output)
	if err := os.RemoveAll(built); err != nil {
		return SiteArtifact{}, fmt.Errorf("site %s: clearing the previous output: %w", site.Name, err)
	}
	env := append(slices.Clone(site.Env), BuildIDEnv+"="+BuildID(fingerprint))
	if err := b.run(ctx, site, src, site.Build, env); err != nil {
		return SiteArtifact{}, err
	}
	if info, err := os.Stat(built); err != nil || !info.IsDir() {
		return SiteArtifact{}, fmt.Errorf("site %s: `%s` wrote no %s: the build must write the static site there (Next.js: output: \"export\")",
			site.Name, strings.Join(site.Build, " "), built)
	}
	// A stale stamp must not vouch for the new output if what follows fails.
	if err := os.Remove(stampPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return SiteArtifact{}, fmt.Errorf("site %s: %w", site.Name, err)
	}
	if err := replaceDir(built, art.Dir); err != nil {
		return SiteArtifact{}, fmt.Errorf("site %s: installing the build: %w", site.Name, err)
	}
	if err := art.describe(); err != nil {
		return SiteArtifact{}, fmt.Errorf("site %s: %w", site.Name, err)
	}
	// A build that rewrites its own sources (Next.js writes next-env.d.ts the
	// first time) would otherwise never match its stamp again.
	after, err := b.siteFingerprint(site, src)
	if err != nil {
		return SiteArtifact{}, err
	}
	if err := os.WriteFile(stampPath, []byte(after), 0o644); err != nil {
		return SiteArtifact{}, fmt.Errorf("site %s: recording the build: %w", site.Name, err)
	}
	art.Rebuilt = true
	art.Duration = time.Since(started)
	return art, nil
}

// needsInstall reports whether the dependencies are missing or older than the lockfile.
func (s Site) needsInstall(src string) bool {
	if len(s.Install) == 0 {
		return false
	}
	installed, err := os.Stat(filepath.Join(src, s.Installed))
	if err != nil {
		return true
	}
	lock, err := os.Stat(filepath.Join(src, s.Lockfile))
	return err != nil || lock.ModTime().After(installed.ModTime())
}

// outputTail is how many of a failed command's last output lines an error shows.
const outputTail = 30

// run runs a command of site in src and turns a failure into an error that
// names the command, shows its last output lines and says how to rerun it.
func (b *SiteBuilder) run(ctx context.Context, site Site, src string, argv, env []string) error {
	command := strings.Join(argv, " ")
	if _, err := exec.LookPath(argv[0]); err != nil {
		return fmt.Errorf("site %s: %s is not installed, so `%s` cannot run: install Node.js 20.9 or newer (it brings npm and npx)", site.Name, argv[0], command)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// npm runs the build in a child of its own (next build, and its workers): a stop
	// ends the whole process group, or they would go on building after npm is gone.
	procgroup.Own(cmd, syscall.SIGTERM)
	cmd.Cancel = func() error {
		procgroup.Kill(cmd)
		return nil
	}
	// Should a process that left the group keep the output open, Wait returns anyway.
	cmd.WaitDelay = 10 * time.Second
	cmd.Dir = src
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("site %s: `%s` stopped: %w", site.Name, command, ctx.Err())
		}
		rel, _ := filepath.Rel(b.root, src)
		return fmt.Errorf("site %s: `%s` failed (%v); its last lines:\n%s\nrun `cd %s && %s` to see it alone",
			site.Name, command, err, lastLines(out.String(), outputTail), rel, command)
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// siteFingerprint hashes what the build reads: the site's sources (every file under
// the source folder but the ignored ones, when it names none), the Node.js version,
// and the commands.
func (b *SiteBuilder) siteFingerprint(site Site, src string) (string, error) {
	b.nodeOnce.Do(func() {
		out, err := exec.Command("node", "--version").Output()
		b.nodeVersion, b.nodeErr = strings.TrimSpace(string(out)), err
	})
	if b.nodeErr != nil {
		return "", fmt.Errorf("site %s: reading the Node.js version (`node --version`): %w; install Node.js 20.9 or newer", site.Name, b.nodeErr)
	}
	h := sha256.New()
	fmt.Fprintf(h, "node=%s install=%q build=%q env=%q output=%q\n", b.nodeVersion, site.Install, site.Build, site.Env, site.Output)
	ignored := map[string]bool{filepath.Clean(site.Output): true}
	for _, dir := range site.Ignore {
		ignored[filepath.Clean(dir)] = true
	}
	roots := []string{src}
	if len(site.Sources) > 0 {
		roots = roots[:0]
		for _, source := range slices.Sorted(slices.Values(site.Sources)) {
			path := filepath.Join(src, source)
			if _, err := os.Lstat(path); err != nil {
				return "", fmt.Errorf("site %s: source %s: %w; remove it from the site's Sources if the build no longer reads it", site.Name, source, err)
			}
			roots = append(roots, path)
		}
	}
	for _, root := range roots {
		if err := hashTree(h, src, root, ignored); err != nil {
			return "", fmt.Errorf("site %s: reading the sources: %w", site.Name, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashTree writes to h the path and content of each file under root (a file, or a
// folder walked in lexical order), named relative to src, skipping the ignored
// folders.
func hashTree(h io.Writer, src, root string, ignored map[string]bool) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if ignored[rel] {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "file %q %x\n", filepath.ToSlash(rel), sha256.Sum256(data))
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "link %q %q\n", filepath.ToSlash(rel), target)
		}
		return nil
	})
}

// describe counts the built files and their bytes.
func (a *SiteArtifact) describe() error {
	a.Files, a.Bytes = 0, 0
	return filepath.WalkDir(a.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			a.Files++
			a.Bytes += info.Size()
		}
		return nil
	})
}

// replaceDir copies the built folder from beside the sources into dst, then
// swaps it in whole: until the swap dst is the previous build, untouched, so a
// failure leaves that build as it was. Files get fixed modes, so two builds of
// the same sources are identical byte for byte and mode for mode.
func replaceDir(built, dst string) error {
	next, old := dst+".new", dst+".old"
	if err := os.RemoveAll(next); err != nil {
		return err
	}
	err := filepath.WalkDir(built, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(built, path)
		if err != nil {
			return err
		}
		to := filepath.Join(next, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type().IsRegular():
			return copyFile(path, to)
		}
		return fmt.Errorf("%s is neither a file nor a folder; a static site holds only those", path)
	})
	if err != nil {
		os.RemoveAll(next)
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(dst, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(next, dst); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
