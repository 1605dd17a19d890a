package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/internal/fn"
)

// onEvent returns the observer that turns a function's events into lines on
// the terminal: progress on the status line, the rest through fnrun's event
// logger. The supervisor's own events (started, exited, restarting, gave
// up, stopping) are logged by the runner itself, thinned out, so they are
// not repeated here. Safe for concurrent use.
func (env *appEnv) onEvent(c *cli.Context) func(fn.Event) {
	return env.render(env.progress(c))
}

// render is onEvent with a given progress display.
func (env *appEnv) render(p *progress) func(fn.Event) {
	return func(e fn.Event) {
		log := env.log
		switch e.Kind {
		case fn.EventProgress:
			p.say(e.Name, e.Msg)
		case fn.EventProgressDone:
			p.done(e.Name)
		case fn.EventWarning:
			log.Warn(e.Msg, "name", e.Name)
		case fn.EventBuilt:
			if !e.CacheHit {
				log.Debug("built", "binary", e.Binary, "in", e.Took)
			}
		case fn.EventReady:
			// A function restarted after every request is ready again and
			// again: say it once (and with -v every time).
			level := slog.LevelDebug
			if e.Run == 1 {
				level = slog.LevelInfo
			}
			log.Log(context.Background(), level, "ready", "name", e.Name, "run", e.Run, "after", e.Took)
		case fn.EventNotReady:
			log.Warn("not ready", "name", e.Name, "run", e.Run, "after", e.Took, "waiting", e.Msg)
		case fn.EventTimedOut:
			log.Warn(fmt.Sprintf("--timeout %s expired; stopping", e.Took))
		case fn.EventWatching:
			log.Info("watching for changes", "name", e.Name, "dirs", strings.Join(e.Dirs, ","))
		case fn.EventChangeIgnored:
			log.Debug("change without effect on the build", "name", e.Name, "files", e.Files)
		case fn.EventRebuilt:
			log.Info("rebuilt; restarting", "name", e.Name, "took", e.Took, "changed", e.Msg)
		case fn.EventRebuildFailed:
			env.buildFailed(e.Name, e.Err, e.Running)
		case fn.EventIdle:
			log.Info("program ended; waiting for changes", "name", e.Name, "code", e.Code)
		}
	}
}

// buildFailed says loudly that a rebuild failed and the old binary keeps running.
func (env *appEnv) buildFailed(name string, err error, running bool) {
	var detail string
	var be *build.Error
	var d interface{ Detail() string }
	if errors.As(err, &be) {
		detail = be.Output
	} else if errors.As(err, &d) {
		detail = d.Detail()
	}
	fmt.Fprintf(env.stderr, "fnrun: %s BUILD FAILED: %s\n", name, firstLine(err.Error()))
	if detail = strings.TrimRight(detail, "\n"); detail != "" {
		fmt.Fprintln(env.stderr, indent(detail, "    "))
	}
	if running {
		fmt.Fprintln(env.stderr, "fnrun: still running the previous build; fix the error to restart")
	} else {
		fmt.Fprintln(env.stderr, "fnrun: fix the error to start the program")
	}
}
