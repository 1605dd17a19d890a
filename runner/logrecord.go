//go:build unix

package runner

import (
	"strconv"
	"time"
)

/*
The log-file records (Options.LogFile), version 1. Every line of both
streams is written once more as one record:

	<time> <run> <stream> <text>\n

time is the UTC time of the chunk the line was read in (the timestamp the
line writer takes per chunk), as logTimeLayout, always 24 bytes; run is the
decimal run number, 1 for the first run; stream is "out" or "err", and
"out+" or "err+" for a piece of a line longer than MaxLine that is not the
line's last piece (the pieces are those of the text format), so that a
reader can join them back into the line; text is the line's bytes exactly
as the program wrote them, without the newline, with no escaping, colour or
name (it may be empty: the record then ends with the space after stream).
A last line that the stream ends without a newline gets one. The fields
are separated by one space each; time, run and stream never contain one,
so the first three spaces delimit them and the rest up to the newline is
text, which never contains a newline.

internal/logfile parses exactly this: a change to the format is a change
to both, and a new version.

The records of a chunk are formatted into one reused buffer, next to the
Stdout/Stderr output, and written with one Write under the same mutex, so
records are whole and never interleave. The run and stream part (" 12 out
") is formatted once per run by setRun, and the record's start, time and
that part, once per chunk by stampRecords: per line the cost is three
appends to a buffer that is already large enough. The run
number is right for every line because Run calls setRun before startProc
starts the run's readers, and the previous run's readers have finished by
then (Run calls drain, which waits for them, before the next start): the
go statement and the readers' done channels order the accesses, no lock is
needed.
*/

// logTimeLayout is the time layout of log-file records, in UTC.
const logTimeLayout = "2006-01-02T15:04:05.000Z"

// setRun makes the following lines records of run. Call it only while no
// reader writes to w (see above).
func (w *lineWriter) setRun(run int) {
	if w.log == nil {
		return
	}
	name := "out"
	if w.stream == StreamStderr {
		name = "err"
	}
	tag := strconv.AppendInt(append(w.logTag[:0], ' '), int64(run), 10)
	tag = append(append(tag, ' '), name...)
	w.logTag = append(tag, ' ')
	w.logPart = append(append(append(w.logPart[:0], tag...), '+'), ' ')
}

// setRun makes the following lines of both streams records of run.
func (pp *pumps) setRun(run int) {
	pp.out.setRun(run)
	pp.err.setRun(run)
}

// stampRecords formats the start of the records of a chunk read at t.
func (w *lineWriter) stampRecords(t time.Time) {
	w.logHead = t.UTC().AppendFormat(w.logHead[:0], logTimeLayout)
	w.logHead = append(w.logHead, w.logTag...)
}

// record appends the log-file record of text, a line or a piece without
// newline, to logOut; head is logHead or pieceHead.
func (w *lineWriter) record(head, text []byte) {
	w.logOut = append(w.logOut, head...)
	w.logOut = append(w.logOut, text...)
	w.logOut = append(w.logOut, '\n')
}
