package fn

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fnrun/fnrun/internal/watch"
	"github.com/fnrun/fnrun/runner"
)

/*
The dev loop (--watch). Rationale (issue 5): a dev loop must never run a
stale binary and must never restart for nothing.

  - A change only rebuilds when the build key changed (a touch, a save with
    identical content or a checkout of the same tree does nothing).
  - After a good build the old process group is stopped gracefully and gone
    before the new binary starts (runner.Replace): no "address already in use".
  - After a failed build the old process keeps running, the failure is
    reported (EventRebuildFailed), and nothing restarts until a build succeeds.
  - When the program exits on its own and the policy does not restart it, the
    loop keeps watching and starts it again after the next good build.

A change only computes a key when it can matter to the build: each binary
carries what its build read (build.Inputs, as binary.Matters), and a change
none of whose paths matters is ignored without a key (an edit of a package
the program does not import). A burst with lost events, a binary with no
record and any change after a failed rebuild (the fix may be a new package
the broken import names) compute the key as before.

Superseded builds are removed (issue 14: nine saves left nine binaries).
When a new binary takes over, the binaries this process built for the watch
(binary.Built) other than the new one and the one before it are removed
from the cache with rebuilder.Remove, which leaves an entry another process
(or another function of this one) pins; such an entry is tried again at the
next take-over. The one before is kept so that the previous state can still
be started (a failed start, an undo that hits the cache).

Builds start early (issue 15: waiting out the debounce added it to every
edit). The watcher delivers a burst's first events at once as an Early
change and the burst's end later (watch.Options.Early); the loop checks the
key and starts the build on the Early change, in a goroutine, so that it
keeps taking changes. A build is swapped in only if no event arrived after
it started: one that finishes before its burst ends is held until the end
says nothing followed (Change.More unset); a later event cancels it (the
build runs go under ctx) and the burst's end state is built once the burst
is over. A change that ends or starts a burst while a build runs cancels
that build the same way. EventRebuilding is emitted once per announced
outcome: a restarted build is not announced again, and its EventRebuilt or
EventRebuildFailed names the change first announced.

The loop needs two things, declared here as small interfaces so that it is
tested with fakes: something that builds (rebuilder) and something that
supervises (supervisor, made by start for a binary). The one race worth
naming: a rebuild that finishes just as the program ends by itself. Replace
then asks a supervisor that is already returning; the loop counts the runs
started (noteStarted, from the supervisor's events) and, if Run returns
with no run started since the Replace, starts the new binary itself.
*/

// rebuilder is what the dev loop needs from the build.
type rebuilder interface {
	// Key is the build key of the source as it is now; it builds nothing.
	Key(ctx context.Context) (string, error)
	// Build builds the source; the binary stays pinned until Release.
	Build(ctx context.Context) (binary, error)
	// Remove removes the cache entry key unless it is pinned; removed is
	// false when it is pinned, err wraps fs.ErrNotExist when it is gone.
	Remove(key string) (removed bool, err error)
}

// binary is a built, pinned program.
type binary struct {
	Path, Key string
	Took      time.Duration
	Release   func()
	// Built is set when this process built the binary for the watch (not a
	// cache hit): the loop removes it once superseded.
	Built bool
	// Matters reports whether a change of a path can change the build
	// (build.Inputs.Matters); nil means every change can.
	Matters func(path string) bool
}

// supervisor is one supervision as the dev loop uses it (*runner.Supervisor).
type supervisor interface {
	Run(ctx context.Context) (runner.Status, error)
	Replace(path string)
}

// devLoop rebuilds and restarts on change. Its fields are set before run.
type devLoop struct {
	build     rebuilder
	start     func(path string) (supervisor, error) // a supervisor for path, not yet running
	changes   <-chan watch.Change                   // Early ones too (watch.Options.Early)
	watchErr  <-chan error                          // the watcher's end, once changes is closed
	emit      func(Event)
	moduleDir string       // changes are described relative to it
	log       *slog.Logger // removals of superseded builds; nil discards

	started atomic.Int64 // runs started so far (noteStarted)
}

// noteStarted is called for every run a supervisor starts.
func (l *devLoop) noteStarted() { l.started.Add(1) }

type supResult struct {
	st  runner.Status
	err error
}

