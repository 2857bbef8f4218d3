package build

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newModule writes a module with one main package, ./fn, printing greeting.
func newModule(t *testing.T, greeting string) string {
	t.Helper()
	root := t.TempDir()
	write(t, filepath.Join(root, "go.mod"), "module example.com/fns\n\ngo 1.22\n")
	write(t, filepath.Join(root, "fn", "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\""+greeting+"\") }\n")
	return root
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func buildOnce(t *testing.T, root, cache string) Artifact {
	t.Helper()
	art, err := NewBuilder(root, cache, Lambda).Wait(context.Background(), "./fn")
	if err != nil {
		t.Fatal(err)
	}
	return art
}

func TestAFunctionZipHoldsOneExecutableBootstrap(t *testing.T) {
	root := newModule(t, "hello")
	art := buildOnce(t, root, filepath.Join(root, ".build"))
	zr, err := zip.OpenReader(art.Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("zip holds %v, want one bootstrap with mode 0755", zr.File)
	}
	if !art.Rebuilt || art.ZipBytes == 0 || len(art.ZipSHA256) != 64 || len(art.SourceCodeHash()) != 44 {
		t.Errorf("artifact = %+v", art)
	}
}

func TestAnUnchangedFunctionIsNotRebuilt(t *testing.T) {
	root := newModule(t, "hello")
	cache := filepath.Join(root, ".build")
	first := buildOnce(t, root, cache)
	binInfo, err := os.Stat(first.Binary)
	if err != nil {
		t.Fatal(err)
	}
	second := buildOnce(t, root, cache)
	if second.Rebuilt || second.ZipSHA256 != first.ZipSHA256 {
		t.Errorf("second build: rebuilt %v, hash %s, want the cached %s", second.Rebuilt, second.ZipSHA256, first.ZipSHA256)
	}
	if again, _ := os.Stat(second.Binary); !again.ModTime().Equal(binInfo.ModTime()) {
		t.Error("the cached binary was rewritten")
	}
}

func TestBuildsAreReproducible(t *testing.T) {
	root := newModule(t, "hello")
	a := buildOnce(t, root, filepath.Join(t.TempDir(), "one"))
	b := buildOnce(t, root, filepath.Join(t.TempDir(), "two"))
	if !a.Rebuilt || !b.Rebuilt || a.ZipSHA256 != b.ZipSHA256 {
		t.Errorf("two clean builds gave %s and %s; want the same zip", a.ZipSHA256, b.ZipSHA256)
	}
}

func TestAChangedSourceIsRebuilt(t *testing.T) {
	root := newModule(t, "hello")
	cache := filepath.Join(root, ".build")
	first := buildOnce(t, root, cache)
	write(t, filepath.Join(root, "fn", "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"bye\") }\n")
	second := buildOnce(t, root, cache)
	if !second.Rebuilt || second.ZipSHA256 == first.ZipSHA256 {
		t.Errorf("after an edit: rebuilt %v, same hash %v", second.Rebuilt, second.ZipSHA256 == first.ZipSHA256)
	}
}

func TestAFailedBuildSaysWhyAndLeavesNoStampBehind(t *testing.T) {
	root := newModule(t, "hello")
	cache := filepath.Join(root, ".build")
	buildOnce(t, root, cache)
	write(t, filepath.Join(root, "fn", "main.go"), "package main\n\nfunc main() { undefinedThing() }\n")
	_, err := NewBuilder(root, cache, Lambda).Wait(context.Background(), "./fn")
	if err == nil || !strings.Contains(err.Error(), "undefinedThing") || !strings.Contains(err.Error(), "go build ./fn") {
		t.Fatalf("err = %v, want the compiler's message and the command to rerun", err)
	}
	write(t, filepath.Join(root, "fn", "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n")
	if art := buildOnce(t, root, cache); !art.Rebuilt {
		t.Error("after a failed build the old artifact was taken as up to date")
	}
}

func TestPackagesMustBeGivenInsideTheModule(t *testing.T) {
	root := newModule(t, "hello")
	_, err := NewBuilder(root, t.TempDir(), Lambda).Wait(context.Background(), "example.com/fns/fn")
	if err == nil || !strings.Contains(err.Error(), "starting with ./") {
		t.Errorf("err = %v", err)
	}
	_, err = NewBuilder(root, t.TempDir(), Lambda).Wait(context.Background(), "./missing")
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("err = %v", err)
	}
}

func TestABinaryBuilderListsTheModuleFoldersItBuiltFrom(t *testing.T) {
	root := newModule(t, "hello")
	write(t, filepath.Join(root, "greet", "greet.go"), "package greet\n\nfunc Word() string { return \"hi\" }\n")
	write(t, filepath.Join(root, "fn", "main.go"), "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/fns/greet\"\n)\n\nfunc main() { fmt.Println(greet.Word()) }\n")
	art, err := NewBinaryBuilder(root, t.TempDir(), Host).Wait(context.Background(), "./fn")
	if err != nil {
		t.Fatal(err)
	}
	if art.Zip != "" || art.ZipBytes != 0 {
		t.Errorf("a binary builder wrote a zip: %+v", art)
	}
	want := []string{filepath.Join(root, "fn"), filepath.Join(root, "greet")}
	if strings.Join(art.SourceDirs, ",") != strings.Join(want, ",") {
		t.Errorf("SourceDirs = %v, want %v", art.SourceDirs, want)
	}
	dirs, err := SourceDirs(context.Background(), root, "./fn", Host)
	if err != nil || strings.Join(dirs, ",") != strings.Join(want, ",") {
		t.Errorf("SourceDirs() = %v, %v", dirs, err)
	}
}

func TestARebuildReplacesTheBinaryWithoutWritingIntoTheOldOne(t *testing.T) {
	root := newModule(t, "hello")
	cache := t.TempDir()
	first, err := NewBinaryBuilder(root, cache, Host).Wait(context.Background(), "./fn")
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(first.Binary) // as a running process would hold it
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldInfo, _ := old.Stat()
	write(t, filepath.Join(root, "fn", "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"bye\") }\n")
	second, err := NewBinaryBuilder(root, cache, Host).Wait(context.Background(), "./fn")
	if err != nil {
		t.Fatal(err)
	}
	newInfo, err := os.Stat(second.Binary)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Rebuilt || os.SameFile(oldInfo, newInfo) {
		t.Error("the rebuild wrote into the binary a process may be running")
	}
	if still, _ := old.Stat(); still.Size() != oldInfo.Size() {
		t.Error("the old binary changed under its reader")
	}
}

func TestAnEditToALocallyReplacedModuleRebuilds(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "go.mod"), "module example.com/fns\n\ngo 1.22\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ./lib\n")
	write(t, filepath.Join(root, "lib", "go.mod"), "module example.com/lib\n\ngo 1.22\n")
	write(t, filepath.Join(root, "lib", "lib.go"), "package lib\n\nfunc Word() string { return \"hi\" }\n")
	write(t, filepath.Join(root, "fn", "main.go"), "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/lib\"\n)\n\nfunc main() { fmt.Println(lib.Word()) }\n")
	cache := t.TempDir()
	first := buildOnce(t, root, cache)
	write(t, filepath.Join(root, "lib", "lib.go"), "package lib\n\nfunc Word() string { return \"bye\" }\n")
	second := buildOnce(t, root, cache)
	if !second.Rebuilt || second.ZipSHA256 == first.ZipSHA256 {
		t.Errorf("after editing the replaced module: rebuilt %v, same zip %v", second.Rebuilt, second.ZipSHA256 == first.ZipSHA256)
	}
}
