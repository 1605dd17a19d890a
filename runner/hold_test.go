//go:build unix

package runner

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// quiet is how long a test watches for an event that must not come.
const quiet = 300 * time.Millisecond

// eventChan returns an OnEvent hook that sends every event, in order, on
// the returned channel.
func eventChan() (func(Event), <-chan Event) {
	ch := make(chan Event, 1000)
	return func(e Event) { ch <- e }, ch
}

// expect returns the next events, which must be of the given kinds.
func expect(t *testing.T, ch <-chan Event, kinds ...EventKind) []Event {
	t.Helper()
	var got []Event
	for _, k := range kinds {
		select {
		case e := <-ch:
			if e.Kind != k {
				t.Fatalf("events after %v: got %v (%+v), want %v", got, e.Kind, e, k)
			}
			got = append(got, e)
		case <-time.After(20 * time.Second):
			t.Fatalf("timed out waiting for %v after %v", k, got)
		}
	}
	return got
}

// expectNone checks that no event arrives for a while.
func expectNone(t *testing.T, ch <-chan Event, what string) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("%s: got %v (%+v), want no event", what, e.Kind, e)
	case <-time.After(quiet):
	}
}

// startHeld runs the sleep helper, holds it once started and returns once
// it is held, with the supervisor, its events and Run's result.
func startHeld(t *testing.T, ctx context.Context) (*Supervisor, <-chan Event, <-chan Status, Event) {
	t.Helper()
	o := helperOptions(t, "sleep")
	var ch <-chan Event
	o.OnEvent, ch = eventChan()
	s := mustNew(t, o)
	done := make(chan Status, 1)
	go func() { st, _ := s.Run(ctx); done <- st }()
	started := expect(t, ch, EventStarted)[0]
	s.Hold()
	ev := expect(t, ch, EventStopping, EventExited, EventHeld)
	if held := ev[2]; held.Run != 1 || held.PID != started.PID {
		t.Fatalf("held event %+v, want run 1, pid %d", held, started.PID)
	}
	if !s.Held() {
		t.Fatal("Held() = false after EventHeld")
	}
	return s, ch, done, started
}

func TestSupervisor_Hold(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, ch, done, first := startHeld(t, ctx)
	waitGone(t, first.PID)
	s.Hold() // already held: nothing
	expectNone(t, ch, "held, Hold again")
	if !s.Held() {
		t.Fatal("Held() = false while held")
	}
	s.Resume()
	if s.Held() {
		t.Error("Held() = true after Resume")
	}
	second := expect(t, ch, EventStarted)[0] // and nothing before it
	if second.Run != 2 || second.PID == first.PID {
		t.Errorf("started after Resume: %+v, want run 2 with a new pid (not %d)", second, first.PID)
	}
	s.Resume() // not held: nothing, and not remembered
	expectNone(t, ch, "running, Resume")
	s.Hold()
	third := expect(t, ch, EventStopping, EventExited, EventHeld)[2]
	if third.Run != 2 || third.PID != second.PID {
		t.Errorf("held event %+v, want run 2, pid %d", third, second.PID)
	}
	expectNone(t, ch, "held after a Resume made while running")
	cancel()
	st := <-done
	if st.Runs != 2 || st.Signal != syscall.SIGTERM {
		t.Errorf("status = %+v, want 2 runs, the last stopped by SIGTERM", st)
	}
}

// ctx done while held: Run returns at once, with the held run's status.
func TestSupervisor_Hold_cancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, ch, done, _ := startHeld(t, ctx)
	cancel()
	st := <-done
	if st.Runs != 1 || st.Signal != syscall.SIGTERM {
		t.Errorf("status = %+v, want 1 run stopped by SIGTERM", st)
	}
	if s.Held() {
		t.Error("Held() = true after Run returned")
	}
	select {
	case e := <-ch:
		t.Errorf("event %+v after cancel while held, want none", e)
	default:
	}
}

func TestSupervisor_Hold_kill(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, _, done, _ := startHeld(t, ctx)
	s.Kill()
	if st := <-done; st.Runs != 1 || st.Signal != syscall.SIGTERM || ctx.Err() != nil {
		t.Errorf("status = %+v (ctx %v), want 1 run stopped by SIGTERM, returned on Kill", st, ctx.Err())
	}
}

// Restart and Replace end a hold as Resume does.
func TestSupervisor_Hold_restart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, ch, done, _ := startHeld(t, ctx)
	s.Restart()
	if e := expect(t, ch, EventStarted)[0]; e.Run != 2 {
		t.Errorf("started %+v, want run 2", e)
	}
	if s.Held() {
		t.Error("Held() = true after Restart")
	}
	s.Hold()
	expect(t, ch, EventStopping, EventExited, EventHeld)
	s.Replace(s.currentPath())
	if e := expect(t, ch, EventStarted)[0]; e.Run != 3 {
		t.Errorf("started %+v, want run 3", e)
	}
	expectNone(t, ch, "restarted from a hold") // the Restart is not done twice
	cancel()
	<-done
}

