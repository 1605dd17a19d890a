package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/system"
	"github.com/fnrun/fnrun/runner"
)

/*
-d/--detach. The foreground fnrun (the parent) starts a copy of itself with
the same arguments in a new session, stdin from /dev/null and its stdout
and stderr going to a file in the log directory, and a pipe on fd 3
(detachFDEnv names it). The copy (the child) runs as usual, with log files
on and the programs' prefixed output dropped (their lines are in their log
files), renames that file to LOGDIR/INSTANCE/fnrun.log once its instance
has a name, and writes one JSON line on the pipe: when every function has
started (or passed its readiness check, if it has one), or why not. The
parent prints the instance's name and how to follow and stop it, and exits
0, or 1 with the reason. The child's environment loses detachFDEnv before
anything else runs, so the programs never see it.
*/

const detachFDEnv = "FNRUN_DETACH_FD"

func detachFlag() cli.Flag {
	return &cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, DisableDefaultText: true, Category: catCommon,
		Usage: "run in the background, output going to log files, and print how to follow it (fnrun logs -f) and stop it (fnrun down)"}
}

// detachReport is the child's one line on the pipe.
type detachReport struct {
	Instance string `json:"instance"`
	PID      int    `json:"pid"`
	OK       bool   `json:"ok"`
	Why      string `json:"why,omitempty"`
}

// detachChild is the child's side: set when fnrun runs detached.
type detachChild struct {
	pipe    *os.File
	logFile string // the file the parent opened for our stdout and stderr

	mu       sync.Mutex
	instance string
	sent     bool
}

