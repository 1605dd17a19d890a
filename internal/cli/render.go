package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/memtrim"
)

// onEvent returns the observer that turns a function's events into lines on
// the terminal: progress on the status line, the rest through fnrun's event
// logger. The supervisor's own events (started, exited, restarting, gave
// up, stopping) are logged by the runner itself, thinned out, so they are
// not repeated here. Safe for concurrent use.
func (env *appEnv) onEvent(c *cli.Context) func(fn.Event) {
	return env.render(env.progress(c))
}

// trimAfter is how long after the first start fnrun gives back the memory
// of its start-up (memtrim.Trim): an `up` starts its entries meanwhile.
const trimAfter = 500 * time.Millisecond

// render is onEvent with a given progress display. The lines about builds
// ("change detected…", "built in…") are for people: with --log-format json
// the records stay what they were.
func (env *appEnv) render(p *progress) func(fn.Event) {
	return func(e fn.Event) {
		log := env.log
		switch e.Kind {
		case fn.EventStarted:
			env.trimOnce.Do(func() { time.AfterFunc(trimAfter, memtrim.Trim) })
		case fn.EventProgress:
			p.say(e.Name, e.Msg)
		case fn.EventProgressDone:
			p.done(e.Name)
		case fn.EventWarning:
			log.Warn(e.Msg, "name", e.Name)
		case fn.EventBuilt:
			switch {
			case e.CacheHit:
			case env.jsonLog:
				log.Debug("built", "binary", e.Binary, "in", e.Took)
			case env.verbose:
				log.Info("built in "+roundDuration(e.Took).String(), "name", e.Name, "binary", e.Binary)
			default:
				log.Info("built in "+roundDuration(e.Took).String(), "name", e.Name)
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
			p.done(e.Name) // an edit undone while its build ran: no build goes on
		case fn.EventRebuilding:
			if !env.jsonLog {
				log.Info(fmt.Sprintf("change detected (%s); building…", e.Msg), "name", e.Name)
			}
			p.rebuilding(e.Name)
		case fn.EventRebuilt:
			p.fixed(e.Name)
			if env.jsonLog {
				log.Info("rebuilt; restarting", "name", e.Name, "took", e.Took, "changed", e.Msg)
			} else {
				log.Info("rebuilt in "+roundDuration(e.Took).String()+"; restarting", "name", e.Name)
			}
		case fn.EventRebuildFailed:
			env.buildFailed(e.Name, e.Err, e.Running)
			p.broken(e.Name, e.Running)
		case fn.EventIdle:
			log.Info("program ended; waiting for changes", "name", e.Name, "code", e.Code)
		case fn.EventEnded:
			p.end()
		}
	}
}

// buildFailed says loudly that a rebuild failed and the old binary keeps
// running: BUILD FAILED (red on a terminal), then the compiler's output with
// its paths as the go command would print them here.
func (env *appEnv) buildFailed(name string, err error, running bool) {
	var detail string
	var be *build.Error
	var d interface{ Detail() string }
	if errors.As(err, &be) {
		detail = goPaths(be.Output, be.Dir)
	} else if errors.As(err, &d) {
		detail = d.Detail()
	}
	loud := "BUILD FAILED"
	if colorOK(env.stderrTTY) {
		loud = "\033[1;31m" + loud + "\033[0m"
	}
	fmt.Fprintf(env.stderr, "fnrun: %s: %s: %s\n", name, loud, firstLine(err.Error()))
	if detail = strings.TrimRight(detail, "\n"); detail != "" {
		fmt.Fprintln(env.stderr, indent(detail, "    "))
	}
	if running {
		fmt.Fprintln(env.stderr, "fnrun: still running the previous build; fix the error to restart")
	} else {
		fmt.Fprintln(env.stderr, "fnrun: fix the error to start the program")
	}
}

// goPaths rewrites the relative paths at the start of the go command's
// output lines ("./main.go:54:30: …", "\t../lib/x.go:3:1: …"), which are
// relative to dir, where it ran, to be relative to fnrun's working
// directory, as `go build` run here would print them ("ticker/main.go:54:30"):
// an editor or terminal then opens them with a click.
func goPaths(out, dir string) string {
	wd, err := os.Getwd()
	if err != nil || dir == "" {
		return out
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		body := strings.TrimLeft(l, " \t")
		if !strings.HasPrefix(body, "./") && !strings.HasPrefix(body, "../") {
			continue
		}
		end := strings.IndexByte(body, ':')
		if end < 0 {
			continue
		}
		lines[i] = l[:len(l)-len(body)] + shortPath(wd, filepath.Join(dir, body[:end])) + body[end:]
	}
	return strings.Join(lines, "\n")
}

// shortPath is path as the go command shows it from wd: relative when that
// is shorter, and "./" before a file in wd itself.
func shortPath(wd, path string) string {
	rel, err := filepath.Rel(wd, path)
	if err != nil || len(rel) >= len(path) {
		return path
	}
	if !strings.ContainsRune(rel, filepath.Separator) {
		rel = "." + string(filepath.Separator) + rel
	}
	return rel
}
