package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"
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
	line := bytes.Repeat([]byte("y"), 3<<20)
	for i := 0; i < len(line); i += 1000 {
		w.Write(line[i:min(i+1000, len(line))])
	}
	w.Write([]byte("\n"))
	if len(r.writes) != 1 || r.writes[0] != "fn | "+string(line)+"\n" {
		t.Errorf("got %d writes, want the whole line in one", len(r.writes))
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
func BenchmarkLineWriter(b *testing.B) {
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