// takeDetach reads (and removes) detachFDEnv: non-nil when this fnrun is a
// detached child.
func takeDetach() *detachChild {
	v, ok := os.LookupEnv(detachFDEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(detachFDEnv)
	fd, path, _ := strings.Cut(v, ":")
	n, err := strconv.Atoi(fd)
	if err != nil || n < 3 {
		return nil
	}
	return &detachChild{pipe: os.NewFile(uintptr(n), "detach"), logFile: path}
}

// named moves fnrun's own log to the instance's log directory.
func (d *detachChild) named(instance, dir string) {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.instance = instance
	d.mu.Unlock()
	if d.logFile == "" || dir == "" {
		return
	}
	if os.MkdirAll(dir, 0o700) == nil {
		dst := filepath.Join(dir, "fnrun.log")
		os.Rename(dst, dst+".1")
		os.Rename(d.logFile, dst)
	}
}

// check reports to the parent once every function is up, or one failed.
func (d *detachChild) check(sts []fn.Status, names []string) {
	if d == nil || len(sts) == 0 {
		return
	}
	up := true
	for i, st := range sts {
		switch {
		case st.State == fn.StateFailed || st.Ended && st.State != fn.StateExited:
			d.send(false, fmt.Sprintf("%s failed (%s)", names[i], st.LastExit))
			return
		case st.State == fn.StateReady, st.State == fn.StateRunning && !st.Checks, st.Ended:
		default:
			up = false
		}
	}
	if up {
		d.send(true, "")
	}
}

// checkSystem is check over every function of sys (nil: not made yet).
func (d *detachChild) checkSystem(sys *system.System) {
	if d == nil || sys == nil {
		return
	}
	var sts []fn.Status
	var names []string
	for _, s := range sys.Status() {
		sts, names = append(sts, s.Status), append(names, s.Name)
	}
	d.check(sts, names)
}

// discard drops the programs' prefixed output of a detached fnrun: their
// lines are in their log files.
func (d *detachChild) discard(o *runner.Options) {
	if d != nil {
		o.Stdout, o.Stderr = io.Discard, io.Discard
	}
}

// fail reports why the child ends before everything was up.
func (d *detachChild) fail(err error) {
	if d == nil {
		return
	}
	why := "it ended"
	if err != nil {
		why = err.Error()
	}
	d.send(false, why)
}

func (d *detachChild) send(ok bool, why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sent {
		return
	}
	d.sent = true
	line, _ := json.Marshal(detachReport{Instance: d.instance, PID: os.Getpid(), OK: ok, Why: why})
	d.pipe.Write(append(line, '\n'))
	d.pipe.Close()
}

// checkDetach refuses what cannot go with -d.
func (env *appEnv) checkDetach(c *cli.Context) error {
	if !c.Bool("detach") || env.detached != nil {
		return nil
	}
	for _, f := range []string{"smoke", "report", "watch"} {
		if hasFlag(c, f) && c.IsSet(f) {
			return usageError("--detach cannot be combined with --%s", f)
		}
	}
	if c.Bool("no-log-files") {
		return usageError("--detach needs log files: its output goes nowhere else")
	}
	return nil
}

// detach starts this command again in the background and reports.
func (env *appEnv) detach(c *cli.Context, what string) error {
	root, err := logRoot(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return withCode(ExitFnrun, err)
	}
	logf, err := os.CreateTemp(root, ".fnrun-detached-*.log")
	if err != nil {
		return withCode(ExitFnrun, err)
	}
	defer logf.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return withCode(ExitFnrun, err)
	}
	defer r.Close()
	exe, err := os.Executable()
	if err != nil {
		w.Close()
		return withCode(ExitFnrun, err)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		w.Close()
		return withCode(ExitFnrun, err)
	}
	defer null.Close()
	cmd := &exec.Cmd{Path: exe, Args: os.Args, Stdin: null, Stdout: logf, Stderr: logf,
		ExtraFiles:  []*os.File{w},
		Env:         append(os.Environ(), detachFDEnv+"=3:"+logf.Name()),
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	err = cmd.Start()
	w.Close()
	if err != nil {
		os.Remove(logf.Name())
		return withCode(ExitFnrun, err)
	}
	go cmd.Wait() // reaped if it ends while we wait; it outlives us otherwise
	type read struct {
		line []byte
		err  error
	}
	got := make(chan read, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadBytes('\n')
		got <- read{line, err}
	}()
	wait := fn.DefaultReadyTimeout
	if hasFlag(c, "ready-timeout") {
		wait = c.Duration("ready-timeout")
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var rd read
	select {
	case rd = <-got:
	case <-timer.C:
		return withCode(ExitSmokeFail, fmt.Errorf("%s is not up after %s (--ready-timeout); it keeps running in the background: fnrun ps, fnrun logs, fnrun down", what, wait))
	case <-c.Context.Done():
		fmt.Fprintf(env.stderr, "fnrun: %s goes on starting in the background: fnrun ps, fnrun down\n", what)
		return context.Cause(c.Context)
	}
	line, err := rd.line, rd.err
	var rep detachReport
	if err != nil || json.Unmarshal(line, &rep) != nil {
		// It ended before saying anything: its log says why.
		tail := lastLines(logf.Name(), 10)
		os.Remove(logf.Name())
		return withDetail(ExitSmokeFail, fmt.Errorf("fnrun exited before %s was up", what), tail)
	}
	if !rep.OK {
		hint := ""
		if rep.Instance != "" {
			hint = fmt.Sprintf("; it keeps running: fnrun ps, fnrun logs %s/NAME, fnrun down %s", rep.Instance, rep.Instance)
		}
		return withCode(ExitSmokeFail, fmt.Errorf("%s is not up: %s%s", what, rep.Why, hint))
	}
	fmt.Fprintf(env.stdout, "instance %s is up in the background (pid %d)\n", rep.Instance, rep.PID)
	fmt.Fprintf(env.stdout, "  fnrun ps                      see its functions\n")
	fmt.Fprintf(env.stdout, "  fnrun logs -f %-15s follow its output\n", rep.Instance+"/NAME")
	fmt.Fprintf(env.stdout, "  fnrun down %-18s stop it\n", rep.Instance)
	return nil
}

// lastLines returns the last n lines of a file ("" when unreadable).
func lastLines(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
