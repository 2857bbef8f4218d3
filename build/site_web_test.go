package build_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/web"
)

// webRoot returns the module root, for building the real web app; without npm
// the test skips, or fails when CI=true.
func webRoot(tb testing.TB) string {
	tb.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		localawstest.SkipOrFail(tb, fmt.Errorf("building web/ needs npm: install Node.js 20.9 or newer: %w", err))
	}
	root, err := build.ModuleRoot(".")
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

func buildWeb(tb testing.TB, root, cache string) build.SiteArtifact {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	art, err := build.NewSiteBuilder(root, cache).Wait(ctx, web.Site)
	if err != nil {
		tb.Fatal(err)
	}
	return art
}

func fileHashes(tb testing.TB, dir string) map[string][32]byte {
	tb.Helper()
	files := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = sha256.Sum256(data)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

func TestTheWebAppBuildsToTheSameStageFreeFilesEveryTime(t *testing.T) {
	root := webRoot(t)
	first := buildWeb(t, root, t.TempDir())
	if !first.Rebuilt || first.Files == 0 {
		t.Fatalf("first build = %+v", first)
	}
	for _, page := range []string{"index.html", "sign-in.html", "new.html", "persona.html", "404.html"} {
		if _, err := os.Stat(filepath.Join(first.Dir, page)); err != nil {
			t.Errorf("the export has no %s: %v", page, err)
		}
	}
	index, err := os.ReadFile(filepath.Join(first.Dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `"buildId":"` + build.BuildID(first.Fingerprint) + `"`; !bytes.Contains(index, []byte(want)) {
		t.Errorf("index.html does not name its build %s", want)
	}
	files := fileHashes(t, first.Dir)
	if _, ok := files[web.ConfigFile]; ok {
		t.Errorf("the build holds %s; the stack writes it per stage", web.ConfigFile)
	}
	stageValue := regexp.MustCompile(`execute-api\.[a-z]|[a-z]{2}-[a-z]+-\d_[0-9A-Za-z]{3,}`)
	for name := range files {
		data, _ := os.ReadFile(filepath.Join(first.Dir, name))
		if m := stageValue.Find(data); m != nil {
			t.Errorf("%s holds %q: the build must hold no stage values", name, m)
		}
		if bytes.Contains(data, []byte(root)) {
			t.Errorf("%s holds this machine's path %s", name, root)
		}
	}

	// Another cache, so it builds again: the same sources give the same files.
	second := buildWeb(t, root, t.TempDir())
	if !second.Rebuilt || second.Fingerprint != first.Fingerprint {
		t.Fatalf("second build = %+v, want a rebuild with fingerprint %s", second, first.Fingerprint)
	}
	again := fileHashes(t, second.Dir)
	for name, sum := range files {
		if again[name] != sum {
			t.Errorf("%s differs between two builds of the same sources", name)
		}
	}
	if len(again) != len(files) {
		t.Errorf("two builds of the same sources wrote %d and %d files", len(files), len(again))
	}
}

// BenchmarkWebSite reports the web app's build cold (no Next.js cache, no
// stamp; dependencies installed), unchanged (what make synth pays for an
// unchanged site), and the JavaScript the index page loads first, gzipped.
func BenchmarkWebSite(b *testing.B) {
	root := webRoot(b)
	b.Run("cold", func(b *testing.B) {
		var art build.SiteArtifact
		for b.Loop() {
			b.StopTimer()
			if err := os.RemoveAll(filepath.Join(root, web.Site.Dir, ".next")); err != nil {
				b.Fatal(err)
			}
			cache := b.TempDir()
			b.StartTimer()
			art = buildWeb(b, root, cache)
		}
		gz, files := firstLoadJS(b, art.Dir)
		b.ReportMetric(float64(gz)/1024, "first-load-js-gz-KiB")
		b.ReportMetric(float64(files), "first-load-js-files")
		b.ReportMetric(float64(art.Files), "site-files")
		b.ReportMetric(float64(art.Bytes)/1024, "site-KiB")
	})
	b.Run("unchanged", func(b *testing.B) {
		cache := b.TempDir()
		buildWeb(b, root, cache)
		for b.Loop() {
			if art := buildWeb(b, root, cache); art.Rebuilt {
				b.Fatal("an unchanged site was rebuilt")
			}
		}
	})
}

// firstLoadJS sums, gzipped at level 9, the scripts index.html loads.
func firstLoadJS(tb testing.TB, dir string) (gzBytes, files int) {
	tb.Helper()
	index, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`<script[^>]*\ssrc="/([^"]+\.js)"[^>]*>`).FindAllSubmatch(index, -1) {
		if bytes.Contains(m[0], []byte("noModule")) {
			continue // only browsers without modules load it
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(string(m[1]))))
		if err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		gzBytes += buf.Len()
		files++
	}
	if files == 0 {
		tb.Fatalf("index.html loads no script: %s", strings.TrimSpace(string(index[:min(len(index), 300)])))
	}
	return gzBytes, files
}
