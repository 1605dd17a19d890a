package fetch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestFetcher_Fetch_moduleTreeImmutable: a published checkout is complete
// and read-only; building it (twice, once offline) writes nothing into it.
func TestFetcher_Fetch_moduleTreeImmutable(t *testing.T) {
	env := testEnv(t, startProxy(t, filepath.Join("testdata", "mod")))
	offline := setenv(env, "GOPROXY", "off") // same module cache
	f := newFetcher(t, t.TempDir(), env, false)
	for _, tt := range []struct{ source, want string }{
		{"example.com/nosum", "original"},            // no go.sum at all
		{"example.com/withreplace@v1.0.0", "forked"}, // go.sum without the fork
	} {
		t.Run(tt.source, func(t *testing.T) {
			co := fetch(t, f, tt.source)
			if want := []string{"-mod=readonly", "-buildvcs=false"}; !reflect.DeepEqual(co.BuildFlags, want) {
				t.Errorf("BuildFlags = %q, want %q", co.BuildFlags, want)
			}
			if _, err := os.Stat(filepath.Join(co.ModuleDir, "go.sum")); err != nil {
				t.Errorf("go.sum not completed before publishing: %v", err)
			}
			before, err := hashTree(co.ModuleDir)
			if err != nil {
				t.Fatal(err)
			}
			filepath.WalkDir(co.ModuleDir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					if info, err := d.Info(); err == nil && info.Mode().Perm()&0o222 != 0 {
						t.Errorf("%s is writable: %v", p, info.Mode())
					}
				}
				if err == nil && d.IsDir() {
					if info, err := d.Info(); err == nil && info.Mode().Perm()&0o022 != 0 {
						t.Errorf("%s is writable by group or others: %v", p, info.Mode())
					}
				}
				return nil
			})
			// env has GOFLAGS=-mod=mod: BuildFlags must win over it.
			if got := goBuildRun(t, co, env); got != tt.want {
				t.Errorf("output = %q, want %q", got, tt.want)
			}
			if got := goBuildRun(t, co, offline); got != tt.want {
				t.Errorf("offline rebuild output = %q, want %q", got, tt.want)
			}
			after, err := hashTree(co.ModuleDir)
			if err != nil {
				t.Fatal(err)
			}
			if after != before {
				t.Errorf("the build changed the published tree %s", co.ModuleDir)
			}
		})
	}
}

// TestFetcher_Fetch_moduleMissingDependency: a dependency that cannot be
// downloaded fails the fetch, and nothing is published.
func TestFetcher_Fetch_moduleMissingDependency(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "mod", "example.com_nosum_v1.0.0.txt"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "example.com_nosum_v1.0.0.txt"), string(data)) // without example.com/dep
	cacheDir := t.TempDir()
	f := newFetcher(t, cacheDir, testEnv(t, startProxy(t, dir)), false)
	_, err = f.Fetch(t.Context(), mustParse(t, "example.com/nosum"))
	var fe *Error
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "example.com/dep@v1.0.0: reading") || fe.Output == "" {
		t.Fatalf("err = %v, want *Error naming example.com/dep with the go command's output", err)
	}
	t.Logf("%v\n%s", err, fe.Output)
	if entries, _ := os.ReadDir(filepath.Join(cacheDir, "src")); len(entries) != 0 {
		t.Errorf("src has %d entries, want none", len(entries))
	}
}
