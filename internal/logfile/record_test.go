package logfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

func rec(ms int, run int, stream string, partial bool, text string) Record {
	return Record{Time: t0.Add(time.Duration(ms) * time.Millisecond), Run: run, Stream: stream, Partial: partial, Text: []byte(text)}
}

func sameRecord(a, b Record) bool {
	return a.Time.Equal(b.Time) && a.Run == b.Run && a.Stream == b.Stream && a.Partial == b.Partial && bytes.Equal(a.Text, b.Text)
}

func (r Record) String() string {
	return fmt.Sprintf("{%s run %d %s partial=%v %q}", r.Time.Format(TimeLayout), r.Run, r.Stream, r.Partial, r.Text)
}

func TestParseRecord(t *testing.T) {
	good := []struct {
		line string
		want Record
	}{
		{"2024-05-06T07:08:09.123Z 1 out hello world\n", rec(0, 1, StreamOut, false, "hello world")},
		{"2024-05-06T07:08:09.123Z 12 err  two  spaces ", rec(0, 12, StreamErr, false, " two  spaces ")},
		{"2024-05-06T07:08:09.123Z 3 out+ piece", rec(0, 3, StreamOut, true, "piece")},
		{"2024-05-06T07:08:09.123Z 3 err+ ", rec(0, 3, StreamErr, true, "")},
		{"2024-05-06T07:08:09.123Z 2 evt exited with code 2; restarting in 1.2s", rec(0, 2, StreamEvent, false, "exited with code 2; restarting in 1.2s")},
		{"2024-05-06T07:08:09.123Z 1 out", rec(0, 1, StreamOut, false, "")},
		{"2024-05-06T07:08:09.123Z 1 out \xff\x00\r", rec(0, 1, StreamOut, false, "\xff\x00\r")},
	}
	for _, tc := range good {
		got, ok := ParseRecord([]byte(tc.line))
		if !ok || !sameRecord(got, tc.want) {
			t.Errorf("ParseRecord(%q) = %v, %v; want %v, true", tc.line, got, ok, tc.want)
		}
	}
	bad := []string{
		"",
		"hello",
		"2024-05-06T07:08:09.123Z",
		"2024-05-06T07:08:09.123Z ",
		"2024-05-06T07:08:09.123Z 1",
		"2024-05-06T07:08:09.123Z 1 ",
		"2024-05-06T07:08:09.123Z 0 out x",
		"2024-05-06T07:08:09.123Z -1 out x",
		"2024-05-06T07:08:09.123Z +1 out x",
		"2024-05-06T07:08:09.123Z 1234567890 out x",
		"2024-05-06T07:08:09.123Z x out x",
		"2024-05-06T07:08:09.123Z 1 evt+ x",
		"2024-05-06T07:08:09.123Z 1 stdout x",
		"2024-05-06T07:08:09.123Z  1 out x",
		"2024-05-06 07:08:09.123Z 1 out x",
		"2024-05-06T07:08:09.12Z 1 out x",
		"2024-02-30T07:08:09.123Z 1 out x",
		"2024-05-06T07:08:09.123+01:00 1 out x",
	}
	for _, line := range bad {
		if got, ok := ParseRecord([]byte(line)); ok {
			t.Errorf("ParseRecord(%q) = %v, true; want false", line, got)
		}
	}
}

func TestAppendRecord(t *testing.T) {
	r := Record{Time: t0.In(time.FixedZone("X", 3600)).Add(456789 * time.Nanosecond), Run: 7, Stream: StreamErr, Partial: true, Text: []byte("a\nb")}
	got := string(AppendRecord([]byte("x"), r))
	if want := "x2024-05-06T07:08:09.123Z 7 err+ a b\n"; got != want {
		t.Errorf("AppendRecord = %q, want %q", got, want)
	}
}

