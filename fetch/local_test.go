package fetch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFetcher_Fetch_local(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "module example.com/local\n\ngo 1.21\n")
	writeFile(t, filepath.Join(root, "cmd", "fn", "main.go"), "package main\n\nfunc main() {}\n")
	cacheDir := filepath.Join(t.TempDir(), "cache")
	f := newFetcher(t, cacheDir, nil, false)

	for _, tt := range []struct{ dir, wantImport string }{
		{root, "example.com/local"},
		{filepath.Join(root, "cmd", "fn"), "example.com/local/cmd/fn"},
		{filepath.Join(root, "cmd", "fn") + "/../fn/", "example.com/local/cmd/fn"},
	} {
		co, err := f.Fetch(context.Background(), Source{Kind: KindLocal, Raw: tt.dir, Dir: tt.dir})
		if err != nil {
			t.Fatalf("Fetch(%s): %v", tt.dir, err)
		}
		if co.ModuleDir != root || co.PackageDir != filepath.Clean(tt.dir) || co.ImportPath != tt.wantImport || co.Identity != "" || co.BuildFlags != nil {
			t.Errorf("Fetch(%s) = %+v, want module %s, import %s, no identity", tt.dir, co, root, tt.wantImport)
		}
	}

	// Relative paths are resolved by Parse against the working directory.
	wd, _ := os.Getwd()
	co := fetch(t, f, "./testdata/..")
	if co.PackageDir != wd || !strings.HasSuffix(co.ImportPath, "/fetch") {
		t.Errorf("Fetch(./testdata/..) = %+v, want package dir %s", co, wd)
	}
	if _, err := os.Stat(cacheDir); !os.IsNotExist(err) {
		t.Errorf("local fetch created the cache directory %s (err %v)", cacheDir, err)
	}
}

func TestFetcher_Fetch_localErrors(t *testing.T) {
	noMod := t.TempDir()
	file := filepath.Join(noMod, "file.go")
	writeFile(t, file, "package x\n")
	cacheDir := filepath.Join(t.TempDir(), "cache")
	f := newFetcher(t, cacheDir, nil, false)
	for _, tt := range []struct{ source, want string }{
		{filepath.Join(noMod, "missing"), "no such file or directory"},
		{file, "not a directory"},
		{noMod, "no go.mod found in " + noMod + " or any parent"},
		{"../../../../../../../../../../../../etc/nonexistent-fnrun", "no such file"},
	} {
		_, err := f.Fetch(context.Background(), mustParse(t, tt.source))
		var fe *Error
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "fetch "+tt.source+": ") {
			t.Errorf("Fetch(%s) = %v, want *Error containing %q", tt.source, err, tt.want)
		}
	}
	if _, err := os.Stat(cacheDir); !os.IsNotExist(err) {
		t.Errorf("local fetch created the cache directory %s (err %v)", cacheDir, err)
	}
}
