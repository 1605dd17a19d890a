package watch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The functions in this file are called by New before the event loop
// starts and by the event loop afterwards, never concurrently.

// rootFor returns the innermost root containing p, or "" if none does.
func (w *Watcher) rootFor(p string) string {
	best := ""
	for _, r := range w.roots {
		if within(p, r) && len(r) > len(best) {
			best = r
		}
	}
	return best
}

// within reports whether p is dir or lies under it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir) && (strings.HasSuffix(dir, string(filepath.Separator)) ||
		strings.HasPrefix(p[len(dir):], string(filepath.Separator)))
}

// addTree walks dir (under root) and adds a watch for every directory that
// is not ignored, loading .gitignore files on the way down. found, if not
// nil, is called for every file that is not ignored. A directory that
// vanishes or cannot be read is skipped (and logged); the walk stops only
// on a *LimitError, which is returned.
func (w *Watcher) addTree(root, dir string, found func(string)) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.log.Warn("skip unreadable directory", keyPath, p, keyErr, err)
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		isDir := d.IsDir()
		if w.ignored(root, p, &isDir) {
			if isDir {
				return fs.SkipDir
			}
			return nil
		}
		if !isDir {
			if found != nil {
				found(p)
			}
			return nil
		}
		w.loadGitignore(p)
		if err := w.fsw.Add(p); err != nil {
			err = addError(p, err)
			var le *LimitError
			if errors.As(err, &le) {
				return err
			}
			if !errors.Is(err, fs.ErrNotExist) {
				w.log.Warn("skip directory", keyPath, p, keyErr, err)
			}
			return fs.SkipDir
		}
		return nil
	})
}

// dropTree removes the watches on p and every directory under it, and
// forgets their .gitignore rules. It is called for every removed or
// renamed path: fsnotify keeps stale names for the subdirectories of a
// renamed directory, and re-adding under the new name would find those
// entries by inode and keep the old names.
func (w *Watcher) dropTree(p string) {
	for _, d := range w.fsw.WatchList() {
		if within(d, p) {
			// Errors mean the kernel already dropped the watch.
			_ = w.fsw.Remove(d)
		}
	}
	for d := range w.gitignore {
		if within(d, p) {
			delete(w.gitignore, d)
		}
	}
}

// rescan re-synchronises the watches with the disk after lost events:
// watches on directories that no longer exist are removed, every root is
// walked again (adding a watch twice is harmless) and missing roots are
// looked for. It sets w.fatal if a missing root can no longer be watched
// for.
func (w *Watcher) rescan(b *burst) error {
	for _, d := range w.WatchedDirs() {
		if fi, err := os.Lstat(d); err != nil || !fi.IsDir() {
			w.dropTree(d)
		}
	}
	for _, r := range w.roots {
		if fi, err := os.Stat(r); err != nil || !fi.IsDir() {
			w.rootRemoved(r)
		}
		if _, ok := w.missing[r]; ok {
			if _, err := w.seekRoot(b, r); err != nil {
				w.fatal = err
				return nil
			}
			continue
		}
		if err := w.addTree(r, r, nil); err != nil {
			return err
		}
	}
	return nil
}
