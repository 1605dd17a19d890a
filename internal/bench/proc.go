package main

/*
Processes. Every process the bench starts runs in its own process group
(Setpgid), so that stopping it takes its children too, and a terminal's
Ctrl-C reaches only the bench, which then cleans up. One goroutine per
process owns cmd.Wait and closes done; everything else selects on done.

fnrun runs the supervised program in a process group of its own, so killing
fnrun's group does not reach the program. The bench therefore makes itself a
child subreaper (Linux): a program orphaned by a killed fnrun is re-parented
to the bench, and killAll finds it there and kills its group.
*/

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// stopGrace is how long a process gets to exit after SIGINT before SIGKILL.
const stopGrace = 10 * time.Second

// proc is one started process. done is closed once Wait has returned; err
// and state are set before that and read only after.
type proc struct {
	name    string
	cmd     *exec.Cmd
	errLog  string // file holding its stderr
	done    chan struct{}
	err     error
	elapsed time.Duration // from Start to the end of Wait
}

// cmdError is a subprocess that failed: the command, where it ran and the
// tail of what it wrote to stderr.
type cmdError struct {
	Cmd    string
	Dir    string
	Err    error
	Stderr string
}

func (e *cmdError) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Cmd, e.Err)
	if e.Dir != "" {
		msg = fmt.Sprintf("%s (in %s): %v", e.Cmd, e.Dir, e.Err)
	}
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += "\n\t" + strings.ReplaceAll(s, "\n", "\n\t")
	}
	return msg
}

func (e *cmdError) Unwrap() error { return e.Err }

// command builds an exec.Cmd with the bench environment; stdout and stdin
// default to /dev/null (exec's nil).
func (b *bench) command(dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	return cmd
}

// start starts cmd in a new process group with stderr going to a log file
// (unless cmd.Stderr is set) and registers it for cleanup.
func (b *bench) start(name string, cmd *exec.Cmd) (*proc, error) {
	b.mu.Lock()
	b.seq++
	seq := b.seq
	b.mu.Unlock()
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	if cmd.Stderr == nil {
		if err := os.MkdirAll(filepath.Join(b.work, "logs"), 0o755); err != nil {
			return nil, err
		}
		p.errLog = filepath.Join(b.work, "logs", fmt.Sprintf("%03d-%s.stderr", seq, name))
		f, err := os.Create(p.errLog)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child has its own copy
		cmd.Stderr = f
	}
	setProcessGroup(cmd)
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, &cmdError{Cmd: cmdLine(cmd), Dir: cmd.Dir, Err: err}
	}
	b.mu.Lock()
	b.procs = append(b.procs, p)
	b.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		p.elapsed = time.Since(t0)
		close(p.done)
	}()
	return p, nil
}

// runTimed runs cmd to completion and returns its wall time from Start to
// exit; a non-zero exit is an error carrying its stderr.
func (b *bench) runTimed(ctx context.Context, name string, cmd *exec.Cmd, timeout time.Duration) (time.Duration, error) {
	p, err := b.start(name, cmd)
	if err != nil {
		return 0, err
	}
	if err := p.wait(ctx, timeout); err != nil {
		return 0, err
	}
	if p.err != nil {
		return 0, p.failure(p.err)
	}
	return p.elapsed, nil
}

// wait waits for p to exit; on timeout or cancellation it kills p's group.
func (p *proc) wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
		p.kill()
		return p.failure(fmt.Errorf("still running after %s", timeout))
	case <-ctx.Done():
		p.kill()
		return ctx.Err()
	}
}

// interrupt stops p like Ctrl-C would: SIGINT to its group, then SIGKILL
// after the grace period. It returns p's exit code (-1 if killed by SIGKILL).
func (p *proc) interrupt() (int, error) {
	signalGroup(p.cmd, syscall.SIGINT)
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-p.done:
		return p.exitCode(), nil
	case <-t.C:
		p.kill()
		return -1, p.failure(fmt.Errorf("did not exit within %s of SIGINT", stopGrace))
	}
}

// kill SIGKILLs p's group and waits for p; it does nothing once p has
// been waited for (its process group id may have been reused since).
func (p *proc) kill() {
	if !p.running() {
		return
	}
	signalGroup(p.cmd, syscall.SIGKILL)
	<-p.done
}

// running reports whether p has not exited yet.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) exitCode() int {
	if p.cmd.ProcessState == nil {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// failure wraps err with p's command line and the tail of its stderr.
func (p *proc) failure(err error) error {
	return &cmdError{Cmd: cmdLine(p.cmd), Dir: p.cmd.Dir, Err: err, Stderr: tailFile(p.errLog, 2048)}
}

// killAll kills every registered process still running, then any orphan
// re-parented to the bench.
func (b *bench) killAll() {
	b.mu.Lock()
	procs := b.procs
	b.procs = nil
	b.mu.Unlock()
	for _, p := range procs {
		p.kill()
	}
	killOrphans()
}

// tailFile returns the last n bytes of the named file ("" if unreadable).
func tailFile(name string, n int64) string {
	if name == "" {
		return ""
	}
	f, err := os.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		f.Seek(-n, 2)
	}
	buf := make([]byte, n)
	k, _ := f.Read(buf)
	return string(buf[:k])
}

func cmdLine(cmd *exec.Cmd) string {
	args := append([]string{filepath.Base(cmd.Path)}, cmd.Args[1:]...)
	return strings.Join(args, " ")
}
