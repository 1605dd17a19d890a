package fn

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnrun/fnrun/internal/watch"
	"github.com/fnrun/fnrun/runner"
)

// The dev loop with a fake build and fake supervisors: no go, no processes.

// fakeBuild builds "bin-KEY" for the current key, or fails with fail.
type fakeBuild struct {
	mu       sync.Mutex
	key      string
	fail     error
	builds   int
	pinned   map[string]int // path → pins held
	onBuild  func()         // called inside Build (to race it with an exit)
	released []string
	keyCalls int
	hits     map[string]bool        // keys Build finds in the cache (binary.Built false)
	matters  func(path string) bool // binary.Matters of every build
	inUse    map[string]bool        // keys pinned by "another process": Remove refuses
	removed  []string               // keys removed, in order
	gate     chan struct{}          // if set, Build waits for it (or for ctx) before returning
	canceled int                    // builds ended by their ctx
}

func (b *fakeBuild) Remove(key string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inUse[key] {
		return false, nil
	}
	if slices.Contains(b.removed, key) {
		return false, fs.ErrNotExist
	}
	b.removed = append(b.removed, key)
	return true, nil
}

func (b *fakeBuild) removedKeys() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.removed)
}

func (b *fakeBuild) setKey(k string) { b.mu.Lock(); b.key = k; b.mu.Unlock() }
func (b *fakeBuild) setFail(err error) {
	b.mu.Lock()
	b.fail = err
	b.mu.Unlock()
}

func (b *fakeBuild) Key(context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.keyCalls++
	return b.key, nil
}

func (b *fakeBuild) Build(ctx context.Context) (binary, error) {
	b.mu.Lock()
	b.builds++
	key, fail, hook, gate := b.key, b.fail, b.onBuild, b.gate
	b.mu.Unlock()
	if hook != nil {
		hook()
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			b.mu.Lock()
			b.canceled++
			b.mu.Unlock()
			return binary{}, ctx.Err()
		}
	}
	if fail != nil {
		return binary{}, fail
	}
	return b.binary(key), nil
}

func (b *fakeBuild) binary(key string) binary {
	path := "bin-" + key
	b.mu.Lock()
	b.pinned[path]++
	b.mu.Unlock()
	return binary{Path: path, Key: key, Built: !b.hits[key], Matters: b.matters, Release: func() {
		b.mu.Lock()
		b.pinned[path]--
		b.released = append(b.released, path)
		b.mu.Unlock()
	}}
}

// fakeSup runs "binaries": every run is announced on runs; a Replace
// starts the new path as the next run; exit ends Run as the program
// ending by itself.
type fakeSup struct {
	l       *devLoop
	path    string
	runs    chan<- string
	replace chan string
	exit    chan struct{}
	done    chan struct{}
	// onReplace is called by Replace before it hands the path over (to
	// race it with an exit).
	onReplace func()
}

func (s *fakeSup) Run(ctx context.Context) (runner.Status, error) {
	defer close(s.done)
	for {
		s.l.noteStarted()
		s.runs <- s.path
		select {
		case <-ctx.Done():
			return runner.Status{Code: -1, Signal: 15, Runs: 1}, nil
		case <-s.exit:
			return runner.Status{Code: 3, Runs: 1}, nil
		case p := <-s.replace:
			s.path = p
		}
	}
}

func (s *fakeSup) Replace(path string) {
	if s.onReplace != nil {
		s.onReplace()
	}
	select {
	case s.replace <- path:
	default:
	}
}

type loopTest struct {
	t       *testing.T
	l       *devLoop
	b       *fakeBuild
	changes chan watch.Change
	runs    chan string
	events  chan Event
	mu      sync.Mutex
	sups    []*fakeSup
	cancel  context.CancelFunc
	result  chan error
}

func startLoop(t *testing.T) *loopTest {
	t.Helper()
	return startLoopWith(t, &fakeBuild{})
}

