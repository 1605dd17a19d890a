//go:build linux

package runner

import (
	"context"
	"errors"
	"golang.org/x/sys/unix"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests of processes that leave the group run in both containment
// modes, and not in parallel: the subreaper's attribution is exact only
// with one supervisor running in the process (see reaper_linux.go).

type containment struct {
	name     string
	noCgroup bool
}

// containments returns the modes to test: the subreaper always, cgroups
// where this process may create them.
func containments(t *testing.T) []containment {
	t.Helper()
	modes := []containment{{"subreaper", true}}
	if cg, err := newCgroup(); err != nil {
		t.Logf("cgroup mode not tested: %v", err)
	} else {
		cg.remove()
		modes = append(modes, containment{"cgroup", false})
	}
	return modes
}

func forEachContainment(t *testing.T, f func(t *testing.T, noCgroup bool)) {
	for _, m := range containments(t) {
		t.Run(m.name, func(t *testing.T) { f(t, m.noCgroup) })
	}
}

// waitReaped waits until pid does not exist at all: not running, and not a
// zombie either (someone reaped it).
func waitReaped(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still there (zombie: %v)", pid, isZombie(pid))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readPIDs waits until path holds n pids, one a line.
func readPIDs(t *testing.T, path string, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if lines := strings.Fields(string(data)); len(lines) >= n {
			pids := make([]int, len(lines))
			for i, l := range lines {
				pid, err := strconv.Atoi(l)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				pids[i] = pid
				killInCleanup(t, pid)
			}
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d pids, want %d", path, len(strings.Fields(string(data))), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A child that called setsid is stopped with the group when ctx ends.
func TestSupervisor_Run_escapedChildStoppedOnCancel(t *testing.T) {
	forEachContainment(t, func(t *testing.T, noCgroup bool) {
		pidfile := filepath.Join(t.TempDir(), "pid")
		o := helperOptions(t, "grandchild", pidfile, "stay", "setsid")
		hook, ready := lineSignal("ready")
		o.OnLine = hook
		var ev events
		o.OnEvent = ev.add
		s := mustNew(t, o)
		s.noCgroup = noCgroup
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan Status, 1)
		go func() { st, _ := s.Run(ctx); done <- st }()
		await(t, ready, "ready line")
		gc := readPID(t, pidfile)
		killInCleanup(t, gc)
		leader := ev.kind(EventStarted)[0].PID
		cancel()
		if st := <-done; st.Signal != syscall.SIGTERM {
			t.Errorf("status = %+v, want killed by SIGTERM", st)
		}
		waitReaped(t, leader)
		waitReaped(t, gc)
	})
}

// A leader that exits by itself under PolicyNever leaves a setsid child:
// it is stopped before Run returns.
func TestSupervisor_Run_escapedChildStoppedAfterExit(t *testing.T) {
	forEachContainment(t, func(t *testing.T, noCgroup bool) {
		pidfile := filepath.Join(t.TempDir(), "pid")
		o := helperOptions(t, "grandchild", pidfile, "exit", "setsid")
		var ev events
		o.OnEvent = ev.add
		s := mustNew(t, o)
		s.noCgroup = noCgroup
		st := run(t, s)
		gc := readPID(t, pidfile)
		killInCleanup(t, gc)
		if st.Runs != 1 || st.ExitCode() != 0 {
			t.Errorf("status = %+v, want one run, exit 0", st)
		}
		waitReaped(t, gc)
		if got := len(ev.kind(EventStopping)); got != 1 {
			t.Errorf("stopping events = %d, want 1 (for the escaped child)", got)
		}
	})
}

// A self-daemonising program restarted by PolicyAlways: each run's daemon
// is stopped before the next run, and none is left when Run returns.
func TestSupervisor_Run_daemonsStopped(t *testing.T) {
	forEachContainment(t, func(t *testing.T, noCgroup bool) {
		pidfile := filepath.Join(t.TempDir(), "pids")
		o := helperOptions(t, "daemon", pidfile)
		o.Policy = PolicyAlways
		o.MaxRestarts = 3
		s := mustNew(t, o)
		s.noCgroup = noCgroup
		st := run(t, s)
		if st.Runs != 4 || st.ExitCode() != 0 {
			t.Errorf("status = %+v, want 4 runs, exit 0", st)
		}
		for _, pid := range readPIDs(t, pidfile, 4) {
			waitReaped(t, pid)
		}
	})
}

// An escaped child that ignores the stop signal is killed after the grace
// period, like the group.
func TestSupervisor_Run_stubbornEscapeKilled(t *testing.T) {
	forEachContainment(t, func(t *testing.T, noCgroup bool) {
		pidfile := filepath.Join(t.TempDir(), "pid")
		o := helperOptions(t, "stubbornescape", pidfile)
		o.StopTimeout = 200 * time.Millisecond
		hook, ready := lineSignal("ready") // the child's, on the shared stdout
		o.OnLine = hook
		s := mustNew(t, o)
		s.noCgroup = noCgroup
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan Status, 1)
		go func() { st, _ := s.Run(ctx); done <- st }()
		await(t, ready, "ready line")
		child := readPID(t, pidfile)
		killInCleanup(t, child)
		cancel()
		<-done
		waitReaped(t, child)
	})
}

// Signal reaches the group and, for job control, the escaped child; with
// no run it does nothing.
func TestSupervisor_Signal(t *testing.T) {
	forEachContainment(t, func(t *testing.T, noCgroup bool) {
		pidfile := filepath.Join(t.TempDir(), "pid")
		o := helperOptions(t, "grandchild", pidfile, "stay", "setsid")
		hook, ready := lineSignal("ready")
		o.OnLine = hook
		var ev events
		o.OnEvent = ev.add
		s := mustNew(t, o)
		s.noCgroup = noCgroup
		if err := s.Signal(syscall.SIGSTOP); err != nil {
			t.Errorf("Signal before Run = %v, want nil", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan Status, 1)
		go func() { st, _ := s.Run(ctx); done <- st }()
		await(t, ready, "ready line")
		gc := readPID(t, pidfile)
		killInCleanup(t, gc)
		leader := ev.kind(EventStarted)[0].PID

		if err := s.Signal(syscall.SIGSTOP); err != nil {
			t.Fatalf("Signal(SIGSTOP) = %v", err)
		}
		waitState(t, leader, true)
		waitState(t, gc, true)
		if err := s.Signal(syscall.SIGCONT); err != nil {
			t.Fatalf("Signal(SIGCONT) = %v", err)
		}
		waitState(t, leader, false)
		waitState(t, gc, false)

		cancel()
		<-done
		waitReaped(t, gc)
		if err := s.Signal(syscall.SIGSTOP); err != nil {
			t.Errorf("Signal after Run = %v, want nil", err)
		}
	})
}

// waitState waits until pid is stopped (state T) or not.
func waitState(t *testing.T, pid int, stopped bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, statBuf)
	for {
		st, ok := readStat(pid, buf)
		if !ok {
			t.Fatalf("process %d is gone", pid)
		}
		if (st.state == 'T') == stopped {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d: state %c, want stopped = %v", pid, st.state, stopped)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The reaper reaps orphans that no run owns, and never the children other
// code in the process started and waits for, even those in a session of
// their own.
func TestReaper_ownChildrenKeepTheirStatus(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	reap.init() // the reaper learns whether os uses pidfds
	// An orphan of no run: a daemon started here directly.
	pidfile := filepath.Join(t.TempDir(), "pids")
	d := exec.Command(exe, pidfile)
	d.Env = append(os.Environ(), helperEnv+"=daemon")
	if err := d.Run(); err != nil {
		t.Fatalf("daemon: %v", err)
	}
	orphan := readPIDs(t, pidfile, 1)[0]
	buf := make([]byte, statBuf)
	if st, ok := readStat(orphan, buf); !ok || st.ppid != os.Getpid() {
		t.Fatalf("orphan %d: stat %+v, want our child (subreaper)", orphan, st)
	}

	// Children that exited and wait for their owner's Wait while the
	// reaper looks (on SIGCHLD, and scanning) keep their exit status;
	// where os uses pidfds, also those in a session of their own.
	reap.mu.Lock()
	pidfds := reap.pidfd > 0
	reap.mu.Unlock()
	t.Logf("pidfd tracking: %v", pidfds)
	for _, setsid := range []bool{false, pidfds} {
		cmd := exec.Command(exe, "3")
		cmd.Env = append(os.Environ(), helperEnv+"=exit")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: setsid}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); !isZombie(cmd.Process.Pid); {
			if time.Now().After(deadline) {
				t.Fatal("the child did not exit")
			}
			time.Sleep(5 * time.Millisecond)
		}
		reap.reapZombies()
		reap.mu.Lock()
		reap.reapChildren()
		reap.mu.Unlock()
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Errorf("setsid %v: Wait = %v, want exit status 3", setsid, err)
		}
	}
	syscall.Kill(orphan, syscall.SIGKILL)
	waitReaped(t, orphan)
}

func TestSupervisor_Run_containmentLogged(t *testing.T) {
	var log syncBuffer
	o := helperOptions(t, "exit", "0")
	o.Logger = textLogger(&log)
	o.Policy = PolicyAlways
	o.MaxRestarts = 2
	run(t, mustNew(t, o))
	if got := strings.Count(log.String(), "msg=containment"); got != 1 {
		t.Errorf("containment lines = %d, want 1:\n%s", got, log.String())
	}
	want := "mode=subreaper"
	if cg, err := newCgroup(); err == nil {
		cg.remove()
		want = "mode=cgroup path=" + filepath.Dir(cg.dir)
	}
	if !strings.Contains(log.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, log.String())
	}
}

// In cgroup mode every run's cgroup is removed when the run is over.
func TestSupervisor_Run_cgroupRemoved(t *testing.T) {
	cg, err := newCgroup()
	if err != nil {
		t.Skipf("no cgroups here: %v", err)
	}
	cg.remove()
	base := filepath.Dir(cg.dir)
	pidfile := filepath.Join(t.TempDir(), "pids")
	o := helperOptions(t, "daemon", pidfile)
	o.Policy = PolicyAlways
	o.MaxRestarts = 1
	run(t, mustNew(t, o))
	left, _ := filepath.Glob(filepath.Join(base, "fnrun-"+strconv.Itoa(os.Getpid())+"-*"))
	if len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
}

func TestParseStat(t *testing.T) {
	line := "4242 (a) b (c) S 1 4242 4000 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 12345 67 18446744073709551615\n"
	st, ok := parseStat(4242, []byte(line))
	want := procStat{pid: 4242, ppid: 1, pgid: 4242, sid: 4000, start: 987654, state: 'S'}
	if !ok || st != want {
		t.Errorf("parseStat = %+v, %v; want %+v", st, ok, want)
	}
	if _, ok := parseStat(1, []byte("1 (x) S 0 1")); ok {
		t.Error("parseStat accepted a short line")
	}
}

// The empty cgroups of an fnrun that was killed are removed by the next.
func TestSweepCgroups(t *testing.T) {
	cg, err := newCgroup()
	if err != nil {
		t.Skipf("no cgroups here: %v", err)
	}
	cg.remove()
	base := filepath.Dir(cg.dir)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no true command")
	}
	stale := filepath.Join(base, "fnrun-"+strconv.Itoa(dead.Process.Pid)+"-1")
	live := filepath.Join(base, "fnrun-"+strconv.Itoa(os.Getppid())+"-999999")
	for _, d := range []string{stale, live} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Rmdir(d) })
	}
	sweepCgroups(base)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: %v, want removed", stale, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("%s: %v, want kept (its fnrun runs)", live, err)
	}
}

