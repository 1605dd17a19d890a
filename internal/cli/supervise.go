package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/runner"
)

/*
Signals while a program runs (DESIGN.md "Run semantics"):

	SIGINT  first: graceful stop of the group, then exit 130; second: SIGKILL the group at once
	SIGTERM graceful stop, exit 143 (a second one also kills at once)
	SIGHUP  restart the program now, backoff reset

Main installs the handlers before anything runs, so a signal that arrives
during fetch or build cancels that work too; here they are routed to the
supervisor.
*/

var (
	errInterrupted = errors.New("interrupted")
	errTerminated  = errors.New("terminated")
	errTimedOut    = errors.New("timed out")
	errBrokenPipe  = errors.New("output closed (broken pipe)")
)

// sigRouter receives fnrun's signals for the whole command and forwards them to
// whatever currently runs: before a supervisor exists, the first INT or TERM
// cancels the context.
type sigRouter struct {
	ch     chan os.Signal
	cancel context.CancelCauseFunc
	sup    chan *runner.Supervisor
	quit   chan struct{}
	log    func() *slog.Logger // fnrun's current event logger
}

func newSigRouter(cancel context.CancelCauseFunc, log func() *slog.Logger) *sigRouter {
	r := &sigRouter{log: log, ch: make(chan os.Signal, 4), cancel: cancel, sup: make(chan *runner.Supervisor, 1), quit: make(chan struct{})}
	// SIGPIPE is caught so that a write to a closed stdout fails with EPIPE
	// (handled by pipeGuard) instead of killing fnrun on the spot.
	signal.Notify(r.ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	return r
}

// run routes signals until ctx is done. Owned by one goroutine.
func (r *sigRouter) run(ctx context.Context) {
	var sup *runner.Supervisor
	stopping := false
	for {
		select {
		case s := <-r.sup:
			sup = s
		case sig := <-r.ch:
			switch sig {
			case syscall.SIGHUP:
				if sup != nil {
					r.log().Info("received SIGHUP; restarting")
					sup.Restart()
				}
			case syscall.SIGPIPE:
				// The failed write reports it (pipeGuard).
			case syscall.SIGINT, syscall.SIGTERM:
				if stopping {
					if sup != nil {
						sup.Kill()
					}
					continue
				}
				stopping = true
				r.log().Info(fmt.Sprintf("received %s; stopping (send it again to kill at once)", signalName(sig.(syscall.Signal))))
				if sig == syscall.SIGINT {
					r.cancel(errInterrupted)
				} else {
					r.cancel(errTerminated)
				}
			}
		case <-r.quit:
			return
		case <-ctx.Done():
			// Keep routing a second signal to Kill while the stop runs.
			for {
				select {
				case s := <-r.sup:
					sup = s
				case sig := <-r.ch:
					if (sig == syscall.SIGINT || sig == syscall.SIGTERM) && sup != nil {
						sup.Kill()
					}
				case <-r.quit:
					return
				}
			}
		}
	}
}

func (r *sigRouter) stop() {
	signal.Stop(r.ch)
	close(r.quit)
}

// attach hands the supervisor to the router.
func (r *sigRouter) attach(s *runner.Supervisor) { r.sup <- s }

// ctxExitCode is the exit code owed to a cancelled context's cause, or -1.
func ctxExitCode(ctx context.Context) int {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errInterrupted):
		return ExitInterrupt
	case errors.Is(cause, errTerminated):
		return ExitTerminate
	case errors.Is(cause, errTimedOut):
		return ExitTimeout
	case errors.Is(cause, errBrokenPipe):
		return ExitBrokenPipe
	}
	return -1
}

