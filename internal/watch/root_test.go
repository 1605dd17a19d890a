package watch

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// waitForRescan reads Changes until one has Rescan set: the watcher has
// re-added a root that came back.
func waitForRescan(t *testing.T, w *Watcher) Change {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case c, ok := <-w.Changes():
			if !ok {
				t.Fatal("Changes closed")
			}
			if c.Rescan {
				return c
			}
		case <-deadline:
			t.Fatalf("no Rescan Change within %v", waitTimeout)
		}
	}
}

// checkRootBack checks that root is watched again, that no directory
// outside it still is, and that an edit inside it is reported.
func checkRootBack(t *testing.T, w *Watcher, root string) {
	t.Helper()
	assertWatched(t, w, root, true)
	for _, d := range w.WatchedDirs() {
		if !within(d, root) {
			t.Errorf("%s still watched after the root came back", d)
		}
	}
	p := filepath.Join(root, "main.go")
	writeFile(t, p, "package main // edited after the root came back\n")
	waitForPath(t, w, p)
}

func TestWatcher_RootRemovedAndRecreated(t *testing.T) {
	root := filepath.Join(tempRoot(t), "mod")
	writeFile(t, filepath.Join(root, "main.go"), "package main\n")
	mkdirs(t, filepath.Join(root, "pkg"))
	w := startWatcher(t, Options{Roots: []string{root}})

	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	// The removal is reported while the root is missing.
	waitForPath(t, w, root)
	assertWatched(t, w, filepath.Dir(root), true)

	writeFile(t, filepath.Join(root, "main.go"), "package main // new\n")
	mkdirs(t, filepath.Join(root, "pkg"))
	waitForRescan(t, w)
	assertWatched(t, w, filepath.Join(root, "pkg"), true)
	checkRootBack(t, w, root)
}

func TestWatcher_RootRenamedAwayAndBack(t *testing.T) {
	parent := tempRoot(t)
	root := filepath.Join(parent, "mod")
	writeFile(t, filepath.Join(root, "main.go"), "package main\n")
	w := startWatcher(t, Options{Roots: []string{root}})

	// mv root x && mv x root: the same directory comes back at once.
	tmp := filepath.Join(parent, "x")
	if err := os.Rename(root, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, root); err != nil {
		t.Fatal(err)
	}
	waitForRescan(t, w)
	checkRootBack(t, w, root)
}

func TestWatcher_RootSwapped(t *testing.T) {
	parent := tempRoot(t)
	root := filepath.Join(parent, "mod")
	writeFile(t, filepath.Join(root, "main.go"), "package main\n")
	w := startWatcher(t, Options{Roots: []string{root}})

	// A checkout that replaces the directory by a new one.
	next := filepath.Join(parent, "mod.new")
	writeFile(t, filepath.Join(next, "main.go"), "package main // other branch\n")
	old := filepath.Join(parent, "mod.old")
	if err := os.Rename(root, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, root); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(old); err != nil {
		t.Fatal(err)
	}
	waitForRescan(t, w)
	checkRootBack(t, w, root)
}

func TestWatcher_RootAndParentRemoved(t *testing.T) {
	top := tempRoot(t)
	parent := filepath.Join(top, "p", "q")
	root := filepath.Join(parent, "mod")
	writeFile(t, filepath.Join(root, "main.go"), "package main\n")
	w := startWatcher(t, Options{Roots: []string{root}})

	if err := os.RemoveAll(filepath.Join(top, "p")); err != nil {
		t.Fatal(err)
	}
	waitForPath(t, w, root)

	writeFile(t, filepath.Join(root, "main.go"), "package main // new\n")
	waitForRescan(t, w)
	checkRootBack(t, w, root)
}

func TestWatcher_RootRemovedNoAncestor(t *testing.T) {
	top := tempRoot(t)
	// Every directory within maxAncestorLevels above the root is removed.
	parts := []string{top}
	for i := range maxAncestorLevels {
		parts = append(parts, "d"+string(rune('a'+i)))
	}
	root := filepath.Join(append(parts, "mod")...)
	mkdirs(t, root)
	w, err := New(Options{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()

	if err := os.RemoveAll(filepath.Join(top, parts[1])); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(waitTimeout)
	for changes := w.Changes(); changes != nil; {
		select {
		case _, ok := <-changes:
			if !ok {
				changes = nil
			}
		case <-deadline:
			t.Fatalf("Run did not return within %v", waitTimeout)
		}
	}
	err = <-done
	if want := "watched directory " + root + " was removed"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Run = %v, want error containing %q", err, want)
	}
}

func TestWatcher_JetBrainsSafeWrite(t *testing.T) {
	root := tempRoot(t)
	main := filepath.Join(root, "main.go")
	writeFile(t, main, "package main\n")
	// A longer window than the default keeps the steps in one burst even
	// on a slow, race-instrumented machine.
	w := startWatcher(t, Options{Roots: []string{root}, Debounce: 300 * time.Millisecond})

	tmp, old := main+"___jb_tmp___", main+"___jb_old___"
	writeFile(t, tmp, "package main // saved\n")
	if err := os.Rename(main, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, main); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, w, main)

	// A second Change for the save would arrive before this one.
	sentinel := filepath.Join(root, "sentinel.go")
	writeFile(t, sentinel, "package main\n")
	assertOnly(t, w, sentinel)
	if got, _ := os.ReadFile(main); !slices.Equal(got, []byte("package main // saved\n")) {
		t.Fatalf("main.go = %q", got)
	}
}