// startLoopWith starts the loop on b, which starts at key v1.
func startLoopWith(t *testing.T, b *fakeBuild) *loopTest {
	t.Helper()
	b.key, b.pinned = "v1", map[string]int{}
	lt := &loopTest{t: t, b: b,
		changes: make(chan watch.Change), runs: make(chan string, 16), events: make(chan Event, 64), result: make(chan error, 1)}
	lt.l = &devLoop{build: lt.b, changes: lt.changes, watchErr: make(chan error, 1), moduleDir: "/m",
		emit: func(e Event) { lt.events <- e }}
	lt.l.start = func(path string) (supervisor, error) {
		s := &fakeSup{l: lt.l, path: path, runs: lt.runs, replace: make(chan string, 1), exit: make(chan struct{}), done: make(chan struct{})}
		lt.mu.Lock()
		lt.sups = append(lt.sups, s)
		lt.mu.Unlock()
		return s, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	lt.cancel = cancel
	first := lt.b.binary("v1")
	go func() {
		_, err := lt.l.run(ctx, first)
		lt.result <- err
	}()
	t.Cleanup(func() { cancel() })
	lt.run("bin-v1")
	return lt
}

const loopWait = 5 * time.Second

// run expects the next run to start path.
func (lt *loopTest) run(path string) {
	lt.t.Helper()
	select {
	case got := <-lt.runs:
		if got != path {
			lt.t.Fatalf("started %s, want %s", got, path)
		}
	case <-time.After(loopWait):
		lt.t.Fatalf("no run started, want %s", path)
	}
}

// event expects the next event of one of the loop's own kinds to be kind.
func (lt *loopTest) event(kind EventKind) Event {
	lt.t.Helper()
	select {
	case e := <-lt.events:
		if e.Kind != kind {
			lt.t.Fatalf("event %v (%+v), want %v", e.Kind, e, kind)
		}
		return e
	case <-time.After(loopWait):
		lt.t.Fatalf("no event, want %v", kind)
	}
	return Event{}
}

func (lt *loopTest) change(paths ...string) {
	lt.t.Helper()
	lt.send(watch.Change{Paths: paths})
}

func (lt *loopTest) send(ch watch.Change) {
	lt.t.Helper()
	select {
	case lt.changes <- ch:
	case <-time.After(loopWait):
		lt.t.Fatal("the loop does not take changes")
	}
}

// noEvent checks that no event is waiting.
func (lt *loopTest) noEvent() {
	lt.t.Helper()
	select {
	case e := <-lt.events:
		lt.t.Fatalf("event %v (%+v), want none yet", e.Kind, e)
	default:
	}
}

// waitBuilds waits until Build has been called n times.
func (lt *loopTest) waitBuilds(n int) {
	lt.t.Helper()
	deadline := time.Now().Add(loopWait)
	for {
		lt.b.mu.Lock()
		got := lt.b.builds
		lt.b.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			lt.t.Fatalf("builds = %d, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (lt *loopTest) sup(i int) *fakeSup {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return lt.sups[i]
}

// stop ends the loop and checks that every pin was released.
func (lt *loopTest) stop() {
	lt.t.Helper()
	lt.cancel()
	select {
	case err := <-lt.result:
		if err != nil {
			lt.t.Fatalf("loop: %v", err)
		}
	case <-time.After(loopWait):
		lt.t.Fatal("the loop did not return after cancel")
	}
	lt.b.mu.Lock()
	defer lt.b.mu.Unlock()
	for p, n := range lt.b.pinned {
		if n != 0 {
			lt.t.Errorf("%s pinned %d times after the loop returned, want 0", p, n)
		}
	}
}

// A burst of changes: the ones that leave the key as it is build nothing;
// the one that changes it builds once and replaces the running binary.
func TestDevLoop_editBurst(t *testing.T) {
	lt := startLoop(t)
	lt.change("/m/README.md")
	lt.event(EventChangeIgnored)
	lt.b.setKey("v2")
	lt.change("/m/main.go", "/m/a.go")
	if e := lt.event(EventRebuilding); e.Msg != "main.go and 1 more" {
		t.Errorf("rebuilding %q, want %q", e.Msg, "main.go and 1 more")
	}
	lt.event(EventRebuilt)
	lt.run("bin-v2")
	lt.change("/m/main.go") // saved again, same content
	lt.event(EventChangeIgnored)
	if lt.b.builds != 1 {
		t.Errorf("builds = %d, want 1", lt.b.builds)
	}
	lt.stop()
	if !slices.Contains(lt.b.released, "bin-v1") {
		t.Errorf("released %v, want bin-v1's pin released after the rebuild", lt.b.released)
	}
}

// A failed build keeps the old process: no replace, the failure says a run
// is alive; the fix replaces it.
func TestDevLoop_failedBuildKeepsOld(t *testing.T) {
	lt := startLoop(t)
	lt.b.setKey("broken")
	lt.b.setFail(errors.New("undefined: x"))
	lt.change("/m/main.go")
	lt.event(EventRebuilding)
	if e := lt.event(EventRebuildFailed); !e.Running || e.Err == nil {
		t.Errorf("rebuild failed event %+v, want Running and the error", e)
	}
	select {
	case p := <-lt.runs:
		t.Fatalf("started %s after a failed build", p)
	default:
	}
	lt.b.setKey("v3")
	lt.b.setFail(nil)
	lt.change("/m/main.go")
	lt.event(EventRebuilding)
	lt.event(EventRebuilt)
	lt.run("bin-v3")
	lt.stop()
}

// The program ends by itself: the loop waits; the next good build starts it.
func TestDevLoop_endedThenRebuilt(t *testing.T) {
	lt := startLoop(t)
	close(lt.sup(0).exit)
	if e := lt.event(EventIdle); e.Code != 3 {
		t.Errorf("idle code %d, want 3", e.Code)
	}
	lt.b.setKey("v2")
	lt.change("/m/main.go")
	lt.event(EventRebuilding)
	lt.event(EventRebuilt)
	lt.run("bin-v2")
	lt.mu.Lock()
	n := len(lt.sups)
	lt.mu.Unlock()
	if n != 2 {
		t.Errorf("supervisors started = %d, want 2 (a new one after the end)", n)
	}
	lt.stop()
}

// A rebuild that finishes just as the program ends: the Replace reaches a
// supervisor that is returning, and the loop starts the new binary itself.
func TestDevLoop_rebuildRacesExit(t *testing.T) {
	lt := startLoop(t)
	first := lt.sup(0)
	first.onReplace = func() {
		close(first.exit) // the program ends as the build is done
		<-first.done      // and its Run has returned before the Replace
	}
	lt.b.setKey("v2")
	lt.change("/m/main.go")
	lt.event(EventRebuilding)
	lt.event(EventRebuilt)
	lt.run("bin-v2")
	select {
	case e := <-lt.events:
		t.Fatalf("event %v after the race, want none (no idle: the new binary runs)", e.Kind)
	default:
	}
	lt.stop()
}

// A watcher that fails ends the loop with a watch error, after stopping the
// program.
func TestDevLoop_watchFails(t *testing.T) {
	lt := startLoop(t)
	werr := make(chan error, 1)
	werr <- errors.New("watched directory /m was removed")
	lt.l.watchErr = werr
	close(lt.changes)
	select {
	case err := <-lt.result:
		if PhaseOf(err) != PhaseWatch {
			t.Errorf("loop ended with %v, want a watch error", err)
		}
	case <-time.After(loopWait):
		t.Fatal("the loop did not end when the watcher failed")
	}
	select {
	case <-lt.sup(0).done:
	default:
		t.Error("the supervisor still runs after the loop returned")
	}
}

// rebuild changes the key to key and expects the loop to rebuild and run it.
func (lt *loopTest) rebuild(key string) {
	lt.t.Helper()
	lt.b.setKey(key)
	lt.change("/m/main.go")
	lt.event(EventRebuilding)
	lt.event(EventRebuilt)
	lt.run("bin-" + key)
}

// Superseded builds are removed as the new one takes over: the running one
// and the one before it stay; an entry pinned elsewhere stays and is tried
// again later; a build found in the cache (not built here) is never removed,
// unless this loop built it before.
func TestDevLoop_removesSuperseded(t *testing.T) {
	lt := startLoopWith(t, &fakeBuild{hits: map[string]bool{"v1": true}, inUse: map[string]bool{}})
	check := func(want ...string) {
		t.Helper()
		if got := lt.b.removedKeys(); !slices.Equal(got, want) {
			t.Errorf("removed %v, want %v", got, want)
		}
	}
	lt.rebuild("v2")
	check()
	lt.rebuild("v3")
	check() // v1 was a cache hit: not this process's to remove
	lt.b.mu.Lock()
	lt.b.inUse["v2"] = true
	lt.b.mu.Unlock()
	lt.rebuild("v4")
	check() // v2 is pinned by another process
	lt.b.mu.Lock()
	lt.b.inUse["v2"] = false
	lt.b.mu.Unlock()
	lt.rebuild("v5")
	check("v2", "v3")
	lt.b.mu.Lock()
	lt.b.hits["v4"] = true // an undo finds v4 in the cache: built here before
	lt.b.mu.Unlock()
	lt.rebuild("v4")
	check("v2", "v3") // v5 is now the one before
	lt.rebuild("v6")
	check("v2", "v3", "v5")
	lt.stop()
	check("v2", "v3", "v5") // the running one and the one before stay
}

// A change none of whose paths matters to the build computes no key; a
// change that matters does; after a failed rebuild every change counts.
func TestDevLoop_ignoresUnimported(t *testing.T) {
	matters := func(p string) bool { return !strings.HasPrefix(p, "/m/cmd/b/") }
	lt := startLoopWith(t, &fakeBuild{matters: matters})
	keyCalls := func() int {
		lt.b.mu.Lock()
		defer lt.b.mu.Unlock()
		return lt.b.keyCalls
	}
	lt.b.setKey("v2") // the module's key changes with cmd/b's file
	lt.change("/m/cmd/b/main.go")
	lt.event(EventChangeIgnored)
	if n := keyCalls(); n != 0 {
		t.Errorf("key computed %d times for an unimported package, want 0", n)
	}
	select {
	case p := <-lt.runs:
		t.Fatalf("started %s for an unimported package", p)
	default:
	}
	lt.change("/m/cmd/b/main.go", "/m/lib/x.go")
	lt.event(EventRebuilding)
	lt.event(EventRebuilt)
	lt.run("bin-v2")

	// Events were lost: anything may have changed.
	lt.b.setKey("v3")
	select {
	case lt.changes <- watch.Change{Rescan: true}:
	case <-time.After(loopWait):
		t.Fatal("the loop does not take changes")
	}
	lt.event(EventRebuilding)
	lt.event(EventRebuilt)
	lt.run("bin-v3")

	// A failed rebuild: the fix may lie anywhere (a new package).
	lt.b.setKey("broken")
	lt.b.setFail(errors.New("no required module provides package example.com/m/newpkg"))
	lt.change("/m/lib/x.go")
	lt.event(EventRebuilding)
	lt.event(EventRebuildFailed)
	lt.b.setKey("v4")
	lt.b.setFail(nil)
	lt.change("/m/cmd/b/main.go")
	lt.event(EventRebuilding)
	lt.event(EventRebuilt)
	lt.run("bin-v4")
	// Good again: the filter is back.
	lt.b.setKey("v5")
	lt.change("/m/cmd/b/main.go")
	lt.event(EventChangeIgnored)
	lt.stop()
}

// A burst's Early change starts the build; the build is swapped in when the
// burst ends with nothing after it, announced once.
func TestDevLoop_earlyBuild(t *testing.T) {
	lt := startLoop(t)
	lt.b.gate = make(chan struct{})
	lt.b.setKey("v2")
	lt.send(watch.Change{Paths: []string{"/m/main.go"}, Early: true})
	if e := lt.event(EventRebuilding); e.Msg != "main.go" {
		t.Errorf("rebuilding %q, want %q", e.Msg, "main.go")
	}
	lt.waitBuilds(1) // started before the burst is over
	lt.send(watch.Change{Paths: []string{"/m/main.go"}})
	lt.noEvent()
	close(lt.b.gate)
	if e := lt.event(EventRebuilt); e.Key != "v2" || e.Msg != "main.go" {
		t.Errorf("rebuilt %+v, want key v2 for main.go", e)
	}
	lt.run("bin-v2")

	// Finished before the burst ends: held until the end says nothing followed.
	lt.b.setKey("v3")
	lt.send(watch.Change{Paths: []string{"/m/main.go"}, Early: true})
	lt.event(EventRebuilding)
	lt.waitBuilds(2)
	lt.send(watch.Change{Paths: []string{"/m/main.go"}})
	lt.event(EventRebuilt)
	lt.run("bin-v3")

	// An Early change that leaves the key as it is: ignored once, at the end.
	lt.send(watch.Change{Paths: []string{"/m/main.go"}, Early: true})
	lt.send(watch.Change{Paths: []string{"/m/main.go"}})
	lt.event(EventChangeIgnored)
	lt.noEvent()
	lt.stop()
	if lt.b.builds != 2 {
		t.Errorf("builds = %d, want 2", lt.b.builds)
	}
}

// Events after the build started cancel it; the burst's end state is built
// once the burst is over and swapped in; the restart is not announced again.
func TestDevLoop_earlyBuildCanceled(t *testing.T) {
	lt := startLoop(t)
	lt.b.gate = make(chan struct{})
	lt.b.setKey("v2")
	lt.send(watch.Change{Paths: []string{"/m/main.go"}, Early: true})
	lt.event(EventRebuilding)
	lt.waitBuilds(1)
	lt.b.setKey("v3")
	lt.send(watch.Change{Paths: []string{"/m/a.go", "/m/main.go"}, More: true})
	lt.waitBuilds(2)
	lt.b.mu.Lock()
	canceled := lt.b.canceled
	lt.b.mu.Unlock()
	if canceled != 1 {
		t.Errorf("canceled builds = %d, want 1", canceled)
	}
	lt.noEvent()
	close(lt.b.gate)
	if e := lt.event(EventRebuilt); e.Key != "v3" || e.Msg != "main.go" {
		t.Errorf("rebuilt %+v, want key v3 for the change first announced (main.go)", e)
	}
	lt.run("bin-v3")

	// A build that finished, then more events: dropped, its pin released.
	lt.b.gate = nil
	lt.b.setKey("v4")
	lt.send(watch.Change{Paths: []string{"/m/main.go"}, Early: true})
	lt.event(EventRebuilding)
	lt.waitBuilds(3)
	lt.b.setKey("v5")
	lt.send(watch.Change{Paths: []string{"/m/main.go"}, More: true})
	if e := lt.event(EventRebuilt); e.Key != "v5" {
		t.Errorf("rebuilt %+v, want key v5", e)
	}
	lt.run("bin-v5")

	// Undone within the burst: the cancelled build ends as ignored.
	lt.b.gate = make(chan struct{})
	lt.b.setKey("v6")
	lt.send(watch.Change{Paths: []string{"/m/main.go"}, Early: true})
	lt.event(EventRebuilding)
	lt.waitBuilds(5)
	lt.b.setKey("v5")
	lt.send(watch.Change{Paths: []string{"/m/main.go"}, More: true})
	lt.event(EventChangeIgnored)
	lt.stop()
	if got := lt.b.builds; got != 5 {
		t.Errorf("builds = %d, want 5 (v2, v3, v4, v5, v6)", got)
	}
}
