//go:build unix

package runner

import (
	"path/filepath"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		n            int
		initial, max time.Duration
		r            float64
		want         time.Duration
	}{
		{0, 100 * ms, time.Second, 0.5, 0},
		{1, 0, time.Second, 0.5, 0},
		{1, 100 * ms, time.Second, 0.5, 100 * ms},
		{2, 100 * ms, time.Second, 0.5, 200 * ms},
		{3, 100 * ms, time.Second, 0.5, 400 * ms},
		{5, 100 * ms, time.Second, 0.5, time.Second},
		{1000, 100 * ms, time.Second, 0.5, time.Second},      // no overflow
		{1, 100 * ms, time.Second, 0, 80 * ms},               // -20%
		{3, 100 * ms, time.Second, 0.999999999, 480 * ms},    // +20% below the cap
		{5, 100 * ms, time.Second, 0.999999999, time.Second}, // the cap holds after jitter
		{5, 100 * ms, time.Second, 0, 800 * ms},              // a capped delay can be 20% shorter
		{4, 100 * ms, 900 * ms, 0.999999999, 900 * ms},       // 800ms+20% is cut to max
		{4, 100 * ms, 900 * ms, 0.25, 720 * ms},
	}
	for _, tt := range tests {
		got := backoffDelay(tt.n, tt.initial, tt.max, tt.r)
		if d := got - tt.want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("backoffDelay(%d, %v, %v, %v) = %v, want %v", tt.n, tt.initial, tt.max, tt.r, got, tt.want)
		}
	}
}

func TestSupervisor_Run_backoff(t *testing.T) {
	t.Parallel()
	const initial, max = 20 * time.Millisecond, 80 * time.Millisecond
	o := helperOptions(t, "exit", "1")
	o.Policy = PolicyAlways
	o.MaxRestarts = 5
	o.BackoffInitial, o.BackoffMax = initial, max
	o.BackoffReset = time.Hour
	var ev events
	o.OnEvent = ev.add
	st := run(t, mustNew(t, o))
	if st.Runs != 6 || st.ExitCode() != 1 {
		t.Fatalf("status = %+v, want 6 runs, exit 1", st)
	}
	want := []time.Duration{20, 40, 80, 80, 80}
	restarting := ev.kind(EventRestarting)
	started := ev.kind(EventStarted)
	if len(restarting) != len(want) {
		t.Fatalf("restarting events = %d, want %d", len(restarting), len(want))
	}
	for i, e := range restarting {
		w := want[i] * time.Millisecond
		if e.Delay < w*8/10 || e.Delay > min(w*12/10, max) {
			t.Errorf("delay %d = %v, want %v ±20%%, at most %v", i+1, e.Delay, w, max)
		}
		// The next run starts no earlier than the delay.
		if gap := started[i+1].Time.Sub(e.Time); gap < e.Delay {
			t.Errorf("run %d started %v after restarting event, want ≥ %v", i+2, gap, e.Delay)
		}
	}
}

func TestSupervisor_Run_backoffReset(t *testing.T) {
	t.Parallel()
	// BackoffReset 1ns: every run counts as long, so every failure is the
	// first in a row and waits the initial delay.
	o := helperOptions(t, "exit", "1")
	o.Policy = PolicyOnFailure
	o.MaxRestarts = 4
	o.BackoffInitial, o.BackoffMax, o.BackoffReset = 10*time.Millisecond, time.Second, time.Nanosecond
	o.Rand = func() float64 { return 0.5 }
	var ev events
	o.OnEvent = ev.add
	run(t, mustNew(t, o))
	r := ev.kind(EventRestarting)
	if len(r) != 4 {
		t.Fatalf("restarting events = %d, want 4", len(r))
	}
	for i, e := range r {
		if e.Delay != 10*time.Millisecond {
			t.Errorf("delay %d = %v, want 10ms (backoff reset)", i+1, e.Delay)
		}
	}
}

// Runs shorter than BackoffReset keep the delay growing; a failed run that
// lasted at least BackoffReset starts the count again.
func TestSupervisor_Run_backoffResetOnlyAfterLongRun(t *testing.T) {
	t.Parallel()
	const reset = time.Second
	// Runs 1-3 and 5-6 exit at once; run 4 sleeps for BackoffReset, so its
	// uptime (measured from after exec to the reap) is at least that.
	o := helperOptions(t, "failafter", filepath.Join(t.TempDir(), "runs"), "0", "0", "0", reset.String(), "0", "0")
	o.Policy = PolicyOnFailure
	o.MaxRestarts = 5
	o.BackoffInitial, o.BackoffMax, o.BackoffReset = 10*time.Millisecond, time.Second, reset
	o.Rand = func() float64 { return 0.5 }
	var ev events
	o.OnEvent = ev.add
	st := run(t, mustNew(t, o))
	if st.Runs != 6 || st.ExitCode() != 1 {
		t.Fatalf("status = %+v, want 6 runs, exit 1", st)
	}
	exited := ev.kind(EventExited)
	if len(exited) != 6 {
		t.Fatalf("exited events = %d, want 6", len(exited))
	}
	for i, e := range exited {
		if long := e.Uptime >= reset; long != (i == 3) {
			t.Fatalf("run %d lasted %v; want only run 4 to last BackoffReset %v or longer (machine too slow?)",
				i+1, e.Uptime, reset)
		}
	}
	r := ev.kind(EventRestarting)
	want := []time.Duration{10, 20, 40, 10, 20} // run 4 resets the count
	if len(r) != len(want) {
		t.Fatalf("restarting events = %d, want %d", len(r), len(want))
	}
	for i, e := range r {
		if w := want[i] * time.Millisecond; e.Delay != w {
			t.Errorf("delay after run %d = %v, want %v", i+1, e.Delay, w)
		}
	}
	if n := len(ev.kind(EventGaveUp)); n != 1 {
		t.Errorf("gave-up events = %d, want 1", n)
	}
}

func TestSupervisor_Run_zeroBackoff(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "exit", "2")
	o.Policy = PolicyOnFailure
	o.MaxRestarts = 3
	var ev events
	o.OnEvent = ev.add
	run(t, mustNew(t, o))
	r := ev.kind(EventRestarting)
	if len(r) != 3 {
		t.Fatalf("restarting events = %d, want 3", len(r))
	}
	for i, e := range r {
		if e.Delay != 0 {
			t.Errorf("delay %d = %v, want 0", i+1, e.Delay)
		}
	}
}
