package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	o.MaxRestarts = 9 // BackoffInitial 0: quick failures, thinned after quietAfter
	var log syncBuffer
	o.Logger = textLogger(&log)
	run(t, mustNew(t, o))
	// Every failure is accounted for, in full or in a summary line.
	if a := account(t, log.String()); a.full < quietAfter || a.full+a.summarised != 10 {
		t.Errorf("log accounts for %d+%d exits, want 10, the first %d in full:\n%s", a.full, a.summarised, quietAfter, log.String())
	}
}

func TestSupervisor_Run_quickFailuresDoNotFloodLog(t *testing.T) {
	t.Parallel()
	falsePath, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false command")
	}
	const runs = 1000
	var log syncBuffer
	var ev events
	s := mustNew(t, Options{
		Path: falsePath, Policy: PolicyAlways, MaxRestarts: runs - 1, // BackoffInitial 0
		Logger: textLogger(&log), OnEvent: ev.add,
	})
	st := run(t, s)
	if st.Runs != runs || st.Code == 0 {
		t.Fatalf("status = %+v, want %d failed runs", st, runs)
	}
	if got := len(ev.kind(EventExited)); got != runs {
		t.Errorf("OnEvent saw %d exits, want %d", got, runs)
	}
	a := account(t, log.String())
	if a.lines > 50 {
		t.Errorf("logger got %d lines for %d quick failures, want far fewer:\n%s", a.lines, runs, log.String())
	}
	if a.full+a.summarised != runs {
		t.Errorf("log accounts for %d+%d failures, want %d:\n%s", a.full, a.summarised, runs, log.String())
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	last := lines[len(lines)-1]
	if want := "runs=1000 code=" + strconv.Itoa(st.Code); !strings.Contains(last, `level=ERROR msg="gave up"`) || !strings.HasSuffix(last, want) {
		t.Errorf("last log line = %q, want the gave up line with %q", last, want)
	}
}

func TestSupervisor_Run_lastSummaryFlushed(t *testing.T) {
	t.Parallel()
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true command")
	}
	const runs = 50
	var log syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := mustNew(t, Options{
		Path: truePath, Policy: PolicyAlways, Logger: textLogger(&log),
		OnEvent: func(e Event) {
			if e.Kind == EventRestarting && e.Run == runs+1 {
				cancel() // Run returns before the next start, with no further event
			}
		},
	})
	st, err := s.Run(ctx)
	if err != nil || st.Runs != runs {
		t.Fatalf("Run = %+v, %v; want %d runs", st, err, runs)
	}
	if a := account(t, log.String()); a.full+a.summarised != runs {
		t.Errorf("log accounts for %d+%d clean exits, want %d:\n%s", a.full, a.summarised, runs, log.String())
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
