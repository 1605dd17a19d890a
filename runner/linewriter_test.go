//go:build unix

package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// recorder records each Write call separately.
type recorder struct{ writes []string }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recorder) all() string {
	var b bytes.Buffer
	for _, w := range r.writes {
		b.WriteString(w)
	}
	return b.String()
}

func newTestLineWriter(dst io.Writer, o Options) *lineWriter {
	if o.Name == "" {
		o.Name = "fn"
	}
	if o.MaxLine == 0 {
		o.MaxLine = DefaultMaxLine
	}
	w := newLineWriter(new(sync.Mutex), dst, StreamStderr, &o)
	w.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC) }
	return w
}

func TestLineWriter_formats(t *testing.T) {
	const in = "one\n\ntwo \"q\"\nlast"
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"text", Options{}, "fn | one\nfn | \nfn | two \"q\"\nfn | last\n"},
		{"timestamps", Options{Timestamps: true}, "2026-01-02T03:04:05.678Z fn | one\n2026-01-02T03:04:05.678Z fn | \n" +
			"2026-01-02T03:04:05.678Z fn | two \"q\"\n2026-01-02T03:04:05.678Z fn | last\n"},
		{"color", Options{ColorStderr: true}, "\x1b[36mfn\x1b[0m | one\n\x1b[36mfn\x1b[0m | \n\x1b[36mfn\x1b[0m | two \"q\"\n\x1b[36mfn\x1b[0m | last\n"},
		{"raw", Options{Format: FormatRaw}, in},
		{"json", Options{Format: FormatJSON}, `{"time":"2026-01-02T03:04:05.678Z","name":"fn","stream":"stderr","line":"one"}` + "\n" +
			`{"time":"2026-01-02T03:04:05.678Z","name":"fn","stream":"stderr","line":""}` + "\n" +
			`{"time":"2026-01-02T03:04:05.678Z","name":"fn","stream":"stderr","line":"two \"q\""}` + "\n" +
			`{"time":"2026-01-02T03:04:05.678Z","name":"fn","stream":"stderr","line":"last"}` + "\n"},
	}
	for _, tt := range tests {
		// Every way of cutting the input in two gives the same output.
		for cut := 0; cut <= len(in); cut++ {
			var r recorder
			w := newTestLineWriter(&r, tt.o)
			w.Write([]byte(in[:cut]))
			w.Write([]byte(in[cut:]))
			w.Close()
			if got := r.all(); got != tt.want {
				t.Fatalf("%s, cut at %d: got %q, want %q", tt.name, cut, got, tt.want)
			}
		}
	}
}

func TestLineWriter_Write_wholeLinesPerCall(t *testing.T) {
	var r recorder
	w := newTestLineWriter(&r, Options{Format: FormatRaw})
	w.Write([]byte("a\nb"))
	w.Write([]byte("c"))
	w.Write([]byte("d\ne\n"))
	w.Close()
	want := []string{"a\n", "bcd\ne\n"}
	if fmt.Sprint(r.writes) != fmt.Sprint(want) {
		t.Errorf("writes = %q, want %q", r.writes, want)
	}
}

func TestLineWriter_OnLine(t *testing.T) {
	var got []string
	o := Options{OnLine: func(s Stream, l []byte) { got = append(got, s.String()+":"+string(l)) }}
	w := newTestLineWriter(io.Discard, o)
	w.Write([]byte("a\nbb"))
	w.Write([]byte("b\nc"))
	w.Close()
	if want := []string{"stderr:a", "stderr:bbb", "stderr:c"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("OnLine saw %q, want %q", got, want)
	}
}

