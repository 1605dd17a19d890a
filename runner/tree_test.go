//go:build unix

package runner

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestSupervisor_Run_cancelStopsGroup(t *testing.T) {
	t.Parallel()
	pidfile := filepath.Join(t.TempDir(), "pid")
	o := helperOptions(t, "grandchild", pidfile, "stay")
	hook, ready := lineSignal("ready")
	o.OnLine = hook
	var ev events
	o.OnEvent = ev.add
	s := mustNew(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		st  Status
		err error
	}
	res := make(chan result, 1)
	go func() { st, err := s.Run(ctx); res <- result{st, err} }()
	await(t, ready, "ready line")
	grandchild := readPID(t, pidfile)
	killInCleanup(t, grandchild)
	leader := ev.kind(EventStarted)[0].PID
	cancel()
	r := <-res
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if r.st.Signal != syscall.SIGTERM {
		t.Errorf("status = %+v, want killed by SIGTERM", r.st)
	}
	waitGone(t, leader)
	waitGone(t, grandchild)
	if len(ev.kind(EventStopping)) == 0 {
		t.Error("no stopping event")
	}
}

func TestSupervisor_Run_ignoredTermIsKilled(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "ignoreterm")
	o.StopTimeout = 100 * time.Millisecond
	hook, ready := lineSignal("ready")
	o.OnLine = hook
	s := mustNew(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan Status, 1)
	go func() { st, _ := s.Run(ctx); done <- st }()
	await(t, ready, "ready line")
	cancel()
	if st := <-done; st.Signal != syscall.SIGKILL {
		t.Errorf("status = %+v, want killed by SIGKILL after the stop timeout", st)
	}
}

func TestSupervisor_Kill(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "ignoreterm")
	o.StopTimeout = time.Hour
	o.Policy = PolicyAlways
	hook, ready := lineSignal("ready")
	o.OnLine = hook
	s := mustNew(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan Status, 1)
	go func() { st, _ := s.Run(ctx); done <- st }()
	await(t, ready, "ready line")
	cancel() // graceful stop; the program ignores it
	s.Kill() // cuts the hour-long grace period
	if st := <-done; st.Signal != syscall.SIGKILL || st.Runs != 1 {
		t.Errorf("status = %+v, want one run killed by SIGKILL", st)
	}
}

// A crashing leader that leaves a grandchild in its group: the grandchild
// is stopped before the next run and before Run returns.
func TestSupervisor_Run_leftoverMembersStopped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := helperOptions(t, "grandchild", filepath.Join(dir, "pid"), "exit")
	o.Policy = PolicyAlways
	o.MaxRestarts = 1
	var ev events
	o.OnEvent = ev.add
	st := run(t, mustNew(t, o))
	if st.Runs != 2 {
		t.Fatalf("Runs = %d, want 2", st.Runs)
	}
	// The pid file holds the last grandchild; it must be gone.
	gc := readPID(t, filepath.Join(dir, "pid"))
	killInCleanup(t, gc)
	waitGone(t, gc)
	if got := len(ev.kind(EventStopping)); got != 2 {
		t.Errorf("stopping events = %d, want 2 (one per leftover group)", got)
	}
}

// A grandchild that left the group (setsid) keeps stdout open and cannot be
// stopped with the group: restarts and Run's return are delayed by at most
// the drain timeout.
func TestSupervisor_Run_escapedGrandchildDoesNotBlock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "pid")
	o := helperOptions(t, "grandchild", pidfile, "exit", "setsid")
	o.Policy = PolicyAlways
	o.MaxRestarts = 1
	o.DrainTimeout = 100 * time.Millisecond
	var ev events
	o.OnEvent = ev.add
	var lines syncBuffer
	o.Stdout = &lines
	var pids []int
	o.OnLine = func(_ Stream, l []byte) {
		if string(l) == "ready" {
			// Runs are sequential: this run's grandchild has published its pid.
			pids = append(pids, readPID(t, pidfile))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := mustNew(t, o).Run(ctx)
	for _, pid := range pids {
		killInCleanup(t, pid)
	}
	if err != nil || ctx.Err() != nil {
		t.Fatalf("Run = %v, ctx %v: blocked by the escaped grandchild", err, ctx.Err())
	}
	if st.Runs != 2 || len(pids) != 2 {
		t.Errorf("Runs = %d, ready lines = %d, want 2 each", st.Runs, len(pids))
	}
}