// attempt is a build in flight; done receives its one result.
type attempt struct {
	cancel context.CancelFunc
	done   chan buildResult
}

type buildResult struct {
	bin binary
	err error
}

// run supervises first and rebuilds on change until ctx is done, a start
// fails, or the watcher fails. It returns the last run's status. first's
// pin (and those of later builds) is released before run returns.
func (l *devLoop) run(ctx context.Context, first binary) (runner.Status, error) {
	release := first.Release
	defer func() { release() }()
	// sctx ends the supervisor when the loop returns early (a watch error):
	// the program's group is stopped before the loop returns.
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()

	var (
		sup        supervisor
		done       chan supResult
		last       runner.Status
		key        = first.Key
		current    = first.Path
		replacedAt = int64(-1) // l.started when the last Replace was asked
		changes    = l.changes
		matters    = first.Matters // of the current binary
		failed     bool            // the last rebuild failed: every change counts
		history    builds

		att       *attempt     // the build in flight
		held      *buildResult // a build that finished before its burst ended
		open      bool         // an Early change was taken, its burst goes on
		announced bool         // EventRebuilding was emitted, its outcome not yet
		what      string       // the announced change
		drain     sync.WaitGroup
	)
	history.use(first)
	defer func() {
		if done != nil {
			scancel()
			<-done
		}
	}()
	// abandon cancels the build in flight and drops one held back: a
	// change arrived after it started. A cancelled build's result is
	// released when it comes.
	abandon := func() {
		if a := att; a != nil {
			att = nil
			a.cancel()
			drain.Add(1)
			go func() {
				defer drain.Done()
				if r := <-a.done; r.err == nil {
					r.bin.Release()
				}
			}()
		}
		if held != nil {
			if held.err == nil {
				held.bin.Release()
			}
			held = nil
		}
	}
	defer func() {
		abandon()
		drain.Wait()
	}()
	// consider starts a build if ch can change the binary and reports
	// whether it did. A restarted build is not announced again.
	consider := func(ch watch.Change) bool {
		if !failed && !relevant(ch, matters) {
			return false
		}
		if k, err := l.build.Key(ctx); err == nil && k == key {
			return false
		}
		if !announced {
			announced, what = true, describeChange(ch, l.moduleDir)
			l.emit(Event{Kind: EventRebuilding, Msg: what})
		}
		bctx, cancel := context.WithCancel(ctx)
		a := &attempt{cancel: cancel, done: make(chan buildResult, 1)}
		att = a
		go func() {
			b, err := l.build.Build(bctx)
			a.done <- buildResult{b, err}
		}()
		return true
	}
	// ignored reports a burst that builds nothing.
	ignored := func(ch watch.Change) {
		announced = false // a build cancelled for this burst ends here
		l.emit(Event{Kind: EventChangeIgnored, Files: len(ch.Paths)})
	}
	start := func(path string) error {
		replacedAt = -1
		s, err := l.start(path)
		if err != nil {
			return err
		}
		sup, done = s, make(chan supResult, 1)
		go func() {
			st, err := s.Run(sctx)
			done <- supResult{st, err}
		}()
		return nil
	}
	// finish reports a build whose burst is over and swaps it in if good.
	finish := func(r buildResult) error {
		announced = false
		if r.err != nil {
			if ctx.Err() == nil {
				failed = true
				l.emit(Event{Kind: EventRebuildFailed, Err: r.err, Running: sup != nil})
			}
			return nil
		}
		b := r.bin
		release()
		release = b.Release
		key, current = b.Key, b.Path
		matters, failed = b.Matters, false
		l.removeSuperseded(history.use(b), &history)
		l.emit(Event{Kind: EventRebuilt, Binary: b.Path, Key: b.Key, Took: b.Took, Msg: what})
		if sup != nil {
			replacedAt = l.started.Load()
			sup.Replace(current)
			return nil
		}
		return start(current)
	}
	if err := start(current); err != nil {
		return last, err
	}
	for {
		var built chan buildResult
		if att != nil {
			built = att.done
		}
		select {
		case r := <-done:
			sup, done = nil, nil
			last = r.st
			if r.err != nil {
				return last, startError(r.err)
			}
			if ctx.Err() != nil {
				return last, nil
			}
			if replacedAt >= 0 && l.started.Load() == replacedAt {
				// A rebuild finished just as the program ended: run it.
				if err := start(current); err != nil {
					return last, err
				}
				continue
			}
			l.emit(Event{Kind: EventIdle, Code: last.ExitCode()})
		case r := <-built:
			att.cancel()
			att = nil
			if open {
				held = &r // swapped in if nothing follows in its burst
				continue
			}
			if err := finish(r); err != nil {
				return last, err
			}
		case ch, ok := <-changes:
			if !ok {
				changes = nil // closed: never select it again
				if err := <-l.watchErr; err != nil {
					return last, &Error{Phase: PhaseWatch, Err: fmt.Errorf("watch: %w", err)}
				}
				continue
			}
			switch {
			case ch.Early:
				// A burst begins: build at once what it has changed so far.
				abandon()
				open = true
				consider(ch)
			case open && !ch.More:
				// The burst ended with nothing after its Early change: what
				// that started stands.
				open = false
				switch {
				case held != nil:
					r := *held
					held = nil
					if err := finish(r); err != nil {
						return last, err
					}
				case att == nil:
					ignored(ch)
				}
			default:
				// A burst ended, with events after its Early change or
				// without one: build its end state.
				open = false
				abandon()
				if !consider(ch) {
					ignored(ch)
				}
			}
		case <-ctx.Done():
			if sup == nil {
				return last, nil
			}
			// The supervisor sees the same ctx and stops the group; wait for it.
			r := <-done
			done = nil
			return r.st, nil
		}
	}
}

