package cache

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeOutput calls WriteOutput with s and fails the test on error.
func writeOutput(t *testing.T, path, s string, perm os.FileMode) {
	t.Helper()
	if err := WriteOutput(path, strings.NewReader(s), perm); err != nil {
		t.Fatalf("WriteOutput(%s): %v", path, err)
	}
}

func checkFile(t *testing.T, path, want string, perm os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() {
		t.Fatalf("%s: mode %v, want a regular file", path, fi.Mode())
	}
	if got := fi.Mode().Perm(); got != perm {
		t.Errorf("%s: perm %v, want %v", path, got, perm)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s: content %q, want %q", path, got, want)
	}
}

// onlyEntries fails unless dir holds exactly names (no temporary file left).
func onlyEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func TestWriteOutput_NewAndRegular(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	writeOutput(t, p, "one", 0o755)
	checkFile(t, p, "one", 0o755)
	before, _ := os.Stat(p)

	writeOutput(t, p, "two", 0o644)
	checkFile(t, p, "two", 0o644)
	after, _ := os.Stat(p)
	if os.SameFile(before, after) {
		t.Error("a regular file was rewritten in place, want it replaced by a rename")
	}
	onlyEntries(t, dir, "out")
}

func TestWriteOutput_SymlinkToRegular(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "real", "report.json")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A chain of links: link → a/mid, where a → deep/x is a directory link
	// and mid → ../../real/report.json is read from deep/x, as the kernel does.
	if err := os.MkdirAll(filepath.Join(dir, "deep", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("deep", "x"), filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	mid := filepath.Join(dir, "deep", "x", "mid")
	if err := os.Symlink(filepath.Join("..", "..", "real", "report.json"), mid); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(filepath.Join("a", "mid"), link); err != nil {
		t.Fatal(err)
	}
	writeOutput(t, link, "new", 0o644)
	checkFile(t, target, "new", 0o644)
	for _, l := range []string{link, mid} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a symlink (%v)", l, err)
		}
	}
	onlyEntries(t, filepath.Join(dir, "real"), "report.json")
}

func TestWriteOutput_DanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(filepath.Join("sub", "target"), link); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeOutput(t, link, "created", 0o600)
	checkFile(t, filepath.Join(dir, "sub", "target"), "created", 0o600)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced (%v)", err)
	}
}

func TestWriteOutput_Refuses(t *testing.T) {
	dir := t.TempDir()
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink("loop", loop); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, loop, filepath.Join(dir, "no", "such", "dir")} {
		err := WriteOutput(p, strings.NewReader("x"), 0o644)
		if err == nil || !strings.HasPrefix(err.Error(), "write "+p+": ") {
			t.Errorf("WriteOutput(%s) = %v, want an error naming the path", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a directory was created: %v", err)
	}
}

func TestWriteFileAtomic_ReplacesSymlink(t *testing.T) {
	// The cache's own files never follow a link out of the cache.
	dir, victim := t.TempDir(), filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	p := filepath.Join(dir, "f")
	if err := os.Symlink(victim, p); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "mine", 0o600)
	checkFile(t, victim, "keep", 0o600)
}