func TestReaper_owned(t *testing.T) {
	r := &reaper{self: 100, selfSid: 50, selfPgid: 60, leaders: map[int]bool{200: true}}
	pidfds := map[int]bool{300: true}
	for _, c := range []struct {
		p           procStat
		withPidfd   bool // os tracks its children with pidfds
		owned, desc string
	}{
		{procStat{pid: 200, pgid: 200, sid: 200}, true, "yes", "a leader, even after setsid"},
		{procStat{pid: 300, pgid: 300, sid: 300}, true, "yes", "a pidfd: started here, even in its own session"},
		{procStat{pid: 400, pgid: 400, sid: 50}, true, "no", "no pidfd: adopted"},
		{procStat{pid: 400, pgid: 400, sid: 50}, false, "yes", "without pidfds: own group in our session, like go"},
		{procStat{pid: 401, pgid: 60, sid: 50}, false, "yes", "without pidfds: our group, like git"},
		{procStat{pid: 402, pgid: 402, sid: 402}, false, "yes", "without pidfds: a session leader, like go and git under toolcmd"},
		{procStat{pid: 404, pgid: 404, sid: 7}, false, "no", "without pidfds: in another's session"},
		{procStat{pid: 403, pgid: 200, sid: 50}, false, "no", "without pidfds: a run's group member"},
	} {
		r.pidfd = -1
		if c.withPidfd {
			r.pidfd = 1
		}
		if got := r.owned(c.p, pidfds); got != (c.owned == "yes") {
			t.Errorf("%s: owned(%+v) = %v", c.desc, c.p, got)
		}
	}
}

