package fn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fnrun/fnrun/runner"
)

// Causes with which supervise ends its own context.
var (
	errSmokeReady = errors.New("smoke test passed")
	errNotReady   = errors.New("not ready in time")
	errTimedOut   = errors.New("timed out")
)

// supervise runs opts under one supervisor until it ends, with the
// readiness checks, the smoke verdict and the run records, and fills res.
func (f *Function) supervise(ctx context.Context, opts runner.Options, res *Result) {
	cfg := &f.cfg
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	ctx, cancelTimeout := f.withTimeout(ctx)
	defer cancelTimeout()

	var rec recorder
	var out Tail
	emit := func(e Event) {
		rec.event(e) // EventReady reaches the record of its run
		f.emit(e)
	}
	ck := &checker{cfg: cfg.Ready, name: opts.Name, emit: emit, ctx: ctx,
		ready: func() {
			if cfg.Ready.Smoke {
				stop(errSmokeReady)
			}
		},
		notReady: func() {
			if cfg.Ready.Smoke {
				stop(errNotReady)
			}
		},
	}
	opts.OnEvent = f.onRunner(opts.Name, func(e Event) {
		rec.event(e)
		ck.event(e)
	})
	if cfg.Ready.Log != nil || cfg.Ready.Smoke {
		// Only when needed: the hook costs a lock per line of output.
		prev := opts.OnLine // the caller's own
		opts.OnLine = func(s runner.Stream, line []byte) {
			if prev != nil {
				prev(s, line)
			}
			out.Add(line)
			ck.line(s, line)
		}
	}
	if cfg.Ready.Smoke {
		opts.Policy = runner.PolicyNever
	}
	if addr := ck.busy(ctx); addr != "" {
		msg := fmt.Sprintf("%s already answers before %s started: another program is listening there", addr, opts.Name)
		if cfg.Ready.Smoke {
			res.Smoke = &SmokeResult{Why: msg}
			return
		}
		f.emit(Event{Kind: EventWarning, Name: opts.Name, Msg: msg})
	}
	sup, err := runner.New(opts)
	if err != nil {
		res.Err = &ConfigError{err}
		return
	}
	f.attach(sup)
	status, runErr := sup.Run(ctx)
	res.Status = status
	res.Runs, res.Elided = rec.records()

	if runErr != nil && (ctx.Err() == nil || !errors.Is(runErr, ctx.Err())) {
		res.Err = startError(runErr)
		return
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errSmokeReady):
		res.Smoke = &SmokeResult{Passed: true}
		return
	case errors.Is(cause, errNotReady):
		why := fmt.Sprintf("not ready after %s", cfg.Ready.Timeout)
		if w := ck.waitingOn(); w != "" {
			why += ": " + w
		}
		if !cfg.Ready.Checks() {
			why = fmt.Sprintf("still running after %s (no readiness check given: --smoke waits for the program to finish)", cfg.Ready.Timeout)
		}
		res.Smoke = &SmokeResult{Why: why, Tail: out.Text()}
		return
	case errors.Is(cause, errTimedOut):
		res.TimedOut = true
		return
	case ctx.Err() != nil:
		res.Stopped = true
		return
	}
	if !cfg.Ready.Smoke {
		return
	}
	code := status.ExitCode()
	switch {
	case cfg.Ready.Log != nil && cfg.Ready.URL == "" && cfg.Ready.TCP == "" && ck.logMatched() && (code == 0 || cfg.Ready.Expect[code]):
		// Its ready line came, then it finished: it was ready (the
		// check that says so may trail the exit by a moment).
		res.Smoke = &SmokeResult{Passed: true}
	case cfg.Ready.Checks():
		res.Smoke = &SmokeResult{Why: fmt.Sprintf("the program exited (%s) before it was ready", DescribeExit(status)), Tail: out.Text()}
	case code == 0 || cfg.Ready.Expect[code]:
		res.Smoke = &SmokeResult{Passed: true}
	default:
		res.Smoke = &SmokeResult{Why: fmt.Sprintf("the program exited (%s)", DescribeExit(status)), Tail: out.Text()}
	}
}

// withTimeout applies Config.Timeout to ctx: when it expires
// EventTimedOut is emitted, then the context ends with errTimedOut. The
// event comes first, on the timer's goroutine: the supervisor reacts to the
// context (its "stopping"), so the cause is always said before the effect.
func (f *Function) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	d := f.cfg.Timeout
	if d <= 0 {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(d, func() {
		if ctx.Err() != nil {
			return // stopped for another reason first
		}
		f.emit(Event{Kind: EventTimedOut, Name: f.cfg.Runner.Name, Took: d})
		cancel(errTimedOut)
	})
	return ctx, func() { t.Stop(); cancel(nil) }
}

// DescribeExit says how a run ended: "code 3", "killed by SIGTERM".
func DescribeExit(st runner.Status) string {
	if st.Signal != 0 {
		return "killed by " + runner.SignalName(st.Signal)
	}
	return fmt.Sprintf("code %d", st.Code)
}
