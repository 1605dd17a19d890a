package runner

import (
	"context"
	"log/slog"
	"time"
)

/*
Event logging without flooding. A function that exits cleanly and is
restarted at once under PolicyAlways may run thousands of times a second;
three log lines per run would drown everything else. So the first
quietAfter clean cycles are logged in full; after that, clean exits and the
"started"/"restarting" lines around them are counted instead of logged, and
a summary line ("runs=1234 clean exits in the last 1.001s") is written when
an event arrives at least summaryEvery after the previous summary. No timer
runs for this: a summary is only ever written while handling an event, and
pending counts are flushed before any other line (failure, stop, gave up).
Failures are always logged and end quiet mode. OnEvent still sees every
event; only the logger is thinned out.
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
	keyInterval = "interval"
	keyErr      = "err"
)

const (
	quietAfter   = 3           // clean cycles logged in full before quiet mode
	summaryEvery = time.Second // at most one summary line per interval
)

// eventLog writes events to a slog.Logger concisely. It is used only from
// the goroutine running Supervisor.Run.
type eventLog struct {
	log  *slog.Logger
	name string

	clean     int       // consecutive clean exits
	quiet     bool      // clean cycles are being counted, not logged
	count     int       // clean exits counted since since
	since     time.Time // start of the current summary window
	lastClean bool      // the previous exit was clean (so its restart/start are routine)
}

func (l *eventLog) event(e Event) {
	ctx := context.Background()
	if l.quiet && l.routine(e) {
		if e.Kind == EventExited {
			l.count++
		}
		if e.Time.Sub(l.since) >= summaryEvery {
			l.summary(e.Time)
		}
		return
	}
	if l.count > 0 {
		l.summary(e.Time)
	}
	name := slog.String(keyName, l.name)
	switch e.Kind {
	case EventStarted:
		l.log.LogAttrs(ctx, slog.LevelInfo, "started", name, slog.Int(keyRun, e.Run), slog.Int(keyPID, e.PID))
	case EventExited:
		l.lastClean = !e.failed()
		if e.failed() {
			l.clean, l.quiet = 0, false
			l.log.LogAttrs(ctx, slog.LevelWarn, "exited", name, slog.Int(keyRun, e.Run), exitAttr(e), slog.Duration(keyUptime, e.Uptime))
			return
		}
		l.clean++
		l.log.LogAttrs(ctx, slog.LevelInfo, "exited", name, slog.Int(keyRun, e.Run), exitAttr(e), slog.Duration(keyUptime, e.Uptime))
		if l.clean >= quietAfter {
			l.quiet, l.since = true, e.Time
		}
	case EventRestarting:
		l.log.LogAttrs(ctx, slog.LevelInfo, "restarting", name, slog.Int(keyRun, e.Run), slog.Duration(keyDelay, e.Delay))
	case EventGaveUp:
		level := slog.LevelInfo
		if e.failed() {
			level = slog.LevelError
		}
		l.log.LogAttrs(ctx, level, "gave up", name, slog.Int(keyRuns, e.Run), exitAttr(e))
	case EventStopping:
		l.log.LogAttrs(ctx, slog.LevelInfo, "stopping", name, slog.Int(keyRun, e.Run), slog.Int(keyPID, e.PID), slog.String(keySignal, e.Signal.String()))
	case EventStartFailed:
		// The error is returned by Run; logging it too would report it twice.
		l.log.LogAttrs(ctx, slog.LevelDebug, "start failed", name, slog.Int(keyRun, e.Run), slog.Any(keyErr, e.Err))
	}
}

// routine reports whether e is part of a clean exit-and-restart cycle.
func (l *eventLog) routine(e Event) bool {
	switch e.Kind {
	case EventExited:
		return !e.failed()
	case EventRestarting:
		return e.Delay == 0 && l.lastClean
	case EventStarted:
		return l.lastClean
	}
	return false
}

func (l *eventLog) summary(now time.Time) {
	if l.count > 0 {
		l.log.LogAttrs(context.Background(), slog.LevelInfo, "clean exits",
			slog.String(keyName, l.name), slog.Int(keyRuns, l.count), slog.Duration(keyInterval, now.Sub(l.since)))
	}
	l.count, l.since = 0, now
}

func exitAttr(e Event) slog.Attr {
	if e.Signal != 0 {
		return slog.String(keySignal, e.Signal.String())
	}
	return slog.Int(keyCode, e.Code)
}
