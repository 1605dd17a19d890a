//go:build unix

package runner

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// logRecord is one parsed log-file record.
type logRecord struct {
	time   time.Time
	run    int
	stream string // out, err, out+ or err+
	text   string
}

// parseRecords parses log-file records strictly: every byte of data must
// belong to a well-formed record.
func parseRecords(t *testing.T, data string) []logRecord {
	t.Helper()
	var recs []logRecord
	for data != "" {
		line, rest, ok := strings.Cut(data, "\n")
		if !ok {
			t.Fatalf("record %d: no newline at the end: %q", len(recs), data[:min(len(data), 80)])
		}
		data = rest
		bad := func(why string) {
			t.Helper()
			t.Fatalf("record %d %q: %s", len(recs), line[:min(len(line), 80)], why)
		}
		if len(line) < len(logTimeLayout)+1 || line[len(logTimeLayout)] != ' ' {
			bad("no 24-byte time")
		}
		ts, err := time.Parse(logTimeLayout, line[:len(logTimeLayout)])
		if err != nil || ts.Format(logTimeLayout) != line[:len(logTimeLayout)] {
			bad(fmt.Sprintf("time: %v", err))
		}
		fields := strings.SplitN(line[len(logTimeLayout)+1:], " ", 3)
		if len(fields) != 3 {
			bad("not four fields")
		}
		run, err := strconv.Atoi(fields[0])
		if err != nil || run < 1 || strconv.Itoa(run) != fields[0] {
			bad("run is not a decimal number from 1")
		}
		switch fields[1] {
		case "out", "err", "out+", "err+":
		default:
			bad("unknown stream")
		}
		recs = append(recs, logRecord{ts, run, fields[1], fields[2]})
	}
	return recs
}

// recordWriter collects the log file, checking that every Write carries
// whole records.
type recordWriter struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
	bad    string // the first Write that does not end a record
}

func (w *recordWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if (len(p) == 0 || p[len(p)-1] != '\n') && w.bad == "" {
		w.bad = string(p[:min(len(p), 80)])
	}
	w.writes++
	return w.b.Write(p)
}

// records checks the Writes and parses the log file.
func (w *recordWriter) records(t *testing.T) []logRecord {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.bad != "" {
		t.Fatalf("a Write to the log file does not end with a whole record: %q", w.bad)
	}
	return parseRecords(t, w.b.String())
}

// Records have the line writer's time in UTC, the run, the stream with
// "+" on all pieces but a line's last, and the text unchanged; whatever
// Format is and however the input is read, the other output does not
// change.
func TestLineWriter_logFile(t *testing.T) {
	const in = "abcdefghij\nabcd\nabcde\n\nxyz12345\"\x1b[31m\t\r"
	const ts = "2026-01-02T02:04:05.678Z 7 " // 03:04:05.678 at UTC+1
	want := ts + "err+ abcd\n" + ts + "err+ efgh\n" + ts + "err ij\n" + ts + "err abcd\n" + ts + "err+ abcd\n" +
		ts + "err e\n" + ts + "err \n" + ts + "err+ xyz1\n" + ts + "err+ 2345\n" + ts + "err+ \"\x1b[3\n" + ts + "err 1m\t\r\n"
	for _, o := range []Options{
		{}, {Timestamps: true, ColorStderr: true}, {Format: FormatJSON}, {Format: FormatRaw},
		{Format: FormatRaw, OnLine: func(Stream, []byte) {}},
	} {
		o.MaxLine = 4
		now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.FixedZone("", 3600)) }
		for cut := 0; cut <= len(in); cut++ {
			var plain, out, log recorder
			w := newTestLineWriter(&plain, o)
			w.now = now
			w.Write([]byte(in[:cut]))
			w.Write([]byte(in[cut:]))
			w.Close()
			o.LogFile = &log
			w = newTestLineWriter(&out, o)
			w.now = now
			w.setRun(7)
			w.Write([]byte(in[:cut]))
			w.Write([]byte(in[cut:]))
			w.Close()
			o.LogFile = nil
			if got := log.all(); got != want {
				t.Fatalf("format %d, cut %d: log file %q, want %q", o.Format, cut, got, want)
			}
			if got, want := out.all(), plain.all(); got != want {
				t.Fatalf("format %d, cut %d: output with a log file %q, want %q as without", o.Format, cut, got, want)
			}
			for _, wr := range log.writes {
				if !strings.HasSuffix(wr, "\n") {
					t.Fatalf("format %d, cut %d: a Write of a partial record: %q", o.Format, cut, wr)
				}
			}
		}
	}
}

