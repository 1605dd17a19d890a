//go:build unix

package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSupervisor_Run_policies(t *testing.T) {
	t.Parallel()
	programs := []struct {
		name     string
		mode     string
		args     []string
		failed   bool
		wantExit int
	}{
		{"exit0", "exit", []string{"0"}, false, 0},
		{"exit3", "exit", []string{"3"}, true, 3},
		{"sigkill", "sigkill", nil, true, 128 + int(syscall.SIGKILL)},
	}
	policies := []Policy{PolicyNever, PolicyOnFailure, PolicyAlways}
	const maxRestarts = 2
	for _, prog := range programs {
		for _, pol := range policies {
			t.Run(prog.name+"/"+string(pol), func(t *testing.T) {
				t.Parallel()
				o := helperOptions(t, prog.mode, prog.args...)
				o.Policy = pol
				o.MaxRestarts = maxRestarts
				var ev events
				o.OnEvent = ev.add
				st := run(t, mustNew(t, o))

				wantRuns := 1
				if pol.restarts(prog.failed) {
					wantRuns = 1 + maxRestarts
				}
				if st.Runs != wantRuns {
					t.Errorf("Runs = %d, want %d", st.Runs, wantRuns)
				}
				if got := len(ev.kind(EventStarted)); got != wantRuns {
					t.Errorf("started events = %d, want %d", got, wantRuns)
				}
				if got := st.ExitCode(); got != prog.wantExit {
					t.Errorf("ExitCode() = %d, want %d", got, prog.wantExit)
				}
				gaveUp := len(ev.kind(EventGaveUp))
				if want := wantRuns > 1; (gaveUp == 1) != want {
					t.Errorf("gave-up events = %d, want gave up: %v", gaveUp, want)
				}
			})
		}
	}
}

func TestSupervisor_Run_maxRestartsCountsRuns(t *testing.T) {
	t.Parallel()
	counter := filepath.Join(t.TempDir(), "count")
	o := helperOptions(t, "count", counter, "5")
	o.Policy = PolicyOnFailure
	o.MaxRestarts = 3
	st := run(t, mustNew(t, o))
	b, err := os.ReadFile(counter)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(string(b), "run\n"), 4; got != want {
		t.Errorf("program ran %d times, want %d", got, want)
	}
	if st.Runs != 4 || st.ExitCode() != 5 {
		t.Errorf("status = %+v, want 4 runs, exit code 5", st)
	}
}

func TestSupervisor_Run_startError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notExec := filepath.Join(dir, "notexec")
	if err := os.WriteFile(notExec, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing"), notExec} {
		s := mustNew(t, Options{Path: path, Policy: PolicyAlways})
		st, err := s.Run(t.Context())
		var se *StartError
		if !errors.As(err, &se) {
			t.Fatalf("Run(%s) error = %v, want *StartError", path, err)
		}
		if st.Runs != 0 || st.ExitCode() != 126 {
			t.Errorf("status = %+v (exit %d), want no runs, exit 126", st, st.ExitCode())
		}
		if se.Unwrap() == nil || !strings.Contains(se.Error(), path) {
			t.Errorf("StartError = %q, want the path and a cause", se)
		}
	}
}

func TestNew_invalidOptions(t *testing.T) {
	t.Parallel()
	tests := map[string]Options{
		"empty path":        {},
		"unknown policy":    {Path: "/bin/true", Policy: "sometimes"},
		"negative backoff":  {Path: "/bin/true", BackoffInitial: -time.Second},
		"negative max":      {Path: "/bin/true", BackoffMax: -1},
		"negative reset":    {Path: "/bin/true", BackoffReset: -1},
		"negative stop":     {Path: "/bin/true", StopTimeout: -1},
		"negative drain":    {Path: "/bin/true", DrainTimeout: -1},
		"negative restarts": {Path: "/bin/true", MaxRestarts: -1},
		"unknown format":    {Path: "/bin/true", Format: Format(9)},
	}
	for name, o := range tests {
		if _, err := New(o); err == nil {
			t.Errorf("New(%s) = nil error, want an error", name)
		}
	}
	s, err := New(Options{Path: "/bin/true"})
	if err != nil {
		t.Fatalf("New(valid) = %v", err)
	}
	if s.opts.Name != "true" || s.opts.Policy != PolicyNever || s.opts.StopSignal != syscall.SIGTERM ||
		s.opts.StopTimeout != DefaultStopTimeout || s.opts.DrainTimeout != DefaultDrainTimeout {
		t.Errorf("defaults not filled in: %+v", s.opts)
	}
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]Policy{"": PolicyNever, "never": PolicyNever, "on-failure": PolicyOnFailure, "always": PolicyAlways} {
		got, err := ParsePolicy(in)
		if err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	if _, err := ParsePolicy("Always"); err == nil {
		t.Error("ParsePolicy(Always) = nil error, want an error")
	}
}
