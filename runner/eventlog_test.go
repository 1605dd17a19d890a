//go:build unix

package runner

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// logAccount sums up a text log: exits logged in full, exits counted in
// summary lines, and the number of lines.
type logAccount struct {
	lines, full, summarised int
}

var runsAttr = regexp.MustCompile(`\bruns=(\d+)`)

func account(t *testing.T, log string) logAccount {
	t.Helper()
	var a logAccount
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		if line == "" {
			continue
		}
		a.lines++
		switch {
		case strings.Contains(line, "msg=exited"):
			a.full++
		case strings.Contains(line, `msg="more clean exits"`), strings.Contains(line, `msg="more failures"`):
			m := runsAttr.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("summary line without runs: %s", line)
			}
			n, _ := strconv.Atoi(m[1])
			a.summarised += n
		}
	}
	return a
}

// fakeRuns feeds l the events of n runs as Run emits them, each ending
// with ex (Code, Signal) and restarted after delay; every run lasts step
// of fake time. It returns the time after the last exit.
func fakeRuns(l *eventLog, now time.Time, first, n int, ex Event, delay, step time.Duration) time.Time {
	for run := first; run < first+n; run++ {
		if run > first {
			l.event(Event{Kind: EventRestarting, Time: now, Run: run, Delay: delay})
			now = now.Add(delay)
		}
		l.event(Event{Kind: EventStarted, Time: now, Run: run, PID: 100 + run})
		now = now.Add(step)
		l.event(Event{Kind: EventExited, Time: now, Run: run, PID: 100 + run, Code: ex.Code, Signal: ex.Signal, Uptime: step})
	}
	return now
}

