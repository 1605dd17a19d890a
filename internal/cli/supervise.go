package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/runner"
)

// supervise runs opts under a supervisor until it ends, honouring --timeout,
// readiness checks, --smoke, --expect-exit and --report, and returns fnrun's
// exit (codeOnly or a *stopCause) or an error for Main to report.
func (env *appEnv) supervise(c *cli.Context, rd *readiness, opts runner.Options, st *reportState) error {
	rd.log = env.log
	ctx, stop := context.WithCancelCause(c.Context)
	defer stop(nil)
	if timeout := c.Duration("timeout"); timeout > 0 {
		cause := timedOut(timeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, cause)
		defer cancel()
		stopLog := context.AfterFunc(ctx, func() {
			if context.Cause(ctx) == cause {
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
	st.runs, st.elided = rd.records()
	return rd.decide(ctx, status, runErr)
}

// decide maps how supervision ended to fnrun's result.
func (r *readiness) decide(ctx context.Context, st runner.Status, runErr error) error {
	if runErr != nil && (ctx.Err() == nil || !errors.Is(runErr, ctx.Err())) {
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
	}
	if sc := causeOf(ctx); sc != nil {
		return sc // --timeout, a signal, a closed output
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

// describeExit says how the last run ended: "code 3", "killed by SIGTERM".
func describeExit(st runner.Status) string {
	if st.Signal != 0 {
		return "killed by " + runner.SignalName(st.Signal)
	}
	return fmt.Sprintf("code %d", st.Code)
}

func exitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	var c codeOnly
	if errors.As(err, &c) {
		return int(c)
	}
	var sc *stopCause
	if errors.As(err, &sc) {
		return sc.code
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
	var sc *stopCause
	if errors.As(err, &sc) {
		return sc.msg
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
