package cli

/*
Run records for --report and --smoke. A function restarted after every
request may run millions of times; keeping a record per run grew the heap
by ~270 bytes a run. So only the first and the last runWindow runs are
kept, plus a count of the runs in between: memory is flat however long
fnrun supervises, and the report says how many runs it left out.
*/

// runWindow is how many records are kept at each end.
const runWindow = 50

// runLog holds the first and last runWindow finished run records. It is
// not safe for concurrent use (readiness guards it with its mutex).
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
