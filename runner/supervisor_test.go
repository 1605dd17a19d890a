//go:build unix

package runner

import (
	"context"
	"errors"
	"fmt"
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

func TestSupervisor_Run_BeforeStart(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "argv0")
	orig := o.Path
	replaced := filepath.Join(t.TempDir(), "replaced")
	if err := os.Symlink(orig, replaced); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 10)
	o.OnLine = func(_ Stream, l []byte) { ready <- string(l) }
	type call struct {
		run  int
		path string
	}
	calls := make(chan call, 10)
	o.BeforeStart = func(ctx context.Context, run int, path string) (string, error) {
		calls <- call{run, path}
		if run == 2 {
			return replaced, nil // as if rebuilt elsewhere
		}
		return "", nil // keep
	}
	s := mustNew(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan Status, 1)
	go func() { st, _ := s.Run(ctx); done <- st }()
	want := []string{"ready " + filepath.Base(orig), "ready replaced", "ready replaced"}
	for i, w := range want {
		if got := <-ready; got != w {
			t.Errorf("run %d printed %q, want %q", i+1, got, w)
		}
		if i < len(want)-1 {
			s.Restart()
		}
	}
	cancel()
	if st := <-done; st.Runs != 3 {
		t.Errorf("Runs = %d, want 3", st.Runs)
	}
	close(calls)
	var got []call
	for c := range calls {
		got = append(got, c)
	}
	wantCalls := []call{{1, orig}, {2, orig}, {3, replaced}}
	if fmt.Sprint(got) != fmt.Sprint(wantCalls) {
		t.Errorf("BeforeStart calls = %v, want %v", got, wantCalls)
	}
}

func TestSupervisor_Run_BeforeStartError(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "exit", "0")
	o.Policy = PolicyAlways
	errGone := errors.New("binary deleted")
	o.BeforeStart = func(ctx context.Context, run int, path string) (string, error) {
		if run == 2 {
			return "", errGone
		}
		return path, nil
	}
	var ev events
	o.OnEvent = ev.add
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := mustNew(t, o).Run(ctx)
	var se *StartError
	if !errors.As(err, &se) || !errors.Is(err, errGone) || se.Path != o.Path {
		t.Fatalf("Run error = %v, want a *StartError for %s wrapping %v", err, o.Path, errGone)
	}
	if st.Runs != 1 || st.ExitCode() != 126 || !errors.Is(st.StartErr, errGone) {
		t.Errorf("status = %+v, want 1 run, exit 126, the hook's error", st)
	}
	if f := ev.kind(EventStartFailed); len(f) != 1 || f[0].Run != 2 || !errors.Is(f[0].Err, errGone) {
		t.Errorf("start failed events = %+v, want one for run 2", f)
	}
}

// A hook that ends because ctx is done does not make a start failure.
func TestSupervisor_Run_BeforeStartCancelled(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "exit", "0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.BeforeStart = func(ctx context.Context, run int, path string) (string, error) {
		cancel()
		<-ctx.Done()
		return "", fmt.Errorf("rebuild: %w", ctx.Err())
	}
	var ev events
	o.OnEvent = ev.add
	st, err := mustNew(t, o).Run(ctx)
	if !errors.Is(err, context.Canceled) || st.Runs != 0 || st.StartErr != nil {
		t.Errorf("Run = %+v, %v; want no run and context.Canceled", st, err)
	}
	if f := ev.kind(EventStartFailed); len(f) != 0 {
		t.Errorf("start failed events = %+v, want none", f)
	}
}

func TestSupervisor_SetStopSignal(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "sleep")
	hook, ready := lineSignal("ready")
	o.OnLine = hook
	var ev events
	o.OnEvent = ev.add
	s := mustNew(t, o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan Status, 1)
	go func() { st, _ := s.Run(ctx); done <- st }()
	await(t, ready, "ready line")
	s.SetStopSignal(syscall.SIGHUP)
	cancel()
	if st := <-done; st.Signal != syscall.SIGHUP {
		t.Errorf("status = %+v, want killed by SIGHUP", st)
	}
	if stops := ev.kind(EventStopping); len(stops) != 1 || stops[0].Signal != syscall.SIGHUP {
		t.Errorf("stopping events = %+v, want one with SIGHUP", stops)
	}
}
