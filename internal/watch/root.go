package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Watching for a removed root to come back. A root that is removed or
// renamed away (rm -rf, `mv root x && mv x root`, a checkout that swaps
// the directory) loses its inotify watches, and nothing inside it can
// report that it is back. So the loop watches the nearest existing
// ancestor of the missing root, non-recursively, and looks again whenever
// an event names a path on the way down to the root (the ancestor itself,
// or the entry below it that leads to the root; other names are ignored).
// Once the root exists again it is walked and watched as at start-up, and
// the burst is marked Rescan. The ancestor is looked for at most
// maxAncestorLevels levels up; if none exists, Run fails.
//
// The functions in this file are called only by the event loop.

// maxAncestorLevels bounds how far above a missing root an existing
// directory is looked for.
const maxAncestorLevels = 16

// maxSeekAttempts bounds how often seekRoot looks again when the file
// system changes under it while it adds a watch.
const maxSeekAttempts = 8

// rootRemoved records that root is gone; the next seekMissing call starts
// watching for it to come back.
func (w *Watcher) rootRemoved(root string) {
	if _, ok := w.missing[root]; !ok {
		w.missing[root] = ""
	}
}

// seekMissing looks again for every missing root on whose path name lies
// (name is the root or one of its ancestors). It reports whether a root
// came back; an error means watching cannot go on.
func (w *Watcher) seekMissing(b *burst, name string) (bool, error) {
	back := false
	for root := range w.missing {
		if !within(root, name) {
			continue
		}
		ok, err := w.seekRoot(b, root)
		if err != nil {
			return back, err
		}
		back = back || ok
	}
	return back, nil
}

// seekRoot re-adds the missing root if it exists again and otherwise
// makes sure its nearest existing ancestor is watched. It reports whether
// the root came back.
func (w *Watcher) seekRoot(b *burst, root string) (bool, error) {
	for range maxSeekAttempts {
		if fi, err := os.Stat(root); err == nil && fi.IsDir() {
			w.releaseAncestor(root)
			delete(w.missing, root)
			w.log.Info("watched root is back", keyPath, root)
			w.addTreeLogged(root, root, nil)
			b.add(root, true, false)
			b.rescan = true
			return true, nil
		}
		anc, err := w.watchAncestor(root)
		if err != nil {
			return false, err
		}
		if prev := w.missing[root]; prev != anc {
			w.missing[root] = anc
			w.releaseDir(prev)
			w.log.Warn("watched root missing, waiting for it to come back", keyPath, root, "watching", anc)
		}
		// Whatever was created below anc before the watch was added sent
		// no event to it: look again if the next step down exists now.
		next := root
		for filepath.Dir(next) != anc {
			next = filepath.Dir(next)
		}
		if _, err := os.Lstat(next); err != nil {
			return false, nil
		}
	}
	return false, nil // still changing; the next event looks again
}

// watchAncestor adds a watch on the nearest existing ancestor of root and
// returns it.
func (w *Watcher) watchAncestor(root string) (string, error) {
	d := root
	for range maxAncestorLevels {
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
		err := w.fsw.Add(d)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", fmt.Errorf("watched directory %s was removed, and %w", root, addError(d, err))
		}
	}
	return "", fmt.Errorf("watched directory %s was removed, and so was every directory up to %s", root, d)
}

// releaseAncestor stops watching the ancestor watched for the missing
// root, unless something else needs it.
func (w *Watcher) releaseAncestor(root string) {
	anc := w.missing[root]
	w.missing[root] = ""
	w.releaseDir(anc)
}

// releaseDir removes the watch on d, an ancestor added for a missing
// root, unless another missing root uses it or d lies inside a root
// (where the tree's own watch may be on it).
func (w *Watcher) releaseDir(d string) {
	if d == "" || w.rootFor(d) != "" {
		return
	}
	for _, a := range w.missing {
		if a == d {
			return
		}
	}
	// An error means the kernel already dropped the watch.
	_ = w.fsw.Remove(d)
}
