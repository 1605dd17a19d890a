//go:build unix

package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSupervisor_Run_manyLinesOnBothStreams(t *testing.T) {
	t.Parallel()
	const n = 200000
	o := helperOptions(t, "lines", fmt.Sprint(n))
	var stdout, stderr bytes.Buffer // written by one goroutine each
	o.Stdout, o.Stderr = &stdout, &stderr
	run(t, mustNew(t, o))
	check := func(name string, buf *bytes.Buffer, tag string, first int) {
		t.Helper()
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != n/2 {
			t.Fatalf("%s: %d lines, want %d", name, len(lines), n/2)
		}
		for i, l := range lines {
			want := fmt.Sprintf("helper | %s %07d", tag, first+2*i)
			if l != want {
				t.Fatalf("%s line %d = %q, want %q", name, i, l, want)
			}
		}
	}
	check("stdout", &stdout, "out", 0)
	check("stderr", &stderr, "err", 1)
}

func TestSupervisor_Run_sameWriterLinesWhole(t *testing.T) {
	t.Parallel()
	const n = 20000
	o := helperOptions(t, "lines", fmt.Sprint(n))
	var w syncBuffer
	o.Stdout, o.Stderr = &w, &w
	run(t, mustNew(t, o))
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	seen := make(map[string]bool, n)
	for _, l := range lines {
		if len(l) != len("helper | out 0000000") || !strings.HasPrefix(l, "helper | ") {
			t.Fatalf("mangled line %q", l)
		}
		seen[l] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct lines, want %d", len(seen), n)
	}
}

func TestSupervisor_Run_bigLine(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "bigline")
	var stdout bytes.Buffer
	o.Stdout = &stdout
	o.Format = FormatRaw
	run(t, mustNew(t, o))
	want := strings.Repeat("x", 1<<20) + "\n"
	if got := stdout.String(); got != want {
		t.Errorf("got %d bytes, want one line of %d bytes", len(got), len(want))
	}
}

func TestSupervisor_Run_lastLineWithoutNewline(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		format Format
		want   string
	}{
		{FormatText, "helper | first\nhelper | last without newline\n"},
		{FormatRaw, "first\nlast without newline"},
	} {
		o := helperOptions(t, "nonewline")
		var stdout bytes.Buffer
		o.Stdout, o.Format = &stdout, tt.format
		run(t, mustNew(t, o))
		if got := stdout.String(); got != tt.want {
			t.Errorf("format %d: got %q, want %q", tt.format, got, tt.want)
		}
	}
}

func TestSupervisor_Run_outputBeforeCrash(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "crash")
	var stdout, stderr bytes.Buffer
	o.Stdout, o.Stderr = &stdout, &stderr
	st := run(t, mustNew(t, o))
	if st.ExitCode() != 137 {
		t.Errorf("ExitCode() = %d, want 137", st.ExitCode())
	}
	if got, want := stdout.String(), "helper | before crash\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if got, want := stderr.String(), "helper | dying words\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

func TestSupervisor_Run_jsonFormat(t *testing.T) {
	t.Parallel()
	o := helperOptions(t, "lines", "10")
	var w syncBuffer
	o.Stdout, o.Stderr, o.Format = &w, &w, FormatJSON
	run(t, mustNew(t, o))
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want 10", len(lines))
	}
	for _, l := range lines {
		var rec struct{ Time, Name, Stream, Line string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if _, err := time.Parse(time.RFC3339, rec.Time); err != nil {
			t.Errorf("time %q: %v", rec.Time, err)
		}
		wantStream := map[string]string{"out": "stdout", "err": "stderr"}[rec.Line[:3]]
		if rec.Name != "helper" || rec.Stream != wantStream {
			t.Errorf("record %+v, want name helper, stream %s", rec, wantStream)
		}
	}
}

// Color and ColorStderr colour the name on one stream each, so a redirected
// stream gets no escape codes when the other one is a terminal.
func TestSupervisor_Run_colorPerStream(t *testing.T) {
	t.Parallel()
	const colored = colorName + "helper" + colorReset + " | "
	for _, tt := range []struct {
		color, colorStderr bool
	}{{true, false}, {false, true}, {true, true}, {false, false}} {
		o := helperOptions(t, "lines", "4")
		var stdout, stderr bytes.Buffer
		o.Stdout, o.Stderr = &stdout, &stderr
		o.Color, o.ColorStderr = tt.color, tt.colorStderr
		run(t, mustNew(t, o))
		check := func(name string, buf *bytes.Buffer, tag string, first int, color bool) {
			t.Helper()
			prefix := "helper | "
			if color {
				prefix = colored
			}
			want := fmt.Sprintf("%s%s %07d\n%s%s %07d\n", prefix, tag, first, prefix, tag, first+2)
			if got := buf.String(); got != want {
				t.Errorf("Color=%v ColorStderr=%v: %s = %q, want %q", tt.color, tt.colorStderr, name, got, want)
			}
		}
		check("stdout", &stdout, "out", 0, tt.color)
		check("stderr", &stderr, "err", 1, tt.colorStderr)
	}
}
