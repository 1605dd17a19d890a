package watch

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is the quiet period after the last event of a burst
// before the burst is reported.
const DefaultDebounce = 100 * time.Millisecond

// DefaultEarly is the Early gap callers use when they want bursts reported
// early: long enough for the events of one save (truncate and write, or
// write a temporary file and rename it over the original) to arrive
// together.
const DefaultEarly = 15 * time.Millisecond

// Log attribute keys.
const (
	keyPath = "path"
	keyErr  = "err"
	keyOp   = "op"
)

// Options configures a Watcher.
type Options struct {
	// Roots are the directories watched recursively, typically the module
	// root and its local replace targets. At least one is required.
	Roots []string
	// Debounce is the quiet period that ends a burst; 0 means
	// DefaultDebounce.
	Debounce time.Duration
	// Early, if positive and shorter than Debounce, makes Run also deliver
	// a burst before it is over: once no event has arrived for Early, the
	// burst so far is delivered as a Change with Early set; the burst's
	// last Change follows when it ends, as without Early. 0 disables this.
	Early time.Duration
	// Ignore holds extra globs (see MatchGlob), each matched against the
	// slash path relative to the root of the path and of each of its
	// parent directories, and, if the glob has no "/", against their base
	// names: "*.pb.go" and "node_modules" match at any depth, "gen/**"
	// only at the root. New reports an invalid one as
	// `invalid --ignore glob "PATTERN": REASON`, wrapping
	// path.ErrBadPattern for a syntax error.
	Ignore []string
	// KeepVendor and KeepTestdata stop vendor and testdata directories
	// from being ignored.
	KeepVendor, KeepTestdata bool
	// Logger receives the watcher's own events (skipped directories,
	// rescans); nil discards them.
	Logger *slog.Logger
}

// Change describes one debounced burst of file system events.
type Change struct {
	// Paths are the changed paths in the burst (files, and directories
	// created, removed or renamed), absolute, sorted, deduplicated and
	// truncated to about 100 entries.
	Paths []string
	// Truncated is set when Paths does not list everything that changed.
	Truncated bool
	// Rescan is set when events were lost (inotify queue overflow) and the
	// roots were walked again: anything may have changed.
	Rescan bool
	// Early is set on a Change delivered before its burst is over (see
	// Options.Early). Exactly one Change without Early follows for the same
	// burst, when it ends; its Paths cover the whole burst.
	Early bool
	// More is set on the Change that ends a burst whose Early Change was
	// received when events arrived after that: what was started for the
	// Early Change is out of date.
	More bool
}

// Watcher watches directory trees and reports debounced changes.
//
// New sets up the watches; Run then owns all state and must be called at
// most once. Changes, WatchedDirs and Close are safe to call from any
// goroutine at any time. Close must be called to release the inotify
// instance, whether or not Run was called.
type Watcher struct {
	opts    Options
	roots   []string
	log     *slog.Logger
	fsw     *fsnotify.Watcher
	changes chan Change
	started atomic.Bool // Run has been called

	closeOnce sync.Once
	closeErr  error

	// Owned by New, then by the Run goroutine.
	gitignore  map[string][]gitRule // directory → rules of its .gitignore
	warnedFull bool                 // a LimitError has been logged
	missing    map[string]string    // removed root → ancestor watched until it is back ("" if none yet)
	fatal      error                // set when watching cannot go on; Run returns it
}

// New validates opts, creates the inotify instance and adds a watch on
// every directory under the roots that is not ignored. It returns an error
// for a bad ignore glob or a root that is not a directory, and a
// *LimitError when inotify's per-user limits are exhausted.
func New(opts Options) (*Watcher, error) {
	if len(opts.Roots) == 0 {
		return nil, errors.New("watch: no root directories")
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Early >= opts.Debounce {
		opts.Early = 0
	}
	for _, g := range opts.Ignore {
		// Not prefixed with "watch:": callers add their own context, and
		// the message names the flag the globs come from.
		if err := globError(g); err != nil {
			return nil, fmt.Errorf("invalid --ignore glob %q: %w", g, err)
		}
	}
	opts.Ignore = slices.Clone(opts.Ignore)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	roots, err := cleanRoots(opts.Roots)
	if err != nil {
		return nil, err
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, newWatcherError(err)
	}
	w := &Watcher{
		opts:      opts,
		roots:     roots,
		log:       log,
		fsw:       fsw,
		changes:   make(chan Change),
		gitignore: make(map[string][]gitRule),
		missing:   make(map[string]string),
	}
	for _, r := range roots {
		if err := w.fsw.Add(r); err != nil {
			fsw.Close()
			return nil, addError(r, err)
		}
		if err := w.addTree(r, r, nil); err != nil {
			fsw.Close()
			return nil, err
		}
	}
	return w, nil
}

// cleanRoots makes the roots absolute, resolves roots that are symbolic
// links (fsnotify reports events under the name that was added, and the
// walk does not follow links), checks they are directories and drops
// duplicates.
func cleanRoots(in []string) ([]string, error) {
	var out []string
	for _, r := range in {
		abs, err := filepath.Abs(r)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", r, err)
		}
		if fi, err := os.Lstat(abs); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			if abs, err = filepath.EvalSymlinks(abs); err != nil {
				return nil, fmt.Errorf("watch %s: %w", r, err)
			}
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", r, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("watch %s: not a directory", r)
		}
		if !slices.Contains(out, abs) {
			out = append(out, abs)
		}
	}
	return out, nil
}

// Changes returns the channel on which Run delivers one Change per
// debounced burst (two with Options.Early: the first with Early set). It is
// closed when Run returns. A burst that arrives while the previous Change
// has not been received yet is merged into it.
func (w *Watcher) Changes() <-chan Change { return w.changes }

// WatchedDirs returns the directories currently watched, sorted. It is
// meant for tests and debugging; it is safe to call concurrently with Run.
func (w *Watcher) WatchedDirs() []string {
	dirs := w.fsw.WatchList()
	sort.Strings(dirs)
	return dirs
}

// Close releases the inotify instance, which also makes a running Run
// return. It is idempotent and safe to call concurrently with Run.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		if err := w.fsw.Close(); err != nil {
			w.closeErr = fmt.Errorf("close watcher: %w", err)
		}
	})
	return w.closeErr
}
