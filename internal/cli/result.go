package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/internal/fn"
)

// resultError maps how a function ended to fnrun's result: nil, codeOnly
// (the program's own exit), a *stopCause (a signal, --timeout, a closed
// output) or an error for Main to report.
func resultError(ctx context.Context, verbose bool, cfg fn.Config, res fn.Result) error {
	if res.Err != nil {
		return errorOf(verbose, res)
	}
	if s := res.Smoke; s != nil {
		if s.Passed {
			return codeOnly(ExitOK)
		}
		return withDetail(ExitSmokeFail, errors.New("smoke test failed: "+s.Why), s.Tail)
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
		detail = be.Output
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
