package cache

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEnsure_Mode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "c")
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), DirMode; got != want {
		t.Errorf("mode of a new cache dir = %v, want %v", got, want)
	}
}

func TestEnsure_LeavesExistingDirAlone(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dir)
	if got := fi.Mode().Perm(); got != 0o755 {
		t.Errorf("mode of an existing dir = %v, want it unchanged (0755)", got)
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o600)
	if err := Ensure(f); err == nil {
		t.Error("Ensure of a file succeeded")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, s := range []string{"one", "two"} {
		if err := WriteFileAtomic(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != s {
			t.Errorf("content = %q, want %q", got, s)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("%d entries left in dir, want 1", len(ents))
	}
}

func TestLock_Exclusive(t *testing.T) {
	root := t.TempDir()
	var inside, max atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := Lock(context.Background(), root, "k")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			if n > max.Load() {
				max.Store(n)
			}
			time.Sleep(time.Millisecond) // widen the window an overlap would show in
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	if got := max.Load(); got != 1 {
		t.Errorf("max holders = %d, want 1", got)
	}
}

func TestLock_ContextCancelled(t *testing.T) {
	root := t.TempDir()
	unlock, err := Lock(context.Background(), root, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Lock(ctx, root, "k"); err == nil {
		t.Fatal("Lock with a cancelled context succeeded while held")
	}
}

func TestSub_RefusesSymlink(t *testing.T) {
	root, victim := t.TempDir(), t.TempDir()
	if err := os.Symlink(victim, filepath.Join(root, LockDir)); err != nil {
		t.Fatal(err)
	}
	if _, err := Sub(root, LockDir); err == nil {
		t.Fatal("Sub through a symlink succeeded")
	}
	if _, err := Lock(context.Background(), root, "k"); err == nil {
		t.Fatal("Lock through a symlinked locks/ succeeded")
	}
	if ents, _ := os.ReadDir(victim); len(ents) != 0 {
		t.Errorf("%d files written through the symlink", len(ents))
	}
}

func TestTryLock(t *testing.T) {
	root := t.TempDir()
	unlock, err := Lock(context.Background(), root, "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := TryLock(root, "k"); ok || err != nil {
		t.Fatalf("TryLock of a held lock = %v, %v; want false, nil", ok, err)
	}
	unlock()
	u, ok, err := TryLock(root, "k")
	if !ok || err != nil {
		t.Fatalf("TryLock of a free lock = %v, %v; want true, nil", ok, err)
	}
	u()
}