// FuzzParseRecord: ParseRecord never panics; a record it accepts formats back to a line that
// parses to the same record; and any record (a text without '\n', a time in years 0 to 9999)
// survives AppendRecord then ParseRecord.
func FuzzParseRecord(f *testing.F) {
	f.Add([]byte("2024-05-06T07:08:09.123Z 1 out hello\n"), int64(0), 1, uint8(0), false, []byte("hello"))
	f.Add([]byte("2024-05-06T07:08:09.123Z 99 err+ \xff"), int64(-1), 0, uint8(1), true, []byte(""))
	f.Add([]byte("2024-05-06T07:08:09.123Z 2 evt exited"), int64(1<<62), -5, uint8(2), true, []byte("a b  c"))
	f.Add([]byte("0000-01-01T00:00:00.000Z 999999999 out x"), int64(253402300799999), 999999999, uint8(7), false, []byte("\x00"))
	f.Fuzz(func(t *testing.T, line []byte, ms int64, run int, stream uint8, partial bool, text []byte) {
		if r, ok := ParseRecord(line); ok {
			if r.Run < 1 || (r.Stream != StreamOut && r.Stream != StreamErr && r.Stream != StreamEvent) {
				t.Fatalf("ParseRecord(%q) = %v: not a valid record", line, r)
			}
			if !bytes.Contains(r.Text, []byte{'\n'}) {
				again, ok := ParseRecord(AppendRecord(nil, r))
				if !ok || !sameRecord(again, r) {
					t.Fatalf("ParseRecord(AppendRecord(%v)) = %v, %v", r, again, ok)
				}
			}
		}
		if bytes.Contains(text, []byte{'\n'}) {
			return
		}
		lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		hi := time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli()
		span := uint64(hi - lo + 1)
		r := Record{
			Time:   time.UnixMilli(lo + int64(uint64(ms)%span)),
			Run:    1 + int(uint(run)%999_999_999),
			Stream: []string{StreamOut, StreamErr, StreamEvent}[stream%3],
			Text:   text,
		}
		r.Partial = partial && r.Stream != StreamEvent
		got, ok := ParseRecord(AppendRecord(nil, r))
		if !ok || !sameRecord(got, r) {
			t.Fatalf("ParseRecord(AppendRecord(%v)) = %v, %v", r, got, ok)
		}
	})
}

// writeRecords appends records to the log at path through a Writer.
func writeRecords(t *testing.T, w *Writer, recs ...Record) {
	t.Helper()
	for _, r := range recs {
		if _, err := w.Write(AppendRecord(nil, r)); err != nil {
			t.Fatal(err)
		}
	}
}

func readRecords(t *testing.T, rd *Reader) []Record {
	t.Helper()
	var out []Record
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
}

func checkRecords(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range got {
		if !sameRecord(got[i], want[i]) {
			t.Fatalf("record %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

func TestReader_RecordsInFileOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	w := mustOpen(t, path, Options{MaxSize: 300, MaxFiles: 20, Compress: true})
	var want []Record
	for i := range 60 {
		r := rec(i, 1+i/20, StreamOut, false, fmt.Sprintf("line %d", i))
		want = append(want, r)
		writeRecords(t, w, r)
	}
	if err := w.Close(); err != nil { // waits for the compressions
		t.Fatal(err)
	}
	files, err := Files(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 || !strings.HasSuffix(files[0], ".gz") || files[len(files)-2] != path+".1" {
		t.Fatalf("files = %v, want PATH.N.gz … PATH.1, PATH", files)
	}
	rd, err := NewReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	checkRecords(t, readRecords(t, rd), want)
	if rd.Skipped() != 0 || rd.Err() != nil {
		t.Errorf("Skipped() = %d, Err() = %v; want 0, nil", rd.Skipped(), rd.Err())
	}
}

func TestReader_RecordPieces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	w := mustOpen(t, path, Options{})
	defer w.Close()
	writeRecords(t, w,
		rec(0, 1, StreamOut, true, "aaa"),
		rec(1, 1, StreamErr, false, "an error line"),
		rec(2, 1, StreamOut, true, "bbb"),
		rec(3, 1, StreamOut, false, "ccc"),
		rec(4, 1, StreamErr, true, "cut by "),
		rec(5, 1, StreamEvent, false, "exited with code 2"),
		rec(6, 2, StreamErr, false, "run 2"),
		rec(7, 2, StreamOut, true, "not finished"),
	)
	rd, err := NewReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	checkRecords(t, readRecords(t, rd), []Record{
		rec(1, 1, StreamErr, false, "an error line"),
		rec(0, 1, StreamOut, false, "aaabbbccc"),
		rec(5, 1, StreamEvent, false, "exited with code 2"),
		rec(4, 1, StreamErr, true, "cut by "), // its run ended
		rec(6, 2, StreamErr, false, "run 2"),
	})
	checkRecords(t, rd.Flush(), []Record{rec(7, 2, StreamOut, true, "not finished")})
	checkRecords(t, rd.Flush(), nil)
}

func TestReader_MalformedRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	rotated := string(AppendRecord(nil, rec(0, 1, StreamOut, false, "one"))) +
		"garbage from a crashed fnrun\n" +
		"\n" +
		strings.TrimSuffix(string(AppendRecord(nil, rec(1, 1, StreamOut, false, "two, unterminated"))), "\n")
	current := string(AppendRecord(nil, rec(2, 2, StreamOut, false, "three"))) +
		"2024-05-06T07:08:09.1" + // a line being written
		""
	if err := os.WriteFile(path+".1", []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(current), 0o600); err != nil {
		t.Fatal(err)
	}
	rd, err := NewReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	checkRecords(t, readRecords(t, rd), []Record{
		rec(0, 1, StreamOut, false, "one"),
		rec(1, 1, StreamOut, false, "two, unterminated"),
		rec(2, 2, StreamOut, false, "three"),
	})
	if got := rd.Skipped(); got != 2 {
		t.Errorf("Skipped() = %d, want 2 (the garbage and the empty line)", got)
	}
}

func TestReader_RecordsAfterDamagedGzip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	if err := os.WriteFile(path+".1.gz", []byte("\x1f\x8b\x08\x00 not really gzip"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, AppendRecord(nil, rec(0, 1, StreamOut, false, "still read")), 0o600); err != nil {
		t.Fatal(err)
	}
	rd, err := NewReader(path)
	if err != nil {
		// A header that does not parse fails the open: that is an error of the log.
		t.Skipf("NewReader: %v", err)
	}
	defer rd.Close()
	checkRecords(t, readRecords(t, rd), []Record{rec(0, 1, StreamOut, false, "still read")})
	if rd.Err() == nil {
		t.Error("Err() = nil, want the damaged file's error")
	}
}

// follow runs rd.Follow in the background, sending what it reads to the returned channel.
func follow(t *testing.T, rd *Reader) (<-chan Record, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan Record, 100)
	done := make(chan error, 1)
	go func() {
		done <- rd.Follow(ctx, func(r Record) error { ch <- r; return nil })
	}()
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { stop() })
	return ch, stop
}