func TestLineWriter_longLine(t *testing.T) {
	var r recorder
	w := newTestLineWriter(&r, Options{})
	line := bytes.Repeat([]byte("y"), 3*DefaultMaxLine)
	piece := "fn | " + string(line[:DefaultMaxLine]) + "\n"
	for i := 0; i < len(line); i += 1000 {
		w.Write(line[i:min(i+1000, len(line))])
		// Each piece is written as soon as it is known to be one (a byte
		// after it that is not a newline), whole, in one Write.
		n := min(i+1000, len(line))
		if want := (n - 1) / DefaultMaxLine; len(r.writes) != want {
			t.Fatalf("after %d bytes: %d writes, want %d", n, len(r.writes), want)
		}
	}
	w.Write([]byte("\n"))
	if len(r.writes) != 3 {
		t.Fatalf("got %d writes, want 3 pieces", len(r.writes))
	}
	for i, got := range r.writes {
		if got != piece {
			t.Errorf("write %d: %d bytes, want a piece of %d", i, len(got), len(piece))
		}
	}
}

func TestLineWriter_pieces(t *testing.T) {
	// MaxLine 4: a line of 4 bytes is whole, longer ones come in pieces,
	// a final line without newline too.
	const in = "abcdefghij\nabcd\nabcde\n\nxyz12345"
	ts := `{"time":"2026-01-02T03:04:05.678Z","name":"fn","stream":"stderr","line":`
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"text", Options{}, "fn | abcd\nfn | efgh\nfn | ij\nfn | abcd\nfn | abcd\nfn | e\nfn | \nfn | xyz1\nfn | 2345\n"},
		{"timestamps", Options{Timestamps: true}, "2026-01-02T03:04:05.678Z fn | abcd\n2026-01-02T03:04:05.678Z fn | efgh\n" +
			"2026-01-02T03:04:05.678Z fn | ij\n2026-01-02T03:04:05.678Z fn | abcd\n2026-01-02T03:04:05.678Z fn | abcd\n" +
			"2026-01-02T03:04:05.678Z fn | e\n2026-01-02T03:04:05.678Z fn | \n2026-01-02T03:04:05.678Z fn | xyz1\n" +
			"2026-01-02T03:04:05.678Z fn | 2345\n"},
		{"raw", Options{Format: FormatRaw}, in},
		{"raw OnLine", Options{Format: FormatRaw, OnLine: func(Stream, []byte) {}}, in},
		{"json", Options{Format: FormatJSON},
			ts + `"abcd","partial":true}` + "\n" + ts + `"efgh","partial":true}` + "\n" + ts + `"ij"}` + "\n" +
				ts + `"abcd"}` + "\n" + ts + `"abcd","partial":true}` + "\n" + ts + `"e"}` + "\n" + ts + `""}` + "\n" +
				ts + `"xyz1","partial":true}` + "\n" + ts + `"2345"}` + "\n"},
	}
	wantPieces := "abcd,efgh,ij,abcd,abcd,e,,xyz1,2345"
	for _, tt := range tests {
		for cut := 0; cut <= len(in); cut++ {
			// With and without an OnLine hook (raw has a fast path without).
			for _, hook := range []bool{false, true} {
				var r recorder
				var pieces []string
				o := tt.o
				o.MaxLine = 4
				if hook {
					o.OnLine = func(_ Stream, l []byte) { pieces = append(pieces, string(l)) }
				}
				w := newTestLineWriter(&r, o)
				w.Write([]byte(in[:cut]))
				w.Write([]byte(in[cut:]))
				w.Close()
				if got := r.all(); got != tt.want {
					t.Fatalf("%s, OnLine %v, cut at %d: got %q, want %q", tt.name, hook, cut, got, tt.want)
				}
				if got := strings.Join(pieces, ","); hook && got != wantPieces {
					t.Fatalf("%s, cut at %d: OnLine saw %q, want %q", tt.name, cut, got, wantPieces)
				}
			}
		}
		// One byte per Write: a piece is written by the Write that
		// completes it, never later.
		var r recorder
		o := tt.o
		o.MaxLine = 4
		w := newTestLineWriter(&r, o)
		for i := range len(in) {
			w.Write([]byte{in[i]})
			if i == len("abcde")-1 && len(r.writes) != 1 {
				t.Fatalf("%s: writes after \"abcde\" = %q, want the first piece", tt.name, r.writes)
			}
		}
		w.Close()
		if got := r.all(); got != tt.want {
			t.Fatalf("%s, byte by byte: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Pieces are cut before a UTF-8 sequence, never inside one, when MaxLine
// leaves room; whatever MaxLine and however the input is read, no byte is
// lost, every piece has at most MaxLine bytes, and every JSON line is valid.
func TestLineWriter_piecesUTF8(t *testing.T) {
	const in = "abc€def\na😀b\nééééé\n\x80\x80\x80\x80\x80\x80\nx\xf0\x9f\x98zzzz\n✓✓✓✓"
	lines := strings.Split(in, "\n")
	for _, tt := range []struct {
		max  int
		want string // pieces of the lines joined by "," and "|"
	}{
		{4, "abc,€d,ef|a,😀,b|éé,éé,é|\x80\x80\x80\x80,\x80\x80|x\xf0\x9f\x98,zzzz|✓,✓,✓,✓"},
		{5, "abc,€de,f|a😀,b|éé,éé,é|\x80\x80\x80\x80\x80,\x80|x\xf0\x9f\x98z,zzz|✓,✓,✓,✓"},
		{1, ""}, // no room: cut anywhere, still no loss
		{2, ""},
		{3, ""},
		{6, ""},
		{7, ""},
	} {
		for cut := 0; cut <= len(in); cut++ {
			var pieces [][]byte
			var r recorder
			o := Options{Format: FormatJSON, MaxLine: tt.max}
			o.OnLine = func(_ Stream, l []byte) { pieces = append(pieces, bytes.Clone(l)) }
			w := newTestLineWriter(&r, o)
			w.Write([]byte(in[:cut]))
			w.Write([]byte(in[cut:]))
			w.Close()
			// Join pieces back into lines with the JSON partial flags.
			out := strings.Split(strings.TrimSuffix(r.all(), "\n"), "\n")
			if len(out) != len(pieces) {
				t.Fatalf("max %d, cut %d: %d JSON lines for %d pieces", tt.max, cut, len(out), len(pieces))
			}
			var got []string
			var line []byte
			var lp [][]byte // the pieces of line
			var desc []string
			for i, js := range out {
				var v struct {
					Line    string
					Partial bool
				}
				if err := json.Unmarshal([]byte(js), &v); err != nil {
					t.Fatalf("max %d, cut %d: invalid JSON %s: %v", tt.max, cut, js, err)
				}
				p := pieces[i]
				if len(p) > tt.max {
					t.Fatalf("max %d, cut %d: piece %q longer than MaxLine", tt.max, cut, p)
				}
				line = append(line, p...)
				lp = append(lp, p)
				desc = append(desc, string(p))
				if v.Partial {
					continue
				}
				if tt.max >= 4 && utf8.Valid(line) {
					for _, p := range lp {
						if !utf8.Valid(p) {
							t.Fatalf("max %d, cut %d: piece %q of %q splits a rune", tt.max, cut, p, line)
						}
					}
				}
				got = append(got, string(line))
				line, lp = line[:0], lp[:0]
				desc = append(desc, "|")
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", lines) {
				t.Fatalf("max %d, cut %d: lines %q, want %q", tt.max, cut, got, lines)
			}
			if tt.want != "" {
				d := strings.ReplaceAll(strings.ReplaceAll(strings.Join(desc, ","), ",|,", "|"), ",|", "")
				if d != tt.want {
					t.Fatalf("max %d, cut %d: pieces %q, want %q", tt.max, cut, d, tt.want)
				}
			}
		}
	}
}

// A progress bar that only ever writes '\r' keeps the buffers bounded.
func TestLineWriter_carriageReturnsBounded(t *testing.T) {
	const maxLine = 4096
	var chunk []byte
	for i := 0; len(chunk) < readBufSize-16; i++ {
		chunk = fmt.Appendf(chunk, "\rprogress %d%%", i%100)
	}
	for _, tt := range []struct {
		format Format
		hook   bool
		size   int // bytes per Write
	}{
		{FormatText, true, len(chunk)}, {FormatText, false, 1000},
		{FormatJSON, true, len(chunk)}, {FormatJSON, false, 1000},
		{FormatRaw, true, len(chunk)}, {FormatRaw, false, len(chunk)}, {FormatRaw, false, 1000},
	} {
		var delivered int
		o := Options{Format: tt.format, MaxLine: maxLine}
		if tt.hook {
			o.OnLine = func(_ Stream, l []byte) { delivered += len(l) }
		}
		var out countWriter
		w := newTestLineWriter(&out, o)
		var maxCarry, maxOut int
		const total = 32 << 20
		for n := 0; n < total; n += tt.size {
			w.Write(chunk[:tt.size])
			maxCarry, maxOut = max(maxCarry, cap(w.carry)), max(maxOut, cap(w.out))
		}
		w.Close()
		want := (total + tt.size - 1) / tt.size * tt.size
		if tt.hook && delivered != want || out.n < want || tt.format == FormatRaw && out.n != want {
			t.Errorf("%+v: OnLine saw %d bytes, %d written; want %d", tt, delivered, out.n, want)
		}
		if maxCarry > maxLine+1 {
			t.Errorf("%+v: carry grew to %d bytes, want at most MaxLine+1 = %d", tt, maxCarry, maxLine+1)
		}
		// JSON escapes '\r' as 2 bytes; allow for the prefixes and growth.
		if limit := 4 * (len(chunk) + maxLine); maxOut > limit {
			t.Errorf("%+v: output buffer grew to %d bytes, want at most %d", tt, maxOut, limit)
		}
	}
}

func TestOptions_withDefaults_maxLine(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{0, DefaultMaxLine}, {1, 1}, {4 << 20, 4 << 20}} {
		o, err := Options{Path: "/bin/true", MaxLine: tt.in}.withDefaults()
		if err != nil || o.MaxLine != tt.want {
			t.Errorf("MaxLine %d: got %d, %v; want %d", tt.in, o.MaxLine, err, tt.want)
		}
	}
	if _, err := (Options{Path: "/bin/true", MaxLine: -1}).withDefaults(); err == nil {
		t.Error("MaxLine -1: no error")
	}
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

// pieceChecker checks text output made of pieces "helper | xxx…\n" and counts
// the program's bytes in them. It is written by one goroutine.
type pieceChecker struct {
	prefix       string
	bytes, lines int
	longest      int
	bad          string
}

func (c *pieceChecker) Write(p []byte) (int, error) {
	n := len(p)
	if c.prefix == "" { // raw
		if i := bytes.IndexFunc(p, func(r rune) bool { return r != 'x' }); i >= 0 && c.bad == "" {
			c.bad = fmt.Sprintf("byte %q in raw output", p[i])
		}
		c.bytes += n
		return n, nil
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if c.bad == "" {
				c.bad = "a Write that does not end with a newline"
			}
			return n, nil
		}
		l := p[:i]
		p = p[i+1:]
		body, ok := bytes.CutPrefix(l, []byte(c.prefix))
		if !ok || bytes.ContainsFunc(body, func(r rune) bool { return r != 'x' }) {
			if c.bad == "" {
				c.bad = fmt.Sprintf("line %q… is not %q followed by x", l[:min(len(l), 20)], c.prefix)
			}
		}
		c.bytes += len(body)
		c.lines++
		c.longest = max(c.longest, len(body))
	}
	return n, nil
}

// A program that writes 64 MiB without a newline: every byte is delivered,
// in pieces of MaxLine bytes, and the carried line never outgrows MaxLine.
func TestSupervisor_Run_endlessLine(t *testing.T) {
	t.Parallel()
	const total = 64 << 20
	for _, tt := range []struct {
		name   string
		format Format
		prefix string
	}{
		{"text", FormatText, "helper | "},
		{"raw", FormatRaw, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := helperOptions(t, "nonl", fmt.Sprint(total))
			c := &pieceChecker{prefix: tt.prefix}
			o.Stdout, o.Format = c, tt.format
			var s *Supervisor
			var pieces, maxCarry int
			o.OnLine = func(_ Stream, l []byte) {
				// Called from the stdout reader, which owns the line writer.
				pieces++
				maxCarry = max(maxCarry, cap(s.pumps.out.carry))
			}
			s = mustNew(t, o)
			if st := run(t, s); st.ExitCode() != 0 {
				t.Fatalf("status = %+v, want exit 0", st)
			}
			if c.bad != "" {
				t.Fatal(c.bad)
			}
			if c.bytes != total {
				t.Errorf("%d bytes delivered, want %d", c.bytes, total)
			}
			if want := total / DefaultMaxLine; pieces != want {
				t.Errorf("OnLine saw %d pieces, want %d", pieces, want)
			}
			if tt.prefix != "" && (c.lines != total/DefaultMaxLine || c.longest != DefaultMaxLine) {
				t.Errorf("%d lines, longest %d bytes; want %d lines of %d bytes", c.lines, c.longest, total/DefaultMaxLine, DefaultMaxLine)
			}
			if maxCarry > DefaultMaxLine+1 {
				t.Errorf("carried line grew to %d bytes, want at most MaxLine+1", maxCarry)
			}
		})
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{
		"", "plain", "quote\" back\\slash", "\x00\x01\x1f\t\r\n", "héllo ✓ 😀",
		"bad \xff utf8 \xc3", "line\u2028sep\u2029", "<html>&",
	} {
		got := appendJSONString(nil, []byte(s))
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: invalid JSON: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s) // encoding/json's reading of the same bytes
		var wantBack string
		json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("appendJSONString(%q) decodes to %q, want %q", s, back, wantBack)
		}
	}
}