// relevant reports whether ch can change the build: events were lost, or
// one of its paths matters (matters nil: every path does).
func relevant(ch watch.Change, matters func(string) bool) bool {
	if matters == nil || ch.Rescan || ch.Truncated || len(ch.Paths) == 0 {
		return true
	}
	return slices.ContainsFunc(ch.Paths, matters)
}

// builds are the binaries the dev loop has run, for removing the superseded
// ones it built. Owned by the loop.
type builds struct {
	keys  []string        // distinct keys in order of use, the current one last
	owned map[string]bool // keys this process built for the watch
}

// use records that b runs now and returns the keys built by this process
// that are neither b nor the one before it: those to remove.
func (h *builds) use(b binary) []string {
	if h.owned == nil {
		h.owned = map[string]bool{}
	}
	if b.Built {
		h.owned[b.Key] = true
	}
	h.keys = slices.DeleteFunc(h.keys, func(k string) bool { return k == b.Key })
	h.keys = append(h.keys, b.Key)
	var drop []string
	old := slices.Clone(h.keys[:max(0, len(h.keys)-keepBuilds)])
	for _, k := range old {
		if h.owned[k] {
			drop = append(drop, k)
		}
	}
	// Keys not built here are never removed: forget them.
	h.keys = slices.DeleteFunc(h.keys, func(k string) bool { return !h.owned[k] && slices.Contains(old, k) })
	return drop
}

// forget drops key once its entry is removed (or gone).
func (h *builds) forget(key string) {
	delete(h.owned, key)
	h.keys = slices.DeleteFunc(h.keys, func(k string) bool { return k == key })
}

// keepBuilds is how many binaries a watch keeps: the running one and the
// one before it.
const keepBuilds = 2

// removeSuperseded removes the cache entries of keys; a pinned one stays in
// h to be tried again at the next take-over.
func (l *devLoop) removeSuperseded(keys []string, h *builds) {
	log := l.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for _, k := range keys {
		removed, err := l.build.Remove(k)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			h.forget(k)
		case err != nil:
			h.forget(k) // not retried: a cache that cannot be written says so again at the next build
			log.Warn("removing a superseded build", "key", k, "err", err)
		case removed:
			h.forget(k)
			log.Debug("removed a superseded build", "key", k)
		default:
			log.Debug("superseded build in use; kept", "key", k)
		}
	}
}

// describeChange names what a change touched, relative to the module: the
// first path and how many more.
func describeChange(ch watch.Change, moduleDir string) string {
	if len(ch.Paths) == 0 {
		return "rescan"
	}
	first := ch.Paths[0]
	if rel, err := filepath.Rel(moduleDir, first); err == nil && !strings.HasPrefix(rel, "..") {
		first = rel
	}
	if n := len(ch.Paths) - 1; n > 0 || ch.Truncated {
		return fmt.Sprintf("%s and %d more", first, n)
	}
	return first
}