// supervise runs opts under a supervisor until it ends, honouring --timeout,
// readiness checks, --smoke, --expect-exit and --report, and returns fnrun's
// exit (codeOnly) or an error for Main to report.
func (env *appEnv) supervise(c *cli.Context, rd *readiness, opts runner.Options, st *reportState) error {
	rd.log = env.log
	ctx, stop := context.WithCancelCause(c.Context)
	defer stop(nil)
	timeout := c.Duration("timeout")
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, errTimedOut)
		defer cancel()
	}
	if timeout > 0 {
		stopLog := context.AfterFunc(ctx, func() {
			if errors.Is(context.Cause(ctx), errTimedOut) {
				env.log.Warn(fmt.Sprintf("--timeout %s expired; stopping", timeout))
			}
		})
		defer stopLog()
	}
	rd.install(ctx, &opts, stop)
	rd.name = opts.Name
	if addr := rd.busy(ctx); addr != "" {
		err := fmt.Errorf("%s already answers before %s started: another program is listening there", addr, opts.Name)
		if rd.smoke {
			return withCode(ExitSmokeFail, fmt.Errorf("smoke test failed: %w", err))
		}
		env.log.Warn(err.Error())
	}
	sup, err := runner.New(opts)
	if err != nil {
		return usageError("%v", err)
	}
	env.sig.attach(sup)
	status, runErr := sup.Run(ctx)
	st.runs = rd.records()
	return rd.decide(ctx, status, runErr)
}

// decide maps how supervision ended to fnrun's result.
func (r *readiness) decide(ctx context.Context, st runner.Status, runErr error) error {
	if runErr != nil {
		var se *runner.StartError
		if errors.As(runErr, &se) {
			return withCode(ExitNoStart, runErr)
		}
		return withCode(ExitFnrun, fmt.Errorf("supervise: %w", runErr))
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errSmokeReady):
		return codeOnly(ExitOK)
	case errors.Is(cause, errNotReady):
		what := fmt.Sprintf("not ready after %s", r.timeout)
		r.mu.Lock()
		if r.waiting != "" {
			what += ": " + r.waiting
		}
		r.mu.Unlock()
		if !r.checks() {
			what = fmt.Sprintf("still running after %s (no readiness check given: --smoke waits for the program to finish)", r.timeout)
		}
		return withDetail(ExitSmokeFail, errors.New("smoke test failed: "+what), r.tailText())
	case errors.Is(cause, errTimedOut):
		return codeOnly(ExitTimeout)
	case errors.Is(cause, errInterrupted):
		return codeOnly(ExitInterrupt)
	case errors.Is(cause, errTerminated):
		return codeOnly(ExitTerminate)
	case errors.Is(cause, errBrokenPipe):
		return codeOnly(ExitBrokenPipe)
	}
	code := st.ExitCode()
	if r.smoke {
		if r.checks() {
			return withDetail(ExitSmokeFail,
				fmt.Errorf("smoke test failed: the program exited (%s) before it was ready", describeExit(st)), r.tailText())
		}
		if code == 0 || r.expect[code] {
			return codeOnly(ExitOK)
		}
		return withDetail(ExitSmokeFail, fmt.Errorf("smoke test failed: the program exited (%s)", describeExit(st)), r.tailText())
	}
	if r.expect[code] {
		return codeOnly(ExitOK)
	}
	return codeOnly(code)
}

func describeExit(st runner.Status) string {
	if st.Signal != 0 {
		return fmt.Sprintf("killed by %s", st.Signal)
	}
	return fmt.Sprintf("code %d", st.Code)
}

// records returns a copy of the run records.
func (r *readiness) records() []runRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]runRecord, len(r.runs))
	for i, rec := range r.runs {
		out[i] = *rec
	}
	return out
}

func exitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	var c codeOnly
	if errors.As(err, &c) {
		return int(c)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitFnrun
}

func reasonOf(err error) string {
	var c codeOnly
	if err == nil || errors.As(err, &c) {
		return ""
	}
	reason := firstLine(err.Error())
	// A build failure's own summary says little: add the first line of the
	// compiler's output ("./main.go:2:15: undefined: x").
	var ee *exitError
	if errors.As(err, &ee) {
		for _, l := range strings.Split(ee.detail, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				reason += ": " + l
				break
			}
		}
	}
	return reason
}

// signalName is SIGTERM for syscall.SIGTERM, and so on.
func signalName(sig syscall.Signal) string {
	for name, s := range signals {
		if s == sig {
			return "SIG" + name
		}
	}
	return fmt.Sprintf("signal %d", int(sig))
}
