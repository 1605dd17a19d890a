package fn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fnrun/fnrun/runner"
)

// States a function is in (Status.State); `fnrun ps` shows them.
const (
	StateFetching = "fetching" // the source is being fetched
	StateBuilding = "building" // the binary is being built
	StateStarting = "starting" // built, waiting to start (its dependencies, or the first run)
	StateRunning  = "running"  // a run is alive (and not known to be ready)
	StateReady    = "ready"    // the run passed its readiness checks
	StateBackoff  = "backoff"  // the run ended; the next one starts at NextRestart
	StateStopped  = "stopped"  // held by Stop until Start
	StateFailed   = "failed"   // ended with a failure: it is not restarted
	StateExited   = "exited"   // ended by itself with success, or was stopped for good
)

// Status is what a function is doing at one moment.
type Status struct {
	State       string
	PID         int       // of the live run; 0 when none
	Started     time.Time // when the live run started
	Runs        int       // runs started
	Restarts    int       // runs started after the first
	LastExit    string    // how the last run ended ("exit code 2", "killed by SIGKILL")
	LastExitAt  time.Time // when it did
	NextRestart time.Time // StateBackoff: when the next run starts
	Source      string    // the source's identity: module@version, directory, program path
	Key         string    // the binary's cache key
	Binary      string
	Ended       bool // Run has returned: nothing more will run
	Checks      bool // it has readiness checks (StateReady means something)
}

// status is a Function's Status, kept from its events.
type status struct {
	mu      sync.Mutex
	s       Status
	changed chan struct{} // closed and replaced on every change
}

func (t *status) get() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.s
}

// update changes the status under the lock and wakes the waiters.
func (t *status) update(fn func(s *Status)) {
	t.mu.Lock()
	fn(&t.s)
	if t.changed != nil {
		close(t.changed)
		t.changed = nil
	}
	t.mu.Unlock()
}

// wait returns the status and a channel closed at its next change.
func (t *status) wait() (Status, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.changed == nil {
		t.changed = make(chan struct{})
	}
	return t.s, t.changed
}

// event folds e into the status.
func (t *status) event(e Event) {
	switch e.Kind {
	case EventBuilt, EventRebuilt:
		t.update(func(s *Status) {
			s.Binary, s.Key = e.Binary, e.Key
			if e.Kind == EventBuilt && (s.State == "" || s.State == StateFetching || s.State == StateBuilding) {
				s.State = StateStarting
			}
		})
	case EventStarted:
		t.update(func(s *Status) {
			s.State, s.PID, s.Started, s.Runs = StateRunning, e.PID, e.Time, e.Run
			s.NextRestart = time.Time{}
			if e.Run > 1 {
				s.Restarts = e.Run - 1
			}
		})
	case EventReady:
		t.update(func(s *Status) {
			if s.State == StateRunning {
				s.State = StateReady
			}
		})
	case EventExited:
		t.update(func(s *Status) {
			s.State, s.PID, s.Started = StateExited, 0, time.Time{}
			s.LastExit, s.LastExitAt = DescribeExit(runner.Status{Code: e.Code, Signal: e.Signal}), e.Time
		})
	case EventBackoff:
		t.update(func(s *Status) {
			if e.Delay > 0 {
				s.State, s.NextRestart = StateBackoff, e.Next
			}
		})
	case EventHeld:
		t.update(func(s *Status) { s.State, s.NextRestart = StateStopped, time.Time{} })
	case EventGaveUp, EventStartFailed:
		t.update(func(s *Status) { s.State, s.PID = StateFailed, 0 })
	case EventIdle:
		t.update(func(s *Status) { s.State = StateExited })
	}
}

// Status returns what the function is doing now.
func (f *Function) Status() Status {
	s := f.st.get()
	if s.State == "" {
		s.State = StateStarting
	}
	if s.Source == "" {
		s.Source = f.source()
	}
	s.Checks = f.cfg.Ready.Checks()
	return s
}

func (f *Function) source() string {
	if f.src == nil {
		return f.cfg.Program
	}
	return f.cfg.Source.Redacted()
}

func (f *Function) setState(state string) {
	f.st.update(func(s *Status) { s.State = state })
}

// ended records how Run ended.
func (f *Function) ended(res *Result) {
	f.st.update(func(s *Status) {
		s.Ended = true
		s.PID, s.NextRestart = 0, time.Time{}
		switch {
		case res.Err != nil || s.State == StateFailed:
			s.State = StateFailed
		case !res.Stopped && res.Status.Runs > 0 && res.Status.ExitCode() != 0:
			s.State = StateFailed
		default:
			s.State = StateExited
		}
	})
	f.emit(Event{Kind: EventEnded})
}

// ErrNotRunning is returned by Stop, Start and Restart for a function whose
// Run has not started supervising or has ended.
var ErrNotRunning = errors.New("not running")

// Stop stops the current run gracefully and keeps the function stopped
// (StateStopped) until Start; it returns once the run's processes are gone,
// or when ctx is done. Stopping a stopped function does nothing.
func (f *Function) Stop(ctx context.Context) error {
	s, err := f.live()
	if err != nil {
		return err
	}
	s.Hold()
	_, err = f.await(ctx, func(st Status) bool { return st.State == StateStopped || st.Ended })
	return err
}

// Start ends a Stop: the next run starts at once, with the backoff reset.
// It returns once that run has started, or when ctx is done. Starting a
// function that is not stopped does nothing.
func (f *Function) Start(ctx context.Context) error {
	s, err := f.live()
	if err != nil {
		return err
	}
	// Resume, not Held, decides: a stop still under way is ended too.
	return f.restartWait(ctx, s.Resume)
}

// RestartWait restarts like Restart and returns once the new run has
// started, or when ctx is done.
func (f *Function) RestartWait(ctx context.Context) error {
	s, err := f.live()
	if err != nil {
		return err
	}
	return f.restartWait(ctx, func() bool { s.Restart(); return true })
}

func (f *Function) restartWait(ctx context.Context, act func() bool) error {
	runs := f.st.get().Runs
	if !act() {
		return nil // nothing to start
	}
	st, err := f.await(ctx, func(st Status) bool { return st.Runs > runs || st.Ended })
	if err == nil && st.Runs <= runs {
		return fmt.Errorf("it could not be started (last exit: %s)", st.LastExit)
	}
	return err
}

// live returns the supervisor that Stop, Start and RestartWait act on.
func (f *Function) live() (*runner.Supervisor, error) {
	s := f.current()
	if s == nil || f.st.get().Ended {
		return nil, ErrNotRunning
	}
	return s, nil
}

// await waits until done(status) holds, and returns that status.
func (f *Function) await(ctx context.Context, done func(Status) bool) (Status, error) {
	for {
		st, changed := f.st.wait()
		if done(st) {
			return st, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return st, ctx.Err()
		}
	}
}

// Actions that Action names (fnrun restart, stop and start).
const (
	ActRestart = "restart" // RestartWait: stop gracefully and start again at once, backoff reset
	ActStop    = "stop"    // Stop: stop gracefully and keep stopped until ActStart
	ActStart   = "start"   // Start: start a stopped function
)

// Action returns the method that carries out act, or an error for an
// unknown act.
func Action(act string) (func(*Function, context.Context) error, error) {
	switch act {
	case ActRestart:
		return (*Function).RestartWait, nil
	case ActStop:
		return (*Function).Stop, nil
	case ActStart:
		return (*Function).Start, nil
	}
	return nil, fmt.Errorf("unknown action %q", act)
}