// A hold during the backoff wait ends the wait; Resume starts the next run
// at once, with the backoff reset.
func TestSupervisor_Hold_duringBackoff(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "exit", "1")
	o.Policy = PolicyAlways
	o.BackoffInitial = time.Hour
	o.BackoffMax = 4 * time.Hour
	o.Rand = func() float64 { return 0.5 } // no jitter
	var s *Supervisor
	hook, ch := eventChan()
	o.OnEvent = func(e Event) {
		if e.Kind == EventRestarting && e.Run == 2 {
			s.Hold() // called from Run's goroutine, before the wait
		}
		hook(e)
	}
	s = mustNew(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan Status, 1)
	go func() { st, _ := s.Run(ctx); done <- st }()
	ev := expect(t, ch, EventStarted, EventExited, EventRestarting, EventHeld)
	if held := ev[3]; held.Run != 2 || held.PID != 0 {
		t.Errorf("held event %+v, want run 2 (the next), no pid", held)
	}
	if !s.Held() {
		t.Error("Held() = false during a hold in the backoff wait")
	}
	expectNone(t, ch, "held in the backoff wait")
	s.Resume()
	ev = expect(t, ch, EventStarted, EventExited, EventRestarting)
	if ev[0].Run != 2 {
		t.Errorf("started %+v, want run 2", ev[0])
	}
	// The first failure since the reset: BackoffInitial again, not twice it.
	if d := ev[2].Delay; d != o.BackoffInitial {
		t.Errorf("delay after Resume = %v, want %v (backoff reset)", d, o.BackoffInitial)
	}
	cancel()
	if st := <-done; st.Runs != 2 || st.ExitCode() != 1 {
		t.Errorf("status = %+v, want 2 runs, exit 1", st)
	}
}

// A Hold that arrives after the program exited by itself, before Run
// decided what next: a policy that restarts holds instead, one that does
// not makes Run return as without the hold.
func TestSupervisor_Hold_afterExit(t *testing.T) {
	t.Parallel()
	for _, pol := range []Policy{PolicyNever, PolicyAlways} {
		t.Run(string(pol), func(t *testing.T) {
			t.Parallel()
			o := helperOptions(t, "exit", "0")
			o.Policy = pol
			var s *Supervisor
			hook, ch := eventChan()
			o.OnEvent = func(e Event) {
				if e.Kind == EventExited && e.Run == 1 {
					s.Hold()
				}
				hook(e)
			}
			s = mustNew(t, o)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan Status, 1)
			go func() { st, _ := s.Run(ctx); done <- st }()
			first := expect(t, ch, EventStarted, EventExited)[0]
			if pol == PolicyNever {
				if st := <-done; st.Runs != 1 || st.ExitCode() != 0 {
					t.Errorf("status = %+v, want 1 run, exit 0", st)
				}
				return
			}
			if held := expect(t, ch, EventHeld)[0]; held.Run != 1 || held.PID != first.PID {
				t.Errorf("held event %+v, want run 1, pid %d", held, first.PID)
			}
			expectNone(t, ch, "held instead of the policy's restart")
			cancel()
			<-done
		})
	}
}

// Hold then Resume at once: the run is stopped and the next one started,
// never two at a time; Hold, Resume, Hold: held.
func TestSupervisor_Hold_thenResume(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "sleep")
	var ch <-chan Event
	o.OnEvent, ch = eventChan()
	s := mustNew(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan Status, 1)
	go func() { st, _ := s.Run(ctx); done <- st }()
	started := expect(t, ch, EventStarted)[0]
	for run := 2; run <= 6; run++ {
		s.Hold()
		s.Resume()
		// Stopping, Exited, then Held or Restarting (whether Run took the
		// hold before Resume came), then the next run.
		ev := expect(t, ch, EventStopping, EventExited)
		if ev[1].PID != started.PID {
			t.Fatalf("exited %+v, want pid %d", ev[1], started.PID)
		}
		select {
		case e := <-ch:
			if e.Kind != EventHeld && e.Kind != EventRestarting {
				t.Fatalf("after the exit: %+v, want held or restarting", e)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("timed out after the exit")
		}
		started = expect(t, ch, EventStarted)[0]
		if started.Run != run {
			t.Fatalf("started %+v, want run %d", started, run)
		}
	}
	s.Hold()
	s.Resume()
	s.Hold()
	for {
		e := expect(t, ch, EventStopping, EventExited)[1]
		if e.Run != started.Run {
			t.Fatalf("exited %+v, want run %d", e, started.Run)
		}
		// A restart may come first (the hold was turned into one), then
		// the second Hold takes the next run.
		var next Event
		select {
		case next = <-ch:
		case <-time.After(20 * time.Second):
			t.Fatal("timed out after the exit")
		}
		if next.Kind == EventHeld {
			break
		}
		if next.Kind != EventRestarting {
			t.Fatalf("after the exit: %+v, want held or restarting", next)
		}
		started = expect(t, ch, EventStarted)[0]
	}
	if !s.Held() {
		t.Error("Held() = false after Hold, Resume, Hold")
	}
	expectNone(t, ch, "Hold, Resume, Hold")
	cancel()
	<-done
}

// A Hold made before Run is dropped, as a Restart is.
func TestSupervisor_Hold_beforeRun(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "sleep")
	var ch <-chan Event
	o.OnEvent, ch = eventChan()
	s := mustNew(t, o)
	s.Hold()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan Status, 1)
	go func() { st, _ := s.Run(ctx); done <- st }()
	expect(t, ch, EventStarted)
	expectNone(t, ch, "Hold before Run")
	if s.Held() {
		t.Error("Held() = true")
	}
	cancel()
	<-done
}

func TestEventKind_String_held(t *testing.T) {
	if got := EventHeld.String(); got != "held" {
		t.Errorf("EventHeld.String() = %q, want %q", got, "held")
	}
}
