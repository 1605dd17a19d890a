//go:build unix

package runner

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

/*
One run. start creates two pipes with os.Pipe (not cmd.StdoutPipe): the
write ends go to the child as its stdout and stderr and are closed here at
once, the read ends are read by one goroutine each until EOF. A third
goroutine owns cmd.Wait: it records the exit state and closes done;
everything else selects on done. Output is drained after the group is gone:
normally EOF arrives at once, but a process that left the group (setsid)
may still hold the pipe, so the read ends get a deadline of DrainTimeout
and whatever was read by then is delivered. Per run this costs two pipes,
three goroutines and no sleeps; buffers are reused across runs.

exec.CommandContext's Cancel is not used: a run is stopped not only when a
context ends but also on Restart, Replace and Kill, and a stop must signal
the whole group and wait until it is empty (stop.go), so stopping is one
explicit sequence run by the supervisor goroutine. What the run starts
outside its group is found through its contain (contain_linux.go).
*/

// proc is one started run of the program.
type proc struct {
	cmd   *exec.Cmd
	pid   int // also the process group id
	start time.Time
	esc   *contain // the run's processes outside its group

	done   chan struct{} // closed by wait when the leader is reaped
	exited time.Time     // set before done is closed
	code   int
	sig    syscall.Signal

	outR, errR       *os.File
	outDone, errDone chan struct{} // closed when each reader is finished
	idle             atomic.Int64  // set by drain: the longest wait for more output, in ns
}

// pumps holds the per-stream state reused across runs.
type pumps struct {
	out, err       *lineWriter
	outBuf, errBuf []byte
}

func newPumps(o *Options) *pumps {
	mu := new(sync.Mutex)
	return &pumps{
		out:    newLineWriter(mu, o.Stdout, StreamStdout, o),
		err:    newLineWriter(mu, o.Stderr, StreamStderr, o),
		outBuf: make([]byte, readBufSize),
		errBuf: make([]byte, readBufSize),
	}
}

// startProc starts path with the options' arguments and environment (argv[0]
// is path's base name),
// contained by c, and through the shim with the sockets of l if l is not
// nil. The caller must eventually wait for p.done, call p.drain and
// release c.
func startProc(path string, o *Options, pp *pumps, l *listenSet, c *contain) (*proc, error) {
	var socks []*os.File
	if l != nil {
		if err := checkExecutable(path, o.Dir); err != nil {
			return nil, err
		}
		var err error
		if socks, err = l.dup(); err != nil {
			return nil, err
		}
		defer closeFiles(socks) // the child has its copies once started
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	growPipe(outR)
	growPipe(errR)
	// argv[0] is the program's name, not the path exec'd: a program's
	// usage ("Usage of ticker") and its messages name it as the user knows
	// it, not by a path deep in the cache. The path stays cmd.Path (and,
	// through the shim, its first argument). A program that re-executes
	// itself should use os.Executable, not os.Args[0].
	args := make([]string, 0, 1+len(o.Args))
	args = append(append(args, filepath.Base(path)), o.Args...)
	cmd, err := c.start(func() *exec.Cmd {
		cmd := &exec.Cmd{
			Path:        path,
			Args:        args,
			Env:         o.Env,
			Dir:         o.Dir,
			Stdin:       stdinOf(o),
			Stdout:      outW,
			Stderr:      errW,
			SysProcAttr: sysProcAttr(),
		}
		if l != nil {
			l.setup(cmd, path, args, o.Env, socks)
		}
		if _, ok := o.Stdin.(*os.File); !ok && o.Stdin != nil {
			// exec copies a non-file Stdin in a goroutine that Wait joins;
			// do not let a blocked reader hold the exit up.
			cmd.WaitDelay = o.DrainTimeout
		}
		return cmd
	})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	p := &proc{
		cmd: cmd, pid: cmd.Process.Pid, start: time.Now(), esc: c,
		done: make(chan struct{}), outR: outR, errR: errR,
		outDone: make(chan struct{}), errDone: make(chan struct{}),
	}
	go p.wait()
	go pump(outR, pp.out, pp.outBuf, p.outDone, &p.idle)
	go pump(errR, pp.err, pp.errBuf, p.errDone, &p.idle)
	return p, nil
}

// devNull is /dev/null, opened once for every run without an Stdin (exec
// would open and close it on each start).
var devNull = sync.OnceValue(func() *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		return nil // exec opens it itself, and reports why it cannot
	}
	return f
})

func stdinOf(o *Options) io.Reader {
	if o.Stdin != nil {
		return o.Stdin
	}
	if f := devNull(); f != nil {
		return f
	}
	return nil
}

// wait is the only caller of cmd.Wait.
func (p *proc) wait() {
	p.cmd.Wait()
	p.esc.reaped()
	p.exited = time.Now()
	p.code = -1
	if ps := p.cmd.ProcessState; ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.sig = ws.Signal()
		} else {
			p.code = ps.ExitCode()
		}
	}
	close(p.done)
}

// pump copies one stream into its line writer until EOF or the read
// deadline set by drain.
func pump(f *os.File, w *lineWriter, buf []byte, done chan<- struct{}, idle *atomic.Int64) {
	for {
		n, err := f.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
			if d := idle.Load(); d > 0 {
				// Draining: what is still in the pipe is read to the end,
				// however slowly; only a pipe without output stops it.
				f.SetReadDeadline(time.Now().Add(time.Duration(d)))
			}
		}
		if err != nil {
			break
		}
	}
	w.Close()
	f.Close()
	close(done)
}

// drain waits until both streams reached EOF; a stream that stays without
// output for d (a descendant that escaped the group holds it open) is
// stopped, its reader delivering what it has. Output that keeps coming is
// read to the end, so a slow reader on a loaded machine loses no line of
// a program that has exited. Call it once the group is gone.
func (p *proc) drain(d time.Duration) {
	p.idle.Store(int64(d))
	deadline := time.Now().Add(d)
	p.outR.SetReadDeadline(deadline)
	p.errR.SetReadDeadline(deadline)
	<-p.outDone
	<-p.errDone
}

// failed reports whether the run ended with a non-zero code or a signal.
func (p *proc) failed() bool { return p.code != 0 || p.sig != 0 }
