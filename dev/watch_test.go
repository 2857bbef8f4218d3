package dev

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAChangedSourceFileRebuildsOnlyTheFunctionsBuiltFromIt(t *testing.T) {
	w, err := newWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	root := t.TempDir()
	dir := func(rel string) string { return filepath.Join(root, rel) }
	for _, d := range []string{"lambdas/list", "lambdas/worker", "persona", "resource"} {
		mkdir(t, dir(d))
	}
	if err := w.set("list", []string{dir("lambdas/list"), dir("persona"), dir("resource")}); err != nil {
		t.Fatal(err)
	}
	if err := w.set("worker", []string{dir("lambdas/worker"), dir("persona")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		want string
	}{
		{"lambdas/list/main.go", "list"},
		{"persona/store.go", "list worker"},
		{"resource/resource.go", "list"},
		{"persona/store_test.go", ""},
		{"persona/notes.md", ""},
		{"persona/.#store.go", ""},
		{"cli/cli.go", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(w.affected(dir(tt.file)), " "); got != tt.want {
			t.Errorf("a change to %s rebuilds %q, want %q", tt.file, got, tt.want)
		}
	}
	// After an edit, list no longer imports resource.
	if err := w.set("list", []string{dir("lambdas/list"), dir("persona")}); err != nil {
		t.Fatal(err)
	}
	if got := w.affected(dir("resource/resource.go")); len(got) != 0 {
		t.Errorf("a folder no function imports any more still rebuilds %v", got)
	}
}

func mkdir(t *testing.T, d string) {
	t.Helper()
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
}
