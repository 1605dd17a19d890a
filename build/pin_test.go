package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
	"github.com/gofrs/flock"
)

func TestPin_PruneAndCleanSkipPinned(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	root := t.TempDir()
	b := newBuilder(t, root, testEnv(path), nil)
	resA := mustBuild(t, b, Request{ModuleDir: helloModule(t, "a"), Source: "./a"})
	resB := mustBuild(t, b, Request{ModuleDir: helloModule(t, "b"), Source: "./b"})
	resC := mustBuild(t, b, Request{ModuleDir: helloModule(t, "c"), Source: "./c"})

	release, err := Pin(resA.Path)
	if err != nil {
		t.Fatalf("Pin: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(filepath.Dir(resA.Path), pinFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("pin lock file: %v, %v; want mode 0600", fi, err)
	}
	// A second pin of the same entry (another supervisor) is fine.
	release2, err := Pin(resA.Path)
	if err != nil {
		t.Fatalf("second Pin: %v", err)
	}
	release2()
	release2() // idempotent

	inUse := func() map[string]bool {
		t.Helper()
		entries, err := List(root)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, e := range entries {
			m[e.Key] = e.InUse
		}
		return m
	}
	if got := inUse(); !got[resA.Key] || got[resB.Key] || got[resC.Key] || len(got) != 3 {
		t.Errorf("List InUse = %v, want only A (%s) in use", got, resA.Key)
	}

	removed, err := Prune(root, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 {
		t.Errorf("Prune removed %d entries, want 2 (B and C)", len(removed))
	}
	for _, e := range removed {
		if e.Key == resA.Key {
			t.Errorf("Prune removed the pinned entry A")
		}
	}
	if out := runBinary(t, resA.Path); out != "a" {
		t.Errorf("pinned binary after Prune printed %q, want a", out)
	}
	if _, err := Pin(resB.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Pin of a pruned binary = %v, want fs.ErrNotExist", err)
	}

	resB = mustBuild(t, b, Request{ModuleDir: helloModule(t, "b"), Source: "./b"})
	removedN, skipped, err := CleanEntries(root)
	if err != nil {
		t.Fatal(err)
	}
	if removedN != 1 || skipped != 1 {
		t.Errorf("CleanEntries = %d removed, %d skipped; want 1, 1", removedN, skipped)
	}
	if out := runBinary(t, resA.Path); out != "a" {
		t.Errorf("pinned binary after Clean printed %q, want a", out)
	}
	if _, err := os.Stat(resB.Path); !os.IsNotExist(err) {
		t.Errorf("unpinned binary after Clean: %v, want it gone", err)
	}
	if _, err := os.Lstat(filepath.Join(root, cache.TmpDir)); !os.IsNotExist(err) {
		t.Errorf("tmp after Clean: %v, want it gone", err)
	}

	release()
	release() // idempotent
	if got := inUse(); got[resA.Key] {
		t.Errorf("A still in use after release")
	}
	if err := Clean(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, cache.BinDir)); !os.IsNotExist(err) {
		t.Errorf("bin after Clean of unpinned entries: %v, want it gone", err)
	}
}

func TestPin_Refuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"prog": "x"})
	if _, err := Pin(filepath.Join(dir, "prog")); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Pin of a file outside the cache = %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dir, pinFile)); !os.IsNotExist(err) {
		t.Errorf("Pin outside the cache created %s: %v", pinFile, err)
	}
	// A meta.json naming another binary, or not in bin/<xx>/<key>.
	key := strings.Repeat("ab", 32)
	entry := filepath.Join(dir, "notbin", key[:2], key)
	writeFiles(t, entry, map[string]string{
		metaFile: fmt.Sprintf(`{"key":%q,"binary":"prog"}`, key),
		"prog":   "x",
		"other":  "x",
	})
	for _, p := range []string{filepath.Join(entry, "prog"), filepath.Join(entry, "other")} {
		if _, err := Pin(p); err == nil {
			t.Errorf("Pin(%s) succeeded, want a refusal", p)
		}
	}
	if _, err := Pin(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Pin of a missing file = %v, want fs.ErrNotExist", err)
	}
}

// TestPin_WaitsForRemoval checks the race between Pin and a removal: a Pin
// blocked on an entry being removed must fail, not pin a deleted entry.
func TestPin_WaitsForRemoval(t *testing.T) {
	t.Parallel()
	if _, err := os.ReadFile("/proc/locks"); err != nil {
		t.Skip("needs /proc/locks to see a blocked lock")
	}
	path, _ := pathWithGo(t)
	root := t.TempDir()
	b := newBuilder(t, root, testEnv(path), nil)
	res := mustBuild(t, b, Request{ModuleDir: helloModule(t, "a")})
	dir := filepath.Dir(res.Path)
	lockPath := filepath.Join(dir, pinFile)

	// Take the entry's pin lock as moveAside does, then pin.
	unpin, err := Pin(res.Path) // creates the lock file
	if err != nil {
		t.Fatal(err)
	}
	unpin()
	fi, err := os.Stat(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	ino := inode(fi)
	if ino == 0 {
		t.Skip("no inode numbers")
	}
	fl := flock.New(lockPath)
	if ok, err := fl.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	defer fl.Unlock()

	done := make(chan error, 1)
	go func() {
		release, err := Pin(res.Path)
		if err == nil {
			release()
		}
		done <- err
	}()
	// Await Pin blocking on the lock: /proc/locks shows waiters as "->".
	for !blockedOn(t, ino) {
		select {
		case err := <-done:
			t.Fatalf("Pin returned %v while the entry was locked for removal", err)
		case <-time.After(time.Millisecond):
		}
	}
	trash, err := cache.TempDir(root, "test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, filepath.Join(trash, "entry")); err != nil {
		t.Fatal(err)
	}
	fl.Unlock()
	if err := <-done; !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Pin of an entry removed while it waited = %v, want fs.ErrNotExist", err)
	}
}

// blockedOn reports whether /proc/locks shows a process waiting for a lock
// on inode ino.
func blockedOn(t *testing.T, ino uint64) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprintf(":%d", ino)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 7 || f[1] != "->" {
			continue
		}
		if strings.HasSuffix(f[6], suffix) {
			return true
		}
	}
	return false
}
