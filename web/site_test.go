package web

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

// notSource reports whether name, in web/, is something next build never reads.
func notSource(name string) bool {
	return strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".tsbuildinfo") ||
		slices.Contains([]string{"README.md", ".gitignore", "e2e", "testdata", "tsconfig.test.json"}, name)
}

func TestEveryEntryOfTheSiteFolderIsASourceOrKnownNotToBeOne(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		source := slices.Contains(Site.Sources, name)
		toolOutput := name == Site.Output || slices.Contains(Site.Ignore, name)
		switch {
		case source && notSource(name):
			t.Errorf("%s is listed in Site.Sources but the build does not read it", name)
		case !source && !toolOutput && !notSource(name):
			t.Errorf("web/%s is neither in Site.Sources nor known not to be a source: add it to Sources if next build reads it, so editing it rebuilds the site", name)
		}
	}
	for _, source := range Site.Sources {
		if _, err := os.Stat(source); err != nil {
			t.Errorf("Site.Sources names %s: %v", source, err)
		}
	}
}

// TestEditingTheGoPackageItsTestsOrTheREADMEDoesNotRebuildTheSite builds a copy of
// web/ as web.Site says (its sources, ignored folders and output), with a stand-in
// for next build that copies src/ to out/, and edits it as a developer would.
func TestEditingTheGoPackageItsTestsOrTheREADMEDoesNotRebuildTheSite(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		localawstest.SkipOrFail(t, fmt.Errorf("the site builder needs Node.js 20.9 or newer: %w", err))
	}
	root := t.TempDir()
	copyOfWeb := filepath.Join(root, Site.Dir)
	err := os.CopyFS(copyOfWeb, skipping(os.DirFS("."), append([]string{Site.Output}, Site.Ignore...)))
	if err != nil {
		t.Fatal(err)
	}
	site := Site
	site.Install = nil
	site.Build = []string{"node", "-e", `require("fs").cpSync("src", "out", {recursive: true})`}
	cache := t.TempDir()
	wait := func() build.SiteArtifact {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		art, err := build.NewSiteBuilder(root, cache).Wait(ctx, site)
		if err != nil {
			t.Fatal(err)
		}
		return art
	}
	first := wait()
	for _, edit := range []string{"README.md", "config_test.go", "config.go", "e2e/browser_test.go", "testdata/config-cases.json"} {
		appendTo(t, filepath.Join(copyOfWeb, edit), "\n")
		if again := wait(); again.Rebuilt || again.Fingerprint != first.Fingerprint {
			t.Errorf("editing web/%s rebuilt the site", edit)
		}
	}
	appendTo(t, filepath.Join(copyOfWeb, "src", "pages", "index.tsx"), "\n")
	if edited := wait(); !edited.Rebuilt {
		t.Error("editing web/src/pages/index.tsx did not rebuild the site")
	}
}

// skipping is fsys without the folders named.
func skipping(fsys fs.FS, folders []string) fs.FS {
	return skipFS{fsys, folders}
}

type skipFS struct {
	fs.FS
	folders []string
}

func (s skipFS) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(s.FS, name)
	if name != "." {
		return entries, err
	}
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return slices.Contains(s.folders, e.Name()) }), err
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