// Every line of two runs is recorded with the run that wrote it and its
// stream, and run 1's records all come before run 2's.
func TestSupervisor_Run_logFileRuns(t *testing.T) {
	t.Parallel()
	const n = 2000
	o := helperOptions(t, "runlines", filepath.Join(t.TempDir(), "count"), strconv.Itoa(n))
	o.Policy, o.MaxRestarts = PolicyAlways, 1
	var log recordWriter
	o.LogFile = &log
	var stdout syncBuffer
	o.Stdout = &stdout
	before := time.Now().Add(-time.Second)
	if st := run(t, mustNew(t, o)); st.Runs != 2 {
		t.Fatalf("status %+v, want 2 runs", st)
	}
	after := time.Now().Add(time.Second)
	recs := log.records(t)
	if len(recs) != 2*n {
		t.Fatalf("%d records, want %d", len(recs), 2*n)
	}
	next := map[string]int{} // "run stream" -> next line number
	lastRun := 1
	for i, r := range recs {
		var k, num int
		var tag string
		if _, err := fmt.Sscanf(r.text, "%d %s %d", &k, &tag, &num); err != nil {
			t.Fatalf("record %d: text %q: %v", i, r.text, err)
		}
		if r.run != k || r.stream != tag {
			t.Fatalf("record %d: run %d, stream %s for line %q of run %d on %s", i, r.run, r.stream, r.text, k, tag)
		}
		if r.run < lastRun {
			t.Fatalf("record %d of run %d after a record of run %d", i, r.run, lastRun)
		}
		lastRun = r.run
		key := fmt.Sprint(r.run, r.stream)
		if _, ok := next[key]; !ok && tag == "err" {
			next[key] = 1
		}
		if num != next[key] {
			t.Fatalf("record %d: line %d, want %d of run %d on %s", i, num, next[key], r.run, tag)
		}
		next[key] += 2
		if r.time.Before(before) || r.time.After(after) || r.time.Location() != time.UTC {
			t.Fatalf("record %d: time %v, want UTC around the run", i, r.time)
		}
	}
	// The other output is as without a log file.
	if got := strings.Count(stdout.String(), "helper | "); got != n {
		t.Errorf("%d lines on stdout, want %d", got, n)
	}
}

// A line longer than MaxLine gives "out+" pieces and a last "out" piece.
func TestSupervisor_Run_logFileLongLine(t *testing.T) {
	t.Parallel()
	const maxLine = 100
	o := helperOptions(t, "bigline")
	o.MaxLine = maxLine
	var log recordWriter
	o.LogFile = &log
	run(t, mustNew(t, o))
	recs := log.records(t)
	if want := (1<<20 + maxLine - 1) / maxLine; len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	var line strings.Builder
	for i, r := range recs {
		want := "out+"
		if i == len(recs)-1 {
			want = "out"
		}
		if r.stream != want || r.run != 1 || len(r.text) > maxLine {
			t.Fatalf("record %d: stream %s, run %d, %d bytes; want %s, run 1, at most %d", i, r.stream, r.run, len(r.text), want, maxLine)
		}
		line.WriteString(r.text)
	}
	if line.String() != strings.Repeat("x", 1<<20) {
		t.Errorf("the pieces join to %d bytes, want the 1 MiB line", line.Len())
	}
}

// A last line without newline is completed in the log file, and stays as
// it is in the raw output.
func TestSupervisor_Run_logFileLastLine(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "nonewline")
	var stdout syncBuffer
	var log recordWriter
	o.Stdout, o.LogFile, o.Format = &stdout, &log, FormatRaw
	run(t, mustNew(t, o))
	var got []string
	for _, r := range log.records(t) {
		got = append(got, r.stream+" "+r.text)
	}
	if want := []string{"out first", "out last without newline"}; fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("records %q, want %q", got, want)
	}
	if got, want := stdout.String(), "first\nlast without newline"; got != want {
		t.Errorf("raw stdout %q, want %q", got, want)
	}
}

// Both streams at full speed: every record is whole and well-formed, and
// none is lost.
func TestSupervisor_Run_logFileBothStreams(t *testing.T) {
	t.Parallel()
	const n = 200000
	o := helperOptions(t, "lines", strconv.Itoa(n))
	var log recordWriter
	o.LogFile, o.Stdout, o.Stderr = &log, io.Discard, io.Discard
	run(t, mustNew(t, o))
	recs := log.records(t)
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	next := map[string]int{"out": 0, "err": 1}
	for i, r := range recs {
		want := fmt.Sprintf("%s %07d", r.stream, next[r.stream])
		if r.run != 1 || r.text != want {
			t.Fatalf("record %d: run %d, %s %q; want run 1, %q", i, r.run, r.stream, r.text, want)
		}
		next[r.stream] += 2
	}
	if next["out"] != n || next["err"] != n+1 {
		t.Errorf("lines per stream: %v, want %d each", next, n/2)
	}
	t.Logf("%d records in %d writes", len(recs), log.writes)
}
