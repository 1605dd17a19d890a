package cli

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/fnrun/fnrun/runner"
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
func TestReadiness_recordsBounded(t *testing.T) {
	r := &readiness{ctx: context.Background(), expect: map[int]bool{}}
	now := time.Now()
	feed := func(from, to int) {
		for run := from; run < to; run++ {
			r.event(runner.Event{Kind: runner.EventStarted, Time: now, Run: run, PID: 1000 + run})
			r.event(runner.Event{Kind: runner.EventExited, Time: now, Run: run, PID: 1000 + run, Uptime: time.Millisecond})
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
	runtime.KeepAlive(r)
}
