package build

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

func TestList_Prune_Clean(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	root := t.TempDir()
	b := newBuilder(t, root, testEnv(path), nil)
	modA, modB := helloModule(t, "a"), helloModule(t, "b")
	resA := mustBuild(t, b, Request{ModuleDir: modA, Source: "./a"})
	resB := mustBuild(t, b, Request{ModuleDir: modB, Source: "./b"})

	entries, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("List = %d entries, want 2", len(entries))
	}
	byKey := map[string]Entry{}
	for _, e := range entries {
		byKey[e.Key] = e
	}
	a := byKey[resA.Key]
	if a.Path != resA.Path || a.Source != "./a" || a.Package != "example.com/hello" || a.Size <= 0 ||
		a.Created.IsZero() || a.LastUsed.IsZero() {
		t.Errorf("entry A = %+v, want path %s, source ./a, package example.com/hello, sizes and times", a, resA.Path)
	}

	// A was last used two hours ago; a hit records a new use.
	old := time.Now().Add(-2 * time.Hour)
	metaA := filepath.Join(filepath.Dir(resA.Path), metaFile)
	if err := os.Chtimes(metaA, old, old); err != nil {
		t.Fatal(err)
	}
	entries, _ = List(root)
	if entries[0].Key != resB.Key {
		t.Errorf("List()[0] = %s, want the most recently used %s", entries[0].Key, resB.Key)
	}

	removed, err := Prune(root, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Key != resA.Key {
		t.Errorf("Prune(1h, 0) removed %v, want only A", removed)
	}
	if _, err := os.Stat(resA.Path); !os.IsNotExist(err) {
		t.Errorf("A's binary still there after prune: %v", err)
	}
	if _, err := os.Stat(resB.Path); err != nil {
		t.Errorf("B's binary gone after prune: %v", err)
	}

	// A hit refreshes last use; keep=1 keeps only the most recent.
	resA = mustBuild(t, b, Request{ModuleDir: modA, Source: "./a"})
	if resA.CacheHit {
		t.Error("A rebuilt after prune: CacheHit = true")
	}
	if err := os.Chtimes(filepath.Join(filepath.Dir(resB.Path), metaFile), old, old); err != nil {
		t.Fatal(err)
	}
	if res := mustBuild(t, b, Request{ModuleDir: modB}); !res.CacheHit {
		t.Error("B: CacheHit = false, want true")
	}
	removed, err = Prune(root, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Key != resA.Key {
		t.Errorf("Prune(0, 1) removed %v, want only A (B was used last)", removed)
	}

	// Clean removes bin/ and tmp/ but never follows a symlink out.
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"keep": "x"})
	if err := os.Symlink(outside, filepath.Join(root, cache.BinDir, "zz")); err != nil {
		t.Fatal(err)
	}
	if err := Clean(root); err != nil {
		t.Fatal(err)
	}
	if entries, err := List(root); err != nil || len(entries) != 0 {
		t.Errorf("List after Clean = %d entries, %v; want none", len(entries), err)
	}
	for _, d := range []string{cache.BinDir, cache.TmpDir} {
		if _, err := os.Lstat(filepath.Join(root, d)); !os.IsNotExist(err) {
			t.Errorf("%s after Clean: %v, want it gone", d, err)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "keep")); err != nil {
		t.Errorf("Clean followed a symlink: %v", err)
	}
	if res := mustBuild(t, b, Request{ModuleDir: modB}); res.CacheHit {
		t.Error("build after Clean: CacheHit = true, want a rebuild")
	}
}

func TestSweepTmp(t *testing.T) {
	root := t.TempDir()
	stale, err := cache.TempDir(root, "build-")
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := cache.TempDir(root, "build-")
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * StaleTmpAge)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := SweepTmp(root, StaleTmpAge); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale tmp entry: %v, want it removed", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh tmp entry: %v, want it kept", err)
	}
}
