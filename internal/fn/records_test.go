package fn

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

func TestRunLog_records(t *testing.T) {
	for _, n := range []int{0, 1, runWindow, runWindow + 1, 2 * runWindow, 2*runWindow + 1, 1000} {
		var l runLog
		for i := 1; i <= n; i++ {
			l.add(RunRecord{Run: i})
		}
		recs, elided := l.records()
		wantKept := min(n, 2*runWindow)
		if len(recs) != wantKept || elided != n-wantKept {
			t.Fatalf("n=%d: kept %d, elided %d; want %d, %d", n, len(recs), elided, wantKept, n-wantKept)
		}
		// The first runWindow runs, then the last ones, in order.
		for i, r := range recs {
			want := i + 1
			if i >= runWindow {
				want = n - (len(recs) - i) + 1
			}
			if r.Run != want {
				t.Fatalf("n=%d: record %d is run %d, want %d", n, i, r.Run, want)
			}
		}
	}
}

// The records of 100k runs keep the live heap flat: within 1 MB of where it
// was after the first 1k runs.
func TestRecorder_bounded(t *testing.T) {
	var r recorder
	now := time.Now()
	feed := func(from, to int) {
		for run := from; run < to; run++ {
			r.event(Event{Kind: EventStarted, Time: now, Run: run, PID: 1000 + run})
			r.event(Event{Kind: EventExited, Time: now, Run: run, PID: 1000 + run, Took: time.Millisecond})
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	feed(1, 1001)
	before := heap()
	feed(1001, 100_001)
	after := heap()
	if after > before+1<<20 {
		t.Errorf("live heap grew from %d to %d bytes over 99k runs", before, after)
	}
	recs, elided := r.records()
	if len(recs) != 2*runWindow || elided != 100_000-2*runWindow {
		t.Errorf("kept %d records, elided %d; want %d, %d", len(recs), elided, 2*runWindow, 100_000-2*runWindow)
	}
}

// A record holds how the run ended and when it was ready.
func TestRecorder_event(t *testing.T) {
	var r recorder
	now := time.Now()
	r.event(Event{Kind: EventStarted, Time: now, Run: 1, PID: 7})
	r.event(Event{Kind: EventReady, Run: 1, Took: 5 * time.Millisecond})
	r.event(Event{Kind: EventExited, Time: now.Add(time.Second), Run: 1, PID: 7, Code: -1, Signal: syscall.SIGTERM, Took: time.Second})
	r.event(Event{Kind: EventStarted, Time: now, Run: 2, PID: 8})
	recs, _ := r.records()
	if len(recs) != 2 {
		t.Fatalf("records = %d, want 2 (one finished, one running)", len(recs))
	}
	got := recs[0]
	if got.Signal != "SIGTERM" || got.ExitCode != nil || got.ReadyMS == nil || *got.ReadyMS != 5 || *got.UptimeMS != 1000 {
		t.Errorf("record = %+v, want SIGTERM, no exit code, ready 5ms, uptime 1000ms", got)
	}
	if recs[1].Run != 2 || recs[1].End != nil {
		t.Errorf("running record = %+v, want run 2 without an end", recs[1])
	}
}
