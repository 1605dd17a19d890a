package fn

import (
	"sync"
	"time"

	"github.com/fnrun/fnrun/runner"
)

/*
Run records for --report and --smoke. A function restarted after every
request may run millions of times; keeping a record per run grew the heap
by ~270 bytes a run. So only the first and the last runWindow runs are
kept, plus a count of the runs in between: memory is flat however long
fnrun supervises, and the report says how many runs it left out.
*/

// runWindow is how many records are kept at each end.
const runWindow = 50

// RunRecord is one run, as the report lists it.
type RunRecord struct {
	Run      int        `json:"run"`
	PID      int        `json:"pid"`
	Start    time.Time  `json:"start"`
	End      *time.Time `json:"end,omitempty"`
	ExitCode *int       `json:"exit_code,omitempty"`
	Signal   string     `json:"signal,omitempty"`
	UptimeMS *float64   `json:"uptime_ms,omitempty"`
	ReadyMS  *float64   `json:"ready_ms,omitempty"`
}

// runLog holds the first and last runWindow finished run records. It is
// not safe for concurrent use.
type runLog struct {
	first []RunRecord
	last  [runWindow]RunRecord // ring
	n     int                  // records added in all
}

func (l *runLog) add(r RunRecord) {
	if len(l.first) < runWindow {
		l.first = append(l.first, r)
	} else {
		l.last[(l.n-runWindow)%runWindow] = r
	}
	l.n++
}

// records returns the kept records in run order and how many were left out
// between the first and the last runWindow.
func (l *runLog) records() ([]RunRecord, int) {
	out := append([]RunRecord(nil), l.first...)
	tail := min(l.n-len(l.first), runWindow)
	for i := l.n - tail; i < l.n; i++ {
		out = append(out, l.last[(i-runWindow)%runWindow])
	}
	return out, l.n - len(out)
}

// recorder turns events into run records. Safe for concurrent use.
type recorder struct {
	mu   sync.Mutex
	runs runLog
	cur  *RunRecord // the run in progress
}

func (r *recorder) event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case EventStarted:
		r.cur = &RunRecord{Run: e.Run, PID: e.PID, Start: e.Time}
	case EventReady:
		if r.cur != nil && r.cur.Run == e.Run {
			ms := ms(e.Took)
			r.cur.ReadyMS = &ms
		}
	case EventExited:
		rec := r.cur
		if rec == nil {
			return
		}
		r.cur = nil
		end, up := e.Time, ms(e.Took)
		rec.End, rec.UptimeMS = &end, &up
		if e.Signal != 0 {
			rec.Signal = runner.SignalName(e.Signal)
		} else {
			code := e.Code
			rec.ExitCode = &code
		}
		r.runs.add(*rec)
	}
}

// records returns the kept run records (the one in progress last) and how
// many runs were left out.
func (r *recorder) records() ([]RunRecord, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	recs, elided := r.runs.records()
	if r.cur != nil {
		recs = append(recs, *r.cur)
	}
	return recs, elided
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
