package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/system"
)

// resultError maps how a function ended to fnrun's result: nil, codeOnly
// (the program's own exit), a *stopCause (a signal, --timeout, a closed
// output) or an error for Main to report. A smoke test that passed says so
// in one line, as a failed one does.
func (env *appEnv) resultError(ctx context.Context, cfg fn.Config, res fn.Result) error {
	if res.Err != nil {
		return errorOf(env.verbose, res)
	}
	if s := res.Smoke; s != nil {
		if s.Passed {
			name := cfg.Runner.Name
			if name == "" {
				name = filepath.Base(res.Binary)
			}
			env.log.Info("smoke test passed: " + name + " " + smokeTook(res.Runs))
			return codeOnly(ExitOK)
		}
		return smokeFailure(s)
	}
	if res.TimedOut {
		return timedOut(cfg.Timeout)
	}
	if res.Stopped {
		if sc := causeOf(ctx); sc != nil {
			return sc
		}
	}
	code := res.Status.ExitCode()
	if cfg.Ready.Expect[code] {
		return codeOnly(ExitOK)
	}
	return codeOnly(code)
}

// smokeError is a failed smoke test: why, and the last lines of output
// (fn.Tail's text, possibly ""), which Main prints under the message and
// the report's reason includes.
type smokeError struct {
	why, tail string
}

func (e *smokeError) Error() string { return "smoke test failed: " + e.why }

// smokeFailure is the result of a failed smoke test: exit 1, the tail as
// the detail.
func smokeFailure(s *fn.SmokeResult) error {
	return withDetail(ExitSmokeFail, &smokeError{why: s.Why, tail: s.Tail}, s.Tail)
}

// smokeTook says how long a passing smoke test's run took: "ready in
// 112ms" (a readiness check passed), or "exited (code 0) in 40ms" (no
// check: the program finished).
func smokeTook(runs []fn.RunRecord) string {
	if len(runs) == 0 {
		return "passed"
	}
	r := runs[len(runs)-1]
	switch {
	case r.ReadyMS != nil:
		return "ready in " + msString(*r.ReadyMS)
	case r.UptimeMS != nil && r.ExitCode != nil:
		return fmt.Sprintf("exited (code %d) in %s", *r.ExitCode, msString(*r.UptimeMS))
	}
	return "passed"
}

// systemSmokeTook is smokeTook for `up --smoke`: "3 functions ready in
// 480ms", from the first start to the last function ready (or finished,
// for one that runs to completion).
func systemSmokeTook(res system.Result) string {
	var first, last time.Time
	for _, name := range res.Order {
		runs := res.Runs[name].Runs
		if len(runs) == 0 {
			continue
		}
		r := runs[len(runs)-1]
		done := r.Start
		switch {
		case r.ReadyMS != nil:
			done = r.Start.Add(time.Duration(*r.ReadyMS * float64(time.Millisecond)))
		case r.End != nil:
			done = *r.End
		}
		if first.IsZero() || runs[0].Start.Before(first) {
			first = runs[0].Start
		}
		if done.After(last) {
			last = done
		}
	}
	n := plural(len(res.Order), "function", "functions")
	if first.IsZero() {
		return n + " ready"
	}
	return n + " ready in " + last.Sub(first).Round(time.Millisecond).String()
}

// msString formats milliseconds as a duration rounded to the millisecond
// ("112ms", "1.204s"), or to the microsecond under one ("850µs").
func msString(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// errorOf maps a function's failure to an exit code, with the tool's output
// as the detail where it helps.
func errorOf(verbose bool, res fn.Result) error {
	err := res.Err
	var ce *fn.ConfigError
	if errors.As(err, &ce) {
		return usageError("%v", ce.Err)
	}
	if errors.Is(err, context.Canceled) {
		return err // interrupted: Main says by what
	}
	switch fn.PhaseOf(err) {
	case fn.PhaseFetch:
		if nm := (*fetch.NoModuleError)(nil); errors.As(err, &nm) {
			// The one local mistake with an obvious fix.
			return withDetail(ExitFnrun, err, "make it a module first: cd "+nm.Dir+" && go mod init NAME")
		}
	case fn.PhaseBuild:
		var nm *build.NotMainError
		if co := res.Checkout; co.Identity == "" && errors.As(err, &nm) && len(nm.Mains) > 0 {
			// A local source: list the main packages as SOURCEs to paste.
			return withDetail(ExitFnrun, err, "main packages in this module:\n\t"+strings.Join(localMains(co, nm.Mains), "\n\t"))
		}
	case fn.PhaseStart:
		return withCode(ExitNoStart, err)
	case fn.PhaseWatch:
		return withCode(ExitFnrun, err)
	case fn.PhaseSupervise:
		return withCode(ExitFnrun, fmt.Errorf("supervise: %w", err))
	}
	return toolError(verbose, err)
}

// toolError maps a fetch or build failure to exit 125 with its detail: the
// compiler's output always, other tools' output with -v.
func toolError(verbose bool, err error) error {
	var detail string
	var d interface{ Detail() string }
	if errors.As(err, &d) {
		detail = d.Detail()
	}
	var be *build.Error
	if errors.As(err, &be) {
		detail = goPaths(be.Output, be.Dir) // as go build from here would print them
	}
	var fe *fetch.Error
	if errors.As(err, &fe) && verbose {
		detail = fe.Output
	}
	return withDetail(ExitFnrun, err, detail)
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

// reasonOf is the report's reason for fnrun's result.
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
	// A failed smoke test: the message, then the last lines of output.
	var se *smokeError
	if errors.As(err, &se) {
		if tail := strings.TrimRight(se.tail, "\n"); tail != "" {
			reason += "\n" + tail
		}
		return reason
	}
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
