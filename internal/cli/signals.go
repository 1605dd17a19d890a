package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

/*
Signals while a program runs (DESIGN.md "Run semantics", README "Signals"):

	SIGINT   first: graceful stop of the group, then exit 130; second: SIGKILL the group at once
	SIGTERM  graceful stop, exit 143 (a second one also kills at once)
	SIGQUIT  (Ctrl-\) the group is stopped with SIGQUIT instead of --stop-signal, as a shell
	         job would get it (a Go program prints its goroutine stacks), SIGKILL after
	         --stop-timeout; exit 131
	SIGABRT  graceful stop, exit 134
	SIGHUP   attached to a terminal that is gone: graceful stop, exit 129;
	         otherwise (no terminal, or `kill -HUP` while the terminal lives): restart now
	SIGTSTP  (Ctrl-Z) the group is stopped (SIGSTOP), then fnrun stops itself;
	SIGCONT  (fg, bg) continues the group
	SIGPIPE  ignored: the failed write reports it (outGuard)

Every other signal whose default action ends a process is either ignored
by the Go runtime (SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU, SIGXFSZ, SIGVTALRM,
SIGIO, SIGPWR: caught and dropped, nothing is orphaned) or not catchable
(SIGKILL: the parent-death signal covers the program's leader). Main
installs the handlers before anything runs, so a signal that arrives during
fetch or build cancels that work too; here they are routed to whatever
function currently runs.
*/

// stopCause is why fnrun stopped before the program ended by itself: it
// carries fnrun's exit code and the report's reason, and, for SIGQUIT, the
// signal the program's group is stopped with.
type stopCause struct {
	code int
	msg  string
	recv string         // the signal received, for the event line
	sig  syscall.Signal // the group's stop signal; 0: --stop-signal
}

func (c *stopCause) Error() string { return c.msg }

var (
	errInterrupted = &stopCause{code: ExitInterrupt, msg: "interrupted (SIGINT)", recv: "SIGINT"}
	errTerminated  = &stopCause{code: ExitTerminate, msg: "terminated (SIGTERM)", recv: "SIGTERM"}
	errQuit        = &stopCause{code: ExitQuit, msg: "quit (SIGQUIT)", recv: "SIGQUIT", sig: syscall.SIGQUIT}
	errAborted     = &stopCause{code: ExitAbort, msg: "aborted (SIGABRT)", recv: "SIGABRT"}
	errHangup      = &stopCause{code: ExitHangup, msg: "terminal closed (SIGHUP)"}
	errBrokenPipe  = &stopCause{code: ExitBrokenPipe, msg: "output closed (broken pipe)"}
)

// timedOut is the cause of an expired --timeout.
func timedOut(d fmt.Stringer) *stopCause {
	return &stopCause{code: ExitTimeout, msg: fmt.Sprintf("timed out (--timeout %s)", d)}
}

// causeOf returns the stopCause of a cancelled context, or nil.
func causeOf(ctx context.Context) *stopCause {
	var sc *stopCause
	if errors.As(context.Cause(ctx), &sc) {
		return sc
	}
	return nil
}

// ctxExitCode is the exit code owed to a cancelled context's cause, or -1.
func ctxExitCode(ctx context.Context) int {
	if sc := causeOf(ctx); sc != nil {
		return sc.code
	}
	return -1
}

// fatalSignals are stopped gracefully and end fnrun with 128+N.
var fatalSignals = map[os.Signal]*stopCause{
	syscall.SIGINT: errInterrupted, syscall.SIGTERM: errTerminated,
	syscall.SIGQUIT: errQuit, syscall.SIGABRT: errAborted,
}

// steerable is what the router steers: one function (run, exec) or a
// system (up).
type steerable interface {
	Restart()
	Kill()
	Signal(syscall.Signal) error
	SetStopSignal(syscall.Signal)
}

// sigRouter receives fnrun's signals for the whole command and forwards them to
// whatever currently runs: before a supervisor exists, the first INT or TERM
// cancels the context.
type sigRouter struct {
	ch     chan os.Signal
	cancel context.CancelCauseFunc
	sup    chan steerable
	req    chan *stopCause // stops asked for by other means than signals (fnrun down)
	quit   chan struct{}
	caught chan struct{}       // closed once the signals are caught
	log    func() *slog.Logger // fnrun's current event logger
	tty    *terminal           // fnrun's terminal, nil when not attached to one
}

