//go:build unix

package runner

import (
	"context"
	"log/slog"
	"syscall"
	"time"
)

/*
Event logging without flooding. A program that exits at once and is
restarted without delay may run thousands of times a second, cleanly (under
PolicyAlways) or failing the same way each time (BackoffInitial 0, or a
small BackoffMax); three log lines per run would drown everything else.

So the logger is thinned by outcome. The outcome of a run is how it exited:
cleanly, with exit code N, or by signal S. When the same outcome repeats and
the restart after it is quick (a delay below summaryEvery), the first
quietAfter such cycles are logged in full; after that the exits, and the
"restarting"/"started" lines around them, are counted instead of logged, and
a summary line ("more clean exits runs=1234 in=1.001s", or "more failures
runs=1234 code=1 in=1.001s") is written when an event arrives at least
summaryEvery after the previous summary. No timer runs for this: a summary
is only ever written while handling an event, or when Run returns.

Pending counts are flushed before any other line. An exit with a different
outcome than the previous one, a restart after a delay of summaryEvery or
more, a stop, a hold, a gave-up and a start failure are always logged and
end quiet mode; so are the lines of cycles whose restart waits summaryEvery
or more, which therefore come at most once a second. When Run returns, end
writes the counts still pending as a last summary line. OnEvent still sees
every event; only the logger is thinned out.
*/

// slog attribute keys.
const (
	keyName     = "name"
	keyRun      = "run"
	keyPID      = "pid"
	keyCode     = "code"
	keySignal   = "signal"
	keyUptime   = "uptime"
	keyDelay    = "delay"
	keyRuns     = "runs"
	keyInterval = "in"
	keyErr      = "err"
)

const (
	quietAfter   = 3           // cycles with the same outcome logged in full before quiet mode
	summaryEvery = time.Second // at most one summary line per interval; also what "quick" means
)

// outcome is how a run exited: cleanly (the zero value), with a code, or by
// a signal.
type outcome struct {
	code int
	sig  syscall.Signal
}

func outcomeOf(e Event) outcome { return outcome{e.Code, e.Signal} }

func (o outcome) failed() bool { return o.code != 0 || o.sig != 0 }

// eventLog writes events to a slog.Logger concisely. It is used only from
// the goroutine running Supervisor.Run.
type eventLog struct {
	log   *slog.Logger
	name  string
	every bool // Options.LogEveryEvent: never summarise

	last     outcome   // outcome of the previous exit
	same     int       // consecutive quick cycles ending with last
	quiet    bool      // cycles ending with last are being counted, not logged
	thinning bool      // the current cycle (since the last exit) is being counted
	count    int       // exits counted since since
	since    time.Time // start of the current summary window
}

func (l *eventLog) event(e Event) {
	ctx := context.Background()
	if l.quiet && l.routine(e) {
		if e.Kind == EventExited {
			l.count++
			l.thinning = true
		}
		if e.Time.Sub(l.since) >= summaryEvery {
			l.summary(e.Time)
		}
		return
	}
	l.summary(e.Time) // flush pending counts before any other line
	l.thinning = false
	name := slog.String(keyName, l.name)
	switch e.Kind {
	case EventStarted:
		l.log.LogAttrs(ctx, slog.LevelInfo, "started", name, slog.Int(keyRun, e.Run), slog.Int(keyPID, e.PID))
	case EventExited:
		o := outcomeOf(e)
		if o != l.last {
			l.last, l.same, l.quiet = o, 0, false
		}
		l.same++
		level := slog.LevelInfo
		if o.failed() {
			level = slog.LevelWarn
		}
		l.log.LogAttrs(ctx, level, "exited", name, slog.Int(keyRun, e.Run), exitAttr(e), slog.Duration(keyUptime, e.Uptime))
		if l.same >= quietAfter && !l.every {
			// The restart after this exit is counted if it is quick.
			l.quiet, l.thinning, l.since = true, true, e.Time
		}
	case EventRestarting:
		if e.Delay >= summaryEvery { // a slow cycle: no flood, and not a repeat to thin
			l.same, l.quiet = 0, false
		}
		l.log.LogAttrs(ctx, slog.LevelInfo, "restarting", name, slog.Int(keyRun, e.Run), slog.Duration(keyDelay, e.Delay))
	case EventGaveUp:
		l.reset()
		level := slog.LevelInfo
		if e.failed() {
			level = slog.LevelError
		}
		l.log.LogAttrs(ctx, level, "gave up", name, slog.Int(keyRuns, e.Run), exitAttr(e))
	case EventStopping:
		// The exit that follows is caused by the stop, not a repeat.
		l.reset()
		l.log.LogAttrs(ctx, slog.LevelInfo, "stopping", name, slog.Int(keyRun, e.Run), slog.Int(keyPID, e.PID), slog.String(keySignal, SignalName(e.Signal)))
	case EventHeld:
		// The run after a hold is started by Resume: not a quick cycle.
		l.reset()
		attrs := []slog.Attr{name, slog.Int(keyRun, e.Run)}
		if e.PID != 0 { // 0: the hold came during a backoff wait
			attrs = append(attrs, slog.Int(keyPID, e.PID))
		}
		l.log.LogAttrs(ctx, slog.LevelInfo, "held", attrs...)
	case EventStartFailed:
		l.reset()
		// The error is returned by Run; logging it too would report it twice.
		l.log.LogAttrs(ctx, slog.LevelDebug, "start failed", name, slog.Int(keyRun, e.Run), slog.Any(keyErr, e.Err))
	}
}

// routine reports whether e, seen in quiet mode, is part of a repeated
// quick cycle ending with the same outcome as the previous exit.
func (l *eventLog) routine(e Event) bool {
	switch e.Kind {
	case EventExited:
		return outcomeOf(e) == l.last
	case EventRestarting:
		return l.thinning && e.Delay < summaryEvery
	case EventStarted:
		return l.thinning
	}
	return false
}

// summary writes the pending count, if any, and starts a new window at now.
func (l *eventLog) summary(now time.Time) {
	if l.count > 0 {
		name := slog.String(keyName, l.name)
		runs := slog.Int(keyRuns, l.count)
		interval := slog.Duration(keyInterval, now.Sub(l.since))
		if l.last.failed() {
			var what slog.Attr
			if l.last.sig != 0 {
				what = slog.String(keySignal, SignalName(l.last.sig))
			} else {
				what = slog.Int(keyCode, l.last.code)
			}
			l.log.LogAttrs(context.Background(), slog.LevelWarn, "more failures", name, runs, what, interval)
		} else {
			l.log.LogAttrs(context.Background(), slog.LevelInfo, "more clean exits", name, runs, interval)
		}
	}
	l.count, l.since = 0, now
}

// reset ends quiet mode; pending counts must have been flushed.
func (l *eventLog) reset() {
	l.last, l.same, l.quiet, l.thinning = outcome{}, 0, false, false
}

// end flushes the counts still pending when Run returns and resets the
// state for a later Run.
func (l *eventLog) end(now time.Time) {
	l.summary(now)
	l.reset()
}

func exitAttr(e Event) slog.Attr {
	if e.Signal != 0 {
		return slog.String(keySignal, SignalName(e.Signal))
	}
	return slog.Int(keyCode, e.Code)
}
