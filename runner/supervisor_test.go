package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSupervisor_Restart(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "sleep")
	hook, ready := lineSignal("ready")
	o.OnLine = hook
	var ev events
	o.OnEvent = ev.add
	s := mustNew(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan Status, 1)
	go func() { st, _ := s.Run(ctx); done <- st }()
	await(t, ready, "first run")
	s.Restart() // policy never: a manual restart runs it again anyway
	await(t, ready, "second run")
	cancel()
	st := <-done
	if st.Runs != 2 {
		t.Errorf("Runs = %d, want 2", st.Runs)
	}
	exited := ev.kind(EventExited)
	if len(exited) != 2 || exited[0].Signal != syscall.SIGTERM {
		t.Errorf("exits = %+v, want 2, the first by SIGTERM", exited)
	}
}

func TestSupervisor_Restart_cutsBackoff(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "exit", "1")
	o.Policy = PolicyOnFailure
	o.MaxRestarts = 1
	o.BackoffInitial = time.Hour
	var s *Supervisor
	o.OnEvent = func(e Event) {
		if e.Kind == EventRestarting && e.Delay > 0 {
			s.Restart() // called from Run's goroutine, before the wait
		}
	}
	s = mustNew(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := s.Run(ctx)
	if err != nil || ctx.Err() != nil {
		t.Fatalf("Run = %v, ctx %v: the backoff was not cut", err, ctx.Err())
	}
	if st.Runs != 2 {
		t.Errorf("Runs = %d, want 2", st.Runs)
	}
}

func TestSupervisor_Replace(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "argv0")
	replaced := filepath.Join(t.TempDir(), "replaced")
	if err := os.Symlink(o.Path, replaced); err != nil {
		t.Fatal(err)
	}
	first, second := make(chan struct{}, 1), make(chan struct{}, 1)
	o.OnLine = func(_ Stream, l []byte) {
		switch string(l) {
		case "ready " + filepath.Base(o.Path):
			first <- struct{}{}
		case "ready replaced":
			second <- struct{}{}
		}
	}
	s := mustNew(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan Status, 1)
	go func() { st, _ := s.Run(ctx); done <- st }()
	await(t, first, "original binary")
	s.Replace(replaced)
	await(t, second, "replacement binary")
	cancel()
	if st := <-done; st.Runs != 2 {
		t.Errorf("Runs = %d, want 2", st.Runs)
	}
}

func TestSupervisor_Run_cleanExitsDoNotFloodLog(t *testing.T) {
	t.Parallel()
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true command")
	}
	const runs = 1000
	var log syncBuffer
	var ev events
	s := mustNew(t, Options{
		Path: truePath, Policy: PolicyAlways, MaxRestarts: runs - 1,
		Logger: textLogger(&log), OnEvent: ev.add,
	})
	st := run(t, s)
	if st.Runs != runs {
		t.Fatalf("Runs = %d, want %d", st.Runs, runs)
	}
	if got := len(ev.kind(EventExited)); got != runs {
		t.Errorf("OnEvent saw %d exits, want %d", got, runs)
	}
	lines := strings.Count(log.String(), "\n")
	t.Logf("log:\n%s", log.String())
	if lines > 50 {
		t.Errorf("logger got %d lines for %d clean runs, want far fewer:\n%s", lines, runs, log.String())
	}
	if !strings.Contains(log.String(), "gave up") {
		t.Errorf("log lacks the gave up line:\n%s", log.String())
	}
}

func TestSupervisor_Run_failuresAlwaysLogged(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "exit", "4")
	o.Policy = PolicyAlways
	o.MaxRestarts = 9
	var log syncBuffer
	o.Logger = textLogger(&log)
	run(t, mustNew(t, o))
	if got := strings.Count(log.String(), "msg=exited"); got != 10 {
		t.Errorf("logged %d exits, want 10:\n%s", got, log.String())
	}
}

func TestSupervisor_Run_canceledBeforeStart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st, err := mustNew(t, helperOptions(t, "exit", "0")).Run(ctx)
	if err == nil || st.Runs != 0 {
		t.Errorf("Run = %+v, %v; want no run and ctx's error", st, err)
	}
}

func TestSupervisor_Kill_duringBackoff(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "exit", "1")
	o.Policy = PolicyAlways
	o.BackoffInitial = time.Hour
	var s *Supervisor
	o.OnEvent = func(e Event) {
		if e.Kind == EventRestarting {
			s.Kill()
		}
	}
	s = mustNew(t, o)
	st := run(t, s) // fails after 30s if the wait is not cut
	if st.Runs != 1 || st.ExitCode() != 1 {
		t.Errorf("status = %+v, want one run, exit 1", st)
	}
}