func newSigRouter(cancel context.CancelCauseFunc, log func() *slog.Logger, tty *terminal) *sigRouter {
	r := &sigRouter{log: log, tty: tty, ch: make(chan os.Signal, 8), cancel: cancel, sup: make(chan steerable, 1), req: make(chan *stopCause, 1), quit: make(chan struct{}), caught: make(chan struct{})}
	// Go enables each signal by a round trip to a thread of its own (about
	// 60 µs a signal here, 0.5 ms for these eight), so it happens while the
	// command line is parsed and the binary looked up; attach waits for it,
	// before any program starts. Until then a signal has its default action,
	// as it had before the first Notify: no program runs yet to outlive fnrun.
	// SIGPIPE is caught so that a write to a closed stdout fails with EPIPE
	// (handled by outGuard) instead of killing fnrun on the spot.
	go func() {
		signal.Notify(r.ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE,
			syscall.SIGQUIT, syscall.SIGABRT, syscall.SIGTSTP, syscall.SIGCONT)
		close(r.caught)
	}()
	return r
}

// run routes signals until quit. Owned by one goroutine.
func (r *sigRouter) run(ctx context.Context) {
	var sup steerable
	stopping := false
	for {
		select {
		case s := <-r.sup:
			sup = s
		case <-r.quit:
			return
		case cause := <-r.req:
			if !stopping {
				r.stopFor(sup, cause, &stopping)
			}
		case sig := <-r.ch:
			switch sig {
			case syscall.SIGPIPE:
				// The failed write reports it (outGuard).
			case syscall.SIGTSTP:
				// Ctrl-Z: the program runs in its own process group, which
				// the terminal does not stop: stop it, then fnrun itself.
				if sup != nil {
					sup.Signal(syscall.SIGSTOP)
				}
				syscall.Kill(os.Getpid(), syscall.SIGSTOP)
			case syscall.SIGCONT:
				if sup != nil {
					sup.Signal(syscall.SIGCONT)
				}
			case syscall.SIGHUP:
				if r.tty != nil && r.tty.gone() {
					r.stopFor(sup, errHangup, &stopping)
					continue
				}
				if sup != nil && !stopping {
					r.log().Info("received SIGHUP; restarting")
					sup.Restart()
				}
			default:
				if cause, ok := fatalSignals[sig]; ok {
					r.stopFor(sup, cause, &stopping)
				}
			}
		}
	}
}

// stopFor ends the command for cause: the first time a graceful stop, after
// that SIGKILL to the group at once.
func (r *sigRouter) stopFor(sup steerable, cause *stopCause, stopping *bool) {
	if *stopping {
		if sup != nil {
			sup.Kill()
		}
		return
	}
	*stopping = true
	if r.tty != nil && (cause == errInterrupted || cause == errQuit) {
		// The terminal echoed ^C (^\) where the cursor was, maybe after
		// the status line: the line below starts on a line of its own (a
		// `kill -INT` from elsewhere costs an empty line).
		if h, ok := r.log().Handler().(*textHandler); ok {
			h.keyEcho()
		}
	}
	if cause.recv == "" {
		r.log().Info(cause.msg + "; stopping")
	} else {
		r.log().Info(fmt.Sprintf("received %s; stopping (send it again to kill at once)", cause.recv))
	}
	if sup != nil && cause.sig != 0 {
		sup.SetStopSignal(cause.sig)
	}
	r.cancel(cause)
}

// stop ends the routing. The signals stay caught (into a channel no one
// reads): fnrun exits next, and signal.Stop would cost another round trip
// per signal on the way out. Main called again in the same process (tests)
// registers a new channel.
func (r *sigRouter) stop() {
	<-r.caught
	close(r.quit)
}

// request stops the command for cause as a first Ctrl-C would (a stop in
// progress goes on).
func (r *sigRouter) request(cause *stopCause) {
	select {
	case r.req <- cause:
	default: // one is under way
	}
}

// attach hands the function that runs to the router.
func (r *sigRouter) attach(s steerable) {
	<-r.caught
	r.sup <- s
}

// terminal is the terminal fnrun is attached to: one of its standard
// streams. After a hangup every operation on it fails (EIO), which tells a
// closed terminal apart from a `kill -HUP` while it lives.
type terminal struct {
	f *os.File
}

// gone reports whether the terminal was hung up.
func (t *terminal) gone() bool { return !isTerminalFile(t.f) }