func newTestLog(buf *syncBuffer) *eventLog {
	return &eventLog{log: textLogger(buf), name: "fake"}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestEventLog_quickFailuresThinned(t *testing.T) {
	var buf syncBuffer
	l := newTestLog(&buf)
	const runs = 1000
	now := fakeRuns(l, t0, 1, runs, Event{Code: 1}, 0, time.Millisecond) // 1000 runs in 1 s
	l.event(Event{Kind: EventGaveUp, Time: now, Run: runs, Code: 1})
	l.end(now)
	log := buf.String()
	a := account(t, log)
	if a.lines > 12 {
		t.Errorf("%d log lines for %d quick failures, want a few:\n%s", a.lines, runs, log)
	}
	if a.full != quietAfter {
		t.Errorf("%d exits logged in full, want %d:\n%s", a.full, quietAfter, log)
	}
	if a.full+a.summarised != runs {
		t.Errorf("log accounts for %d+%d exits, want %d:\n%s", a.full, a.summarised, runs, log)
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `level=ERROR msg="gave up"`) || !strings.Contains(last, "runs=1000 code=1") {
		t.Errorf("last line = %q, want the gave up line", last)
	}
	if !strings.Contains(log, `msg="more failures" name=fake runs=`) || !strings.Contains(log, " code=1 in=") {
		t.Errorf("no failure summary in:\n%s", log)
	}
}

func TestEventLog_differentFailureAlwaysLogged(t *testing.T) {
	var buf syncBuffer
	l := newTestLog(&buf)
	now := fakeRuns(l, t0, 1, 10, Event{Code: 1}, 0, time.Millisecond)
	now = fakeRuns(l, now, 11, 1, Event{Code: -1, Signal: syscall.SIGKILL}, 0, time.Millisecond)
	now = fakeRuns(l, now, 12, 1, Event{Code: 2}, 0, time.Millisecond)
	fakeRuns(l, now, 13, 1, Event{}, 0, time.Millisecond)
	log := buf.String()
	for _, want := range []string{
		`msg="more failures" name=fake runs=7 code=1 `, // flushed before the next outcome
		"msg=exited name=fake run=11 signal=SIGKILL",
		"msg=exited name=fake run=12 code=2",
		"msg=exited name=fake run=13 code=0",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if i, j := strings.Index(log, `msg="more failures"`), strings.Index(log, "run=11 signal"); i < 0 || i > j {
		t.Errorf("pending failures not flushed before the new outcome:\n%s", log)
	}
}

func TestEventLog_slowFailuresAlwaysLogged(t *testing.T) {
	var buf syncBuffer
	l := newTestLog(&buf)
	fakeRuns(l, t0, 1, 10, Event{Code: 4}, summaryEvery, time.Millisecond)
	if a := account(t, buf.String()); a.full != 10 || a.summarised != 0 {
		t.Errorf("logged %d exits in full and %d in summaries, want 10 and 0:\n%s", a.full, a.summarised, buf.String())
	}
}

func TestEventLog_stopAlwaysLogged(t *testing.T) {
	var buf syncBuffer
	l := newTestLog(&buf)
	now := fakeRuns(l, t0, 1, 10, Event{}, 0, time.Millisecond)
	l.event(Event{Kind: EventRestarting, Time: now, Run: 11})
	l.event(Event{Kind: EventStarted, Time: now, Run: 11, PID: 111})
	l.event(Event{Kind: EventStopping, Time: now, Run: 11, PID: 111, Signal: syscall.SIGTERM})
	l.event(Event{Kind: EventExited, Time: now, Run: 11, PID: 111, Code: -1, Signal: syscall.SIGTERM})
	log := buf.String()
	for _, want := range []string{`msg="more clean exits" name=fake runs=7 `, "msg=stopping", "msg=exited name=fake run=11 signal=SIGTERM"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestEventLog_endFlushesPendingCounts(t *testing.T) {
	for _, ex := range []Event{{}, {Code: 3}} {
		var buf syncBuffer
		l := newTestLog(&buf)
		now := fakeRuns(l, t0, 1, 10, ex, 0, time.Millisecond) // well within one summary window
		l.end(now)
		a := account(t, buf.String())
		if a.full != quietAfter || a.full+a.summarised != 10 {
			t.Errorf("exit %+v: log accounts for %d+%d exits, want %d+%d:\n%s", ex, a.full, a.summarised, quietAfter, 10-quietAfter, buf.String())
		}
		before := buf.String()
		l.end(now) // nothing pending any more
		if buf.String() != before {
			t.Errorf("second end wrote:\n%s", strings.TrimPrefix(buf.String(), before))
		}
	}
}

// With LogEveryEvent (fnrun -v) nothing is summarised: every exit has its
// own line.
func TestEventLog_every(t *testing.T) {
	var buf syncBuffer
	l := newTestLog(&buf)
	l.every = true
	now := fakeRuns(l, time.Now(), 1, 500, Event{}, 0, time.Millisecond)
	l.end(now)
	a := account(t, buf.String())
	if a.full != 500 || a.summarised != 0 {
		t.Errorf("exits logged in full = %d, summarised = %d; want 500 and 0", a.full, a.summarised)
	}
}

// A hold, even amid quick cycles, is logged, after the pending counts, and
// ends quiet mode.
func TestEventLog_holdAlwaysLogged(t *testing.T) {
	var buf syncBuffer
	l := newTestLog(&buf)
	now := fakeRuns(l, t0, 1, 10, Event{Code: 1}, 0, time.Millisecond)
	l.event(Event{Kind: EventHeld, Time: now, Run: 10, PID: 110})
	l.event(Event{Kind: EventHeld, Time: now, Run: 12}) // in a backoff wait: no pid
	fakeRuns(l, now, 11, 1, Event{Code: 1}, 0, time.Millisecond)
	log := buf.String()
	for _, want := range []string{
		`msg="more failures" name=fake runs=7 code=1 `,
		"msg=held name=fake run=10 pid=110\n",
		"msg=held name=fake run=12\n",
		"msg=exited name=fake run=11 code=1", // quiet mode ended
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if i, j := strings.Index(log, `msg="more failures"`), strings.Index(log, "msg=held"); i < 0 || i > j {
		t.Errorf("pending failures not flushed before the hold:\n%s", log)
	}
}
