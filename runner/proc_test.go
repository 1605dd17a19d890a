//go:build unix

package runner

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestStartProc_argv0 checks that a program sees its base name as argv[0]
// and its arguments unchanged, with and without the listen shim (which
// must still exec the full path).
func TestStartProc_argv0(t *testing.T) {
	for _, withShim := range []bool{false, true} {
		o := helperOptions(t, "args", "a b", "-c")
		if withShim {
			files, _, _ := testListeners(t)
			o.Listeners = []Listener{{File: files[0]}}
		}
		var lines []string
		o.OnLine = func(s Stream, l []byte) {
			if s == StreamStdout {
				lines = append(lines, string(l))
			}
		}
		if st := run(t, mustNew(t, o)); st.Code != 0 {
			t.Fatalf("shim %v: exit code %d", withShim, st.Code)
		}
		want := []string{filepath.Base(o.Path), "a b", "-c"}
		if !slices.Equal(lines, want) {
			t.Errorf("shim %v: program saw argv %q, want %q", withShim, lines, want)
		}
	}
}
