package watch

/*
Design of the event loop.

One goroutine (Run) owns everything: the fsnotify watcher's Add/Remove
calls, the .gitignore rules and the current burst. fsnotify's Events and
Errors channels are unbuffered on Linux and its reader goroutine blocks on
whichever it sends to, so both are drained in the same select; draining
only Events would deadlock on the first error.

Recursion. fsnotify watches single directories, so New walks the roots and
adds every directory that is not ignored. A directory created later is
added and walked at once: `mkdir -p a/b && echo > a/b/c.go` usually
produces only CREATE a, because b and c.go exist before the watch on a.
Every file the walk finds counts as changed. A removed or renamed path
drops the watches on it and on everything under it (fsnotify keeps the
old names of a renamed directory's subdirectories, and re-adding them
under the new name would find the existing entries by inode); the new
name of a renamed directory arrives as a CREATE in its parent and is added
like any new directory. Events are processed in order, so the drop always
happens before the re-add.

Removed roots. A removed or renamed root is dropped like any directory and
recorded in w.missing; its nearest existing ancestor is then watched,
non-recursively, and every event naming a path on the way down from that
ancestor to the root (the ancestor itself, or the entry below it leading
to the root) makes the loop look again: deeper if a directory on the way
came back, higher if the ancestor went too. When the root exists again it
is walked as at start-up and the burst is marked Rescan. After adding the
ancestor's watch the loop checks the next step down, which may have been
created before the watch existed. See root.go.

Editors. Only directories are watched (a watch on a file is lost when an
editor renames a new version over it) and events are filtered by name:
hidden names and editor temporaries are ignored, and a path that is both
created and removed or renamed away within one burst (sed -i's and
renameio's temporary file, vim's backup) is left out of the Change. So an
atomic save shows up as a change of the file itself. Chmod-only events
(touch, indexers, antivirus) are not changes.

Debounce. A burst ends Debounce after its last event: each relevant event
resets one time.Timer; nothing polls. When the timer fires the Change is
offered on an unbuffered channel through a select case that is enabled
only while a Change is ready, so the loop keeps draining fsnotify while the
consumer is busy (building, restarting). An event that arrives before the
Change is taken withdraws the offer and restarts the window; the Change
offered next covers both bursts.

Early delivery (Options.Early, for the dev loop: issue 15, a build that
waits out the debounce adds it to every edit's latency). A second timer,
reset like the first but with the short Early gap and only until the
burst's Early Change is taken, offers the burst so far with Early set. The
burst is not reset then: the Change that ends it (always offered after an
Early one, even if nothing is left to list) covers the whole burst, so
temporary files still cancel out, and has More set if events arrived after
the Early Change was taken. An Early offer not yet taken when the burst ends
is replaced by the ordinary Change.

Failures. Lost events (fsnotify.ErrEventOverflow) trigger a rescan of the
roots, reported as a Change with Rescan set. Running out of inotify
watches while adding a new directory cannot be fixed by the loop, so it
is logged once as a *LimitError (with the sysctl hint) and watching goes
on without that directory; at start-up New returns it instead. Other
errors from fsnotify are logged and the loop continues.
*/

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Run processes file system events until ctx is done or the Watcher is
// closed, delivering one Change per debounced burst on Changes (preceded
// by one with Early set when Options.Early is set). It returns
// nil in both cases and closes Changes on return. Run must be called at
// most once; a second call returns an error.
//
// A root that is removed is reported as a Change, and watched for until it
// comes back (see the package documentation). Run returns an error saying
// "watched directory DIR was removed" only if it cannot watch for that: no
// directory within 16 levels above the root exists, or the nearest one
// cannot be watched.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("watch: Run called more than once")
	}
	defer close(w.changes)

	timer := time.NewTimer(w.opts.Debounce)
	timer.Stop()
	defer timer.Stop()
	early := time.NewTimer(w.opts.Debounce) // the Early gap; never reset when Early is 0
	early.Stop()
	defer early.Stop()

	var (
		b     burst
		ready Change
		out   chan<- Change // w.changes while ready holds a Change, else nil
		led   bool          // the burst's Early Change was taken
		more  bool          // events arrived after that
	)
	touched := func() {
		out = nil
		timer.Reset(w.opts.Debounce)
		if led {
			more = true
		} else if w.opts.Early > 0 {
			early.Reset(w.opts.Early)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return nil
			}
			if w.handleEvent(&b, ev) {
				touched()
			}
			if w.fatal != nil {
				return w.fatal
			}
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return nil
			}
			if w.handleError(&b, err) {
				touched()
			}
			if w.fatal != nil {
				return w.fatal
			}
		case <-early.C:
			if c, ok := b.change(); ok && out == nil && !led {
				c.Early = true
				ready, out = c, w.changes
			}
		case <-timer.C:
			early.Stop()
			if c, ok := b.change(); ok || led {
				// After an Early Change the burst's end is reported even
				// with nothing left to list: the consumer waits for it.
				c.More = more
				ready, out = c, w.changes
			} else {
				b.reset() // only transient files: nothing to report
			}
		case out <- ready:
			if ready.Early {
				led = true
			} else {
				b.reset()
				led, more = false, false
			}
			ready, out = Change{}, nil
		}
	}
}