func await(t *testing.T, ch <-chan Record, want ...Record) {
	t.Helper()
	for i, w := range want {
		select {
		case got := <-ch:
			if !sameRecord(got, w) {
				t.Fatalf("followed record %d: got %v, want %v", i, got, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("followed record %d: none after 10s, want %v", i, w)
		}
	}
}

func TestReader_FollowRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	w := mustOpen(t, path, Options{MaxSize: 200, MaxFiles: 3, Compress: true})
	defer w.Close()
	writeRecords(t, w, rec(0, 1, StreamOut, false, "before"), rec(1, 1, StreamOut, true, "held "))
	rd, err := NewReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	checkRecords(t, readRecords(t, rd), []Record{rec(0, 1, StreamOut, false, "before")})
	// A line being written when the Reader read: Follow reads it whole.
	if _, err := w.Write([]byte("2024-05-06T07:08:09.125Z 1 out ")); err != nil {
		t.Fatal(err)
	}
	ch, stop := follow(t, rd)
	if _, err := w.Write([]byte("piece ends\n")); err != nil {
		t.Fatal(err)
	}
	await(t, ch, rec(1, 1, StreamOut, false, "held piece ends"))
	// Across rotations (MaxSize 200: every few records) and a restart of the function,
	// at a pace the follower keeps up with.
	for i := range 20 {
		r := rec(10+i, 1+i/10, StreamErr, false, fmt.Sprintf("after %d", i))
		writeRecords(t, w, r)
		await(t, ch, r)
	}
	if files, _ := Files(path); len(files) < 3 {
		t.Fatalf("files = %v, want rotated ones", files)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Follow = %v, want context.Canceled", err)
	}
}

func TestReader_FollowRecordsWaitsForFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "shop", "api.log") // no directory yet
	rd, err := NewReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	checkRecords(t, readRecords(t, rd), nil)
	ch, stop := follow(t, rd)
	w := mustOpen(t, path, Options{})
	defer w.Close()
	writeRecords(t, w, rec(0, 1, StreamOut, false, "first"))
	await(t, ch, rec(0, 1, StreamOut, false, "first"))
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Follow = %v, want context.Canceled", err)
	}
}

func TestReader_FollowRecordsStopsOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	w := mustOpen(t, path, Options{})
	defer w.Close()
	rd, err := NewReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	errStop := errors.New("stop")
	done := make(chan error, 1)
	go func() { done <- rd.Follow(context.Background(), func(Record) error { return errStop }) }()
	writeRecords(t, w, rec(0, 1, StreamOut, false, "x"))
	if err := <-done; !errors.Is(err, errStop) {
		t.Errorf("Follow = %v, want the callback's error", err)
	}
}

func TestReader_RecordPiecesEndWithRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.log")
	w := mustOpen(t, path, Options{})
	defer w.Close()
	writeRecords(t, w,
		rec(0, 1, StreamOut, true, "killed mid-line"),
		rec(1, 2, StreamEvent, false, "run 2 started"),
		rec(2, 2, StreamOut, false, "hello"),
	)
	rd, err := NewReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	checkRecords(t, readRecords(t, rd), []Record{
		rec(0, 1, StreamOut, true, "killed mid-line"),
		rec(1, 2, StreamEvent, false, "run 2 started"),
		rec(2, 2, StreamOut, false, "hello"),
	})
}
