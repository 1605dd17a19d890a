package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"github.com/fnrun/fnrun/runner"
)

// TestMain_endlessLine: a program that writes 64 MiB without a newline has
// every byte delivered, in pieces of runner.DefaultMaxLine bytes, while fnrun
// itself stays small (before lines were bounded, it held the whole line,
// and a copy of it, in memory: 300 MiB).
func TestMain_endlessLine(t *testing.T) {
	if _, err := exec.LookPath("dd"); err != nil {
		t.Skip("no dd in PATH")
	}
	const (
		total   = 64 << 20
		ddBlock = 1 << 20
		maxRSS  = 64 << 10 // KiB
		maxGrow = 32 << 10 // KiB over the RSS of an fnrun whose program prints nothing
	)
	// The race detector's shadow memory makes even an idle fnrun weigh
	// 40 MiB: with -race only the growth is checked.
	race := false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			race = race || s.Key == "-race" && s.Value == "true"
		}
	}
	_, _, idle := runFnrunRSS(t, []string{"exec", "-q", "--", "dd", "if=/dev/zero", "bs=1", "count=0"}, []byte{0})
	pieces := total / runner.DefaultMaxLine
	for _, tt := range []struct {
		name  string
		flags []string
		piece []byte // the expected output for each piece of the line
	}{
		{"text", nil, append(append([]byte("dd | "), make([]byte, runner.DefaultMaxLine)...), '\n')},
		{"raw", []string{"--no-prefix"}, make([]byte, runner.DefaultMaxLine)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"exec", "-q"}, tt.flags...)
			args = append(args, "--", "dd", "if=/dev/zero", fmt.Sprintf("bs=%d", ddBlock), fmt.Sprintf("count=%d", total/ddBlock))
			n, bad, rss := runFnrunRSS(t, args, tt.piece)
			if bad >= 0 {
				t.Errorf("output byte %d is not what the pieces of the line should give there", bad)
			}
			// The line is the program's 64 MiB, plus per piece the prefix
			// and newline of the text format (none in raw).
			if want := int64(pieces * len(tt.piece)); n != want {
				t.Errorf("fnrun wrote %d bytes to stdout, want %d (%d pieces of %d bytes)", n, want, pieces, len(tt.piece))
			}
			if rss < 0 {
				return
			}
			t.Logf("fnrun peak RSS %d KiB (%d KiB when the program prints nothing)", rss, idle)
			if !race && rss >= maxRSS {
				t.Errorf("fnrun peak RSS = %d KiB, want under %d KiB", rss, maxRSS)
			}
			if rss-idle >= maxGrow {
				t.Errorf("fnrun peak RSS = %d KiB, %d KiB more than idle, want under %d KiB more", rss, rss-idle, maxGrow)
			}
		})
	}
}

// runFnrunRSS runs fnrun with args, checks that its stdout is unit repeated
// (see checkRepeated) and returns the bytes read, the first bad offset or -1,
// and fnrun's peak RSS in KiB (-1 where it is not known: Maxrss is in KiB on
// Linux only).
func runFnrunRSS(t *testing.T, args []string, unit []byte) (n, bad, rss int64) {
	t.Helper()
	cmd := exec.Command("fnrun", args...)
	cmd.Env = withoutFnrunEnv(os.Environ())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n, bad = checkRepeated(out, unit)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("fnrun %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	rss = -1
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && runtime.GOOS == "linux" {
		rss = ru.Maxrss
	}
	return n, bad, rss
}

// checkRepeated reads r to the end and checks that it is unit repeated. It
// returns the number of bytes read and the offset of the first byte that
// differs, or -1.
func checkRepeated(r io.Reader, unit []byte) (n int64, bad int64) {
	bad = -1
	buf := make([]byte, 64<<10)
	pos := 0 // offset in unit
	for {
		k, err := r.Read(buf)
		for b := buf[:k]; len(b) > 0 && bad < 0; {
			m := min(len(b), len(unit)-pos)
			if i := mismatch(b[:m], unit[pos:pos+m]); i >= 0 {
				bad = n + int64(k-len(b)+i)
			}
			b = b[m:]
			pos = (pos + m) % len(unit)
		}
		n += int64(k)
		if err != nil {
			return n, bad
		}
	}
}

// mismatch returns the index of the first byte where a and b differ, or -1.
func mismatch(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// withoutFnrunEnv drops FNRUN_* settings of the environment the tests run in.
func withoutFnrunEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "FNRUN_") {
			out = append(out, kv)
		}
	}
	return out
}