// BenchmarkLineWriter measures formatting of short lines, read in 64 KiB
// chunks as from a pipe, into a discarding destination.
func BenchmarkLineWriter(b *testing.B) { benchmarkLineWriter(b, nil) }

// BenchmarkLineWriter_LogFile is BenchmarkLineWriter with the log-file
// records written too (to io.Discard): the cost of Options.LogFile.
func BenchmarkLineWriter_LogFile(b *testing.B) { benchmarkLineWriter(b, io.Discard) }

func benchmarkLineWriter(b *testing.B, logFile io.Writer) {
	var chunk []byte
	for i := 0; len(chunk) < readBufSize-32; i++ {
		chunk = fmt.Appendf(chunk, "line %d of the benchmark\n", i)
	}
	lines := bytes.Count(chunk, []byte("\n"))
	for _, f := range []struct {
		name string
		o    Options
	}{
		{"text", Options{}},
		{"timestamps", Options{Timestamps: true}},
		{"json", Options{Format: FormatJSON}},
		{"raw", Options{Format: FormatRaw}},
	} {
		b.Run(f.name, func(b *testing.B) {
			f.o.LogFile = logFile
			w := newTestLineWriter(io.Discard, f.o)
			b.SetBytes(int64(len(chunk)))
			b.ReportAllocs()
			for b.Loop() {
				w.Write(chunk)
			}
			b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// Names are padded to NameWidth and coloured with NameColor; JSON lines
// carry Function.
func TestLineWriter_systemPrefix(t *testing.T) {
	var r recorder
	w := newTestLineWriter(&r, Options{Name: "api", NameWidth: 6, NameColor: "\x1b[33m", ColorStderr: true})
	w.Write([]byte("x\n"))
	if got, want := r.all(), "\x1b[33mapi\x1b[0m    | x\n"; got != want {
		t.Errorf("text: got %q, want %q", got, want)
	}
	var j recorder
	w = newTestLineWriter(&j, Options{Name: "api.2", Function: "api", Format: FormatJSON})
	w.Write([]byte("x\n"))
	if got := j.all(); !strings.Contains(got, `"name":"api.2","function":"api","stream"`) {
		t.Errorf("json: got %s, want name, function and stream", got)
	}
}