// handleEvent updates the watches and the burst for one event and reports
// whether the event counts as a change. It sets w.fatal if a removed root
// can no longer be watched for.
func (w *Watcher) handleEvent(b *burst, ev fsnotify.Event) bool {
	changed := w.handleTreeEvent(b, ev)
	if len(w.missing) > 0 {
		back, err := w.seekMissing(b, filepath.Clean(ev.Name))
		if err != nil {
			w.fatal = err
		}
		changed = changed || back
	}
	return changed
}

// handleTreeEvent is handleEvent for the trees under the roots.
func (w *Watcher) handleTreeEvent(b *burst, ev fsnotify.Event) bool {
	name := filepath.Clean(ev.Name)
	root := w.rootFor(name)
	if root == "" || ev.Op == fsnotify.Chmod || ev.Op == 0 {
		return false
	}
	created := ev.Has(fsnotify.Create)
	gone := ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)
	if gone {
		w.dropTree(name)
		if name == root {
			w.log.Warn("watched root removed or renamed", keyPath, name, keyOp, ev.Op.String())
			w.rootRemoved(root)
		}
	}

	if filepath.Base(name) == gitignoreFile {
		// Hidden, so not a change itself, but it may un-ignore directories.
		dir := filepath.Dir(name)
		w.loadGitignore(dir)
		if !gone && !w.ignored(root, dir, ptr(true)) {
			w.addTreeLogged(root, dir, nil)
		}
		return false
	}

	var isDir *bool // unknown for paths that are gone
	if !gone || created {
		if fi, err := os.Lstat(name); err == nil {
			isDir = ptr(fi.IsDir())
		} else if !gone {
			// Created and already gone again: report the name as removed.
			gone = true
		}
	}
	if w.ignored(root, name, isDir) {
		return false
	}
	b.add(name, created, gone)
	if created && isDir != nil && *isDir {
		w.addTreeLogged(root, name, func(p string) { b.add(p, true, false) })
	}
	return true
}

// addTreeLogged is addTree for the event loop: a *LimitError cannot be
// handled here, so it is logged once (it already carries the sysctl hint).
func (w *Watcher) addTreeLogged(root, dir string, found func(string)) {
	if err := w.addTree(root, dir, found); err != nil && !w.warnedFull {
		w.warnedFull = true
		w.log.Error("directory not watched", keyPath, dir, keyErr, err)
	}
}

// handleError deals with an error from fsnotify and reports whether it
// counts as a change.
func (w *Watcher) handleError(b *burst, err error) bool {
	if !errors.Is(err, fsnotify.ErrEventOverflow) {
		w.log.Warn("file watcher error", keyErr, err)
		return false
	}
	w.log.Warn("file events lost, rescanning", keyErr, err)
	if err := w.rescan(b); err != nil && !w.warnedFull {
		w.warnedFull = true
		w.log.Error("rescan incomplete", keyErr, err)
	}
	b.rescan = true
	return true
}

func ptr[T any](v T) *T { return &v }