func TestReadChildren(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep command")
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	kids, ok := readChildren(make([]byte, statBuf))
	if !ok {
		t.Skip("no /proc/self/task/*/children (CONFIG_PROC_CHILDREN) on this kernel")
	}
	for _, k := range kids {
		if k.pid == cmd.Process.Pid {
			return
		}
	}
	t.Errorf("children %+v lack %d", kids, cmd.Process.Pid)
}

// Only a delegated cgroup is used: the root of a cgroup namespace, one
// marked by systemd (Delegate=yes sets a delegate xattr), or our own.
func TestDelegated(t *testing.T) {
	dir := t.TempDir()
	if !delegated(dir, "/") {
		t.Error("the namespace root is not delegated")
	}
	if os.Getuid() == 0 && delegated(dir, "/system.slice/x.service") {
		t.Error("a root-owned cgroup without a delegate xattr counts as delegated")
	}
	if err := unix.Setxattr(dir, "user.delegate", []byte("1"), 0); err != nil {
		t.Skipf("cannot set an xattr here: %v", err)
	}
	if !delegated(dir, "/system.slice/x.service") {
		t.Error("a cgroup with user.delegate is not delegated")
	}
}

// The reaper's probe agrees with what os does: where it says os uses
// pidfds, a child just started by os/exec has one in /proc/self/fdinfo, and
// where it says not, none.
func TestOSUsesPidfds(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	held := pidfdPids(make([]byte, statBuf))[cmd.Process.Pid]
	if got := osUsesPidfds(); got != held {
		t.Fatalf("osUsesPidfds() = %v, but os holds a pidfd for its child: %v", got, held)
	}
	t.Logf("os uses pidfds: %v", held)
}
