package build

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixtureSite is testdata/site: a build in plain node, with an install step
// that records its runs in deps/installs.log.
var fixtureSite = Site{
	Name:      "fixture",
	Dir:       "site",
	Install:   []string{"node", "install.js"},
	Installed: "deps/.installed",
	Lockfile:  "package-lock.json",
	Build:     []string{"npm", "run", "build"},
	Output:    "out",
	Ignore:    []string{"deps"},
}

// newSiteModule copies testdata/site into a fresh module root as ./site.
func newSiteModule(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	err := os.CopyFS(filepath.Join(root, "site"), os.DirFS(filepath.Join("testdata", "site")))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func buildSite(t *testing.T, root, cache string) SiteArtifact {
	t.Helper()
	art, err := NewSiteBuilder(root, cache).Wait(context.Background(), fixtureSite)
	if err != nil {
		t.Fatal(err)
	}
	return art
}

// tree maps each file under dir to its sha256.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = fmt.Sprintf("%x", sha256.Sum256(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func installs(t *testing.T, root string) int {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(root, "site", "deps", "installs.log"))
	return strings.Count(string(data), "\n")
}

func TestASiteIsBuiltIntoTheCacheNamedByItsFingerprint(t *testing.T) {
	root := newSiteModule(t)
	cache := filepath.Join(root, ".build", "site")
	art := buildSite(t, root, cache)
	if !art.Rebuilt || art.Dir != filepath.Join(cache, "fixture", "out") || art.Files != 2 || art.Bytes == 0 || len(art.Fingerprint) != 64 {
		t.Fatalf("artifact = %+v", art)
	}
	page, err := os.ReadFile(filepath.Join(art.Dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `content="`+BuildID(art.Fingerprint)+`"`) {
		t.Errorf("index.html = %s, want the build id %s from %s", page, BuildID(art.Fingerprint), BuildIDEnv)
	}
	if n := installs(t, root); n != 1 {
		t.Errorf("install ran %d times, want 1", n)
	}
}

func TestAnUnchangedSiteIsNotRebuiltNorReinstalled(t *testing.T) {
	root := newSiteModule(t)
	cache := t.TempDir()
	first := buildSite(t, root, cache)
	before, err := os.Stat(filepath.Join(first.Dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	second := buildSite(t, root, cache)
	if second.Rebuilt || second.Fingerprint != first.Fingerprint || second.Files != first.Files || second.Bytes != first.Bytes {
		t.Errorf("second build = %+v, want the cached %+v", second, first)
	}
	if after, _ := os.Stat(filepath.Join(second.Dir, "index.html")); !os.SameFile(before, after) {
		t.Error("the cached output was rewritten")
	}
	if n := installs(t, root); n != 1 {
		t.Errorf("install ran %d times, want 1", n)
	}
}

func TestAChangedSourceRebuildsButToolOutputDoesNot(t *testing.T) {
	root := newSiteModule(t)
	cache := t.TempDir()
	first := buildSite(t, root, cache)
	// What the tools write (dependencies, output) is not a source.
	write(t, filepath.Join(root, "site", "deps", "extra.txt"), "x")
	write(t, filepath.Join(root, "site", "out", "stray.txt"), "x")
	if again := buildSite(t, root, cache); again.Rebuilt {
		t.Error("a file written in an ignored folder or in the output rebuilt the site")
	}
	write(t, filepath.Join(root, "site", "src", "app.js"), `console.log("bye");`+"\n")
	second := buildSite(t, root, cache)
	if !second.Rebuilt || second.Fingerprint == first.Fingerprint {
		t.Fatalf("after an edit: %+v", second)
	}
	got := tree(t, second.Dir)
	if _, ok := got["stray.txt"]; ok || len(got) != 2 {
		t.Errorf("output holds %v; want exactly the new build's two files", got)
	}
	if _, ok := got["assets/app-"+fmt.Sprintf("%x", sha256.Sum256([]byte(`console.log("bye");`+"\n")))[:8]+".js"]; !ok {
		t.Errorf("output holds %v; want the edited script", got)
	}
}

func TestASiteWithListedSourcesIsRebuiltOnlyWhenOneOfThemChanges(t *testing.T) {
	root := newSiteModule(t)
	cache := t.TempDir()
	site := fixtureSite
	site.Sources = []string{"src", "build.js", "package.json", "package-lock.json"}
	build := func() SiteArtifact {
		t.Helper()
		art, err := NewSiteBuilder(root, cache).Wait(context.Background(), site)
		if err != nil {
			t.Fatal(err)
		}
		return art
	}
	first := build()
	// The site's folder also holds what its build never reads: a Go package, its
	// tests, a README.
	write(t, filepath.Join(root, "site", "README.md"), "# The site\n")
	write(t, filepath.Join(root, "site", "site_test.go"), "package site\n")
	write(t, filepath.Join(root, "site", "e2e", "browser_test.go"), "package e2e\n")
	if again := build(); again.Rebuilt || again.Fingerprint != first.Fingerprint {
		t.Errorf("editing files outside the sources rebuilt the site: %+v", again)
	}
	write(t, filepath.Join(root, "site", "build.js"), "// a new build\n"+readFile(t, filepath.Join(root, "site", "build.js")))
	if edited := build(); !edited.Rebuilt || edited.Fingerprint == first.Fingerprint {
		t.Errorf("editing a listed source file did not rebuild the site: %+v", edited)
	}
	write(t, filepath.Join(root, "site", "src", "app.js"), `console.log("bye");`+"\n")
	if edited := build(); !edited.Rebuilt {
		t.Errorf("editing a file in a listed folder did not rebuild the site: %+v", edited)
	}
}

func TestASiteWhoseListedSourceIsMissingSaysSo(t *testing.T) {
	site := fixtureSite
	site.Sources = []string{"src", "vite.config.js"}
	_, err := NewSiteBuilder(newSiteModule(t), t.TempDir()).Wait(context.Background(), site)
	if err == nil || !strings.Contains(err.Error(), "source vite.config.js") || !strings.Contains(err.Error(), "remove it from the site's Sources") {
		t.Fatalf("err = %v, want the missing source named with what to do", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestTheSameSourcesGiveTheSameFiles(t *testing.T) {
	one, two := newSiteModule(t), newSiteModule(t)
	a := buildSite(t, one, t.TempDir())
	b := buildSite(t, two, t.TempDir())
	if a.Fingerprint != b.Fingerprint {
		t.Errorf("fingerprints %s and %s differ for the same sources in different folders", a.Fingerprint, b.Fingerprint)
	}
	if ta, tb := tree(t, a.Dir), tree(t, b.Dir); fmt.Sprint(ta) != fmt.Sprint(tb) {
		t.Errorf("two builds of the same sources differ:\n%v\n%v", ta, tb)
	}
	err := filepath.WalkDir(a.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err == nil && !d.IsDir() && info.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", path, info.Mode().Perm())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAFailedBuildSaysWhyAndKeepsThePreviousOutput(t *testing.T) {
	root := newSiteModule(t)
	cache := t.TempDir()
	first := buildSite(t, root, cache)
	want := tree(t, first.Dir)
	write(t, filepath.Join(root, "site", "src", "fail"), "")
	_, err := NewSiteBuilder(root, cache).Wait(context.Background(), fixtureSite)
	if err == nil {
		t.Fatal("a failing build succeeded")
	}
	for _, part := range []string{"`npm run build` failed", "src/fail says this build fails", "step 40 of the build", "cd site && npm run build"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not say %q", err, part)
		}
	}
	if strings.Contains(err.Error(), "step 5 of the build\n") {
		t.Errorf("error holds the whole output, want its last lines: %v", err)
	}
	if got := tree(t, first.Dir); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after a failed build the output is %v, want the previous %v", got, want)
	}
	// The previous output still matches the sources once they are restored.
	if err := os.Remove(filepath.Join(root, "site", "src", "fail")); err != nil {
		t.Fatal(err)
	}
	if again := buildSite(t, root, cache); again.Rebuilt || again.Fingerprint != first.Fingerprint {
		t.Errorf("after restoring the sources: %+v, want the previous build unchanged", again)
	}
}

func TestInstallRunsAgainWhenTheLockfileChanged(t *testing.T) {
	root := newSiteModule(t)
	cache := t.TempDir()
	buildSite(t, root, cache)
	lock := filepath.Join(root, "site", "package-lock.json")
	data, err := os.ReadFile(lock)
	if err != nil {
		t.Fatal(err)
	}
	write(t, lock, string(data)+"\n")
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(lock, later, later); err != nil {
		t.Fatal(err)
	}
	buildSite(t, root, cache)
	if n := installs(t, root); n != 2 {
		t.Errorf("install ran %d times, want 2 (once more for the newer lockfile)", n)
	}
}

func TestConcurrentBuildsOfOneSiteBuildItOnce(t *testing.T) {
	root := newSiteModule(t)
	cache := t.TempDir()
	var wg sync.WaitGroup
	arts := make([]SiteArtifact, 3)
	errs := make([]error, 3)
	for i := range arts {
		wg.Go(func() {
			arts[i], errs[i] = NewSiteBuilder(root, cache).Wait(context.Background(), fixtureSite)
		})
	}
	wg.Wait()
	rebuilt := 0
	for i, art := range arts {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if art.Rebuilt {
			rebuilt++
		}
	}
	if rebuilt != 1 || installs(t, root) != 1 {
		t.Errorf("%d of 3 concurrent builders built and install ran %d times; want 1 and 1", rebuilt, installs(t, root))
	}
}

func TestSiteBuildErrorsSayWhatToDo(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Site)
		want   string
	}{
		{"a missing tool names Node.js", func(s *Site) { s.Build = []string{"no-such-tool-for-sites"} }, "no-such-tool-for-sites is not installed, so `no-such-tool-for-sites` cannot run: install Node.js 20.9"},
		{"a build that writes no output says where it should", func(s *Site) { s.Output = "dist" }, "wrote no"},
		{"a folder outside the module is refused", func(s *Site) { s.Dir = "../elsewhere" }, "must be a folder inside the module"},
		{"a missing folder is named", func(s *Site) { s.Dir = "nothing-here" }, "no folder"},
		{"a name with a slash is refused", func(s *Site) { s.Name = "a/b" }, "one folder name"},
		{"a site without a build command is refused", func(s *Site) { s.Build = nil }, "give the Build command"},
		{"an install without its lockfile is refused", func(s *Site) { s.Lockfile = "" }, "needs Installed and Lockfile"},
		{"an output outside the folder is refused", func(s *Site) { s.Output = "../out" }, "must be a folder inside"},
		{"a source outside the folder is refused", func(s *Site) { s.Sources = []string{"src", "../shared"} }, `source "../shared" must be a file or folder inside`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := fixtureSite
			tt.change(&site)
			_, err := NewSiteBuilder(newSiteModule(t), t.TempDir()).Wait(context.Background(), site)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// A stopped build stops what its command started too: npm runs the build script in a
// child, which starts a worker of its own, as next build does.
func TestAStoppedSiteBuildLeavesNoProcessOfItsOwnRunning(t *testing.T) {
	root := newSiteModule(t)
	portFile := filepath.Join(t.TempDir(), "worker-port")
	write(t, filepath.Join(root, "site", "src", "hang"), portFile)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	builder := NewSiteBuilder(root, t.TempDir())
	builder.Start(ctx, fixtureSite)

	var worker string
	waitFor(t, "the build's worker to listen", func() bool {
		port, err := os.ReadFile(portFile)
		worker = "127.0.0.1:" + string(port)
		return err == nil && len(port) > 0
	})
	cancel()
	ended := make(chan error, 1)
	go func() {
		_, err := builder.Wait(context.Background(), fixtureSite)
		ended <- err
	}()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "`npm run build` stopped") {
			t.Errorf("err = %v, want the build reported stopped", err)
		}
	case <-time.After(stopLimit):
		t.Fatalf("the build had not returned %s after it was stopped", stopLimit)
	}
	waitFor(t, "the build's worker to stop", func() bool {
		conn, err := net.DialTimeout("tcp", worker, time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
}

// stopLimit bounds the waits of TestAStoppedSiteBuildLeavesNoProcessOfItsOwnRunning:
// generous, as npm and node start slowly on a busy machine; the test polls.
const stopLimit = 2 * time.Minute

// waitFor polls cond until it holds, failing the test after stopLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(stopLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", stopLimit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
