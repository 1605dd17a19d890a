package fn

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	got := MergeEnv([]string{"A=1", "B=2"}, []string{"B=3", "C=4", "A=5"})
	want := []string{"A=5", "B=3", "C=4"}
	if !slices.Equal(got, want) {
		t.Errorf("MergeEnv = %q, want %q", got, want)
	}
}

func TestReadEnvFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "env")
	os.WriteFile(p, []byte("# c\n\nA=1\nexport B=\"two words\"\nC='x'\n"), 0o600)
	got, err := ReadEnvFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=1", "B=two words", "C=x"}; !slices.Equal(got, want) {
		t.Errorf("ReadEnvFile = %q, want %q", got, want)
	}
	os.WriteFile(p, []byte("A=1\nnot a pair\n"), 0o600)
	if _, err := ReadEnvFile(p); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("ReadEnvFile of a bad line: err = %v, want one naming line 2", err)
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
		kvs, err := ReadEnvFile(p)
		if err != nil {
			return
		}
		for _, kv := range kvs {
			if err := CheckKV(kv); err != nil {
				t.Errorf("accepted %q: %v", kv, err)
			}
		}
	})
}
