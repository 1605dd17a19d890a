package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"TERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT, "hup": syscall.SIGHUP, "9": syscall.SIGKILL, "USR1": syscall.SIGUSR1,
	} {
		got, err := parseSignal(in)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	// Unknown, out of range, and signals that cannot stop a program.
	for _, in := range []string{"", "BOGUS", "0", "65", "-1", "09", "1e1", "STOP", "19", "SIGCONT", "tstp", "17", "WINCH"} {
		if _, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) succeeded, want an error", in)
		}
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"A=1", "B=2"}, []string{"B=3", "C=4", "A=5"})
	want := []string{"A=5", "B=3", "C=4"}
	if !slices.Equal(got, want) {
		t.Errorf("mergeEnv = %q, want %q", got, want)
	}
}

func TestReadEnvFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "env")
	os.WriteFile(p, []byte("# c\n\nA=1\nexport B=\"two words\"\nC='x'\n"), 0o600)
	got, err := readEnvFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=1", "B=two words", "C=x"}; !slices.Equal(got, want) {
		t.Errorf("readEnvFile = %q, want %q", got, want)
	}
	os.WriteFile(p, []byte("A=1\nnot a pair\n"), 0o600)
	if _, err := readEnvFile(p); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("readEnvFile of a bad line: err = %v, want one naming line 2", err)
	}
}

// FuzzEnvFile: the env-file parser never panics, and what it accepts is a
// list of KEY=VALUE entries with a valid name.
func FuzzEnvFile(f *testing.F) {
	for _, s := range []string{"A=1\n", "export B=\"x\"\n# c\n", "=x", "A", "A=\x00", "'\n\"", "K='v"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(dir, "env")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Skip()
		}
		kvs, err := readEnvFile(p)
		if err != nil {
			return
		}
		for _, kv := range kvs {
			if err := checkKV(kv); err != nil {
				t.Errorf("accepted %q: %v", kv, err)
			}
		}
	})
}

// FuzzParseSignal: never panics; accepted signals are in range.
func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"TERM", "9", "SIGKILL", "", "-3", "999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := parseSignal(s)
		if err == nil && (sig <= 0 || sig > 64) {
			t.Errorf("parseSignal(%q) = %d", s, sig)
		}
	})
}
