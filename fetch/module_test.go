package fetch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFetcher_Fetch_module(t *testing.T) {
	proxy := startProxy(t, filepath.Join("testdata", "mod"))
	env := testEnv(t, proxy)
	cacheDir := t.TempDir()
	f := newFetcher(t, cacheDir, env, false)

	tests := []struct {
		source, wantVersion, wantImport, wantOutput string
	}{
		{"example.com/fn", "v1.1.0", "example.com/fn", "fn v1.1.0"},
		{"example.com/fn@latest", "v1.1.0", "example.com/fn", "fn v1.1.0"},
		{"example.com/fn@v1.0.0", "v1.0.0", "example.com/fn", "fn v1.0.0"},
		{"example.com/fn@v1.2.0-rc.1", "v1.2.0-rc.1", "example.com/fn", "fn v1.2.0-rc.1"},
		{"example.com/fn/cmd/hello@v1.0.0", "v1.0.0", "example.com/fn/cmd/hello", "hello v1.0.0"},
		{"example.com/fn/cmd/hello", "v1.1.0", "example.com/fn/cmd/hello", "hello v1.1.0"},
		{"example.com/pseudo@v0.0.0-20240102030405-0123456789ab", "v0.0.0-20240102030405-0123456789ab", "example.com/pseudo", "pseudo"},
		{"example.com/pseudo@0123456789ab", "v0.0.0-20240102030405-0123456789ab", "example.com/pseudo", "pseudo"},
		{"example.com/withreplace@v1.0.0", "v1.0.0", "example.com/withreplace", "forked"},
		{"example.com/nosum", "v1.0.0", "example.com/nosum", "original"},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			co := fetch(t, f, tt.source)
			if co.Version != tt.wantVersion {
				t.Errorf("Version = %q, want %q", co.Version, tt.wantVersion)
			}
			if co.ImportPath != tt.wantImport {
				t.Errorf("ImportPath = %q, want %q", co.ImportPath, tt.wantImport)
			}
			mod, _, _ := strings.Cut(tt.wantImport, "/cmd/")
			if want := "module " + mod + " " + tt.wantVersion + " h1:"; !strings.HasPrefix(co.Identity, want) {
				t.Errorf("Identity = %q, want prefix %q", co.Identity, want)
			}
			if !strings.HasPrefix(co.PackageDir, co.ModuleDir) || !strings.HasPrefix(co.ModuleDir, cacheDir) {
				t.Errorf("ModuleDir %q, PackageDir %q: want package inside module inside cache %q", co.ModuleDir, co.PackageDir, cacheDir)
			}
			if got := goBuildRun(t, co, env); got != tt.wantOutput {
				t.Errorf("program output = %q, want %q", got, tt.wantOutput)
			}
		})
	}
}

func TestFetcher_Fetch_moduleOffline(t *testing.T) {
	proxy := startProxy(t, filepath.Join("testdata", "mod"))
	env := testEnv(t, proxy)
	cacheDir := t.TempDir()
	for _, s := range []string{"example.com/fn", "example.com/fn/cmd/hello@v1.0.0", "example.com/pseudo@0123456789ab"} {
		first := fetch(t, newFetcher(t, cacheDir, env, false), s)
		// Offline, with a private module cache that is empty: the
		// remembered resolution and the checkout are enough.
		offline := setenv(testEnv(t, ""), "GOPROXY", "off")
		second := fetch(t, newFetcher(t, cacheDir, offline, false), s)
		if !reflect.DeepEqual(second, first) {
			t.Errorf("%s offline: got %+v, want %+v", s, second, first)
		}
	}
}

func TestFetcher_Fetch_moduleUpdate(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"example.com_fn_v1.0.0.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", "mod", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), string(data))
	}
	env := testEnv(t, startProxy(t, dir))
	cacheDir := t.TempDir()
	first := fetch(t, newFetcher(t, cacheDir, env, false), "example.com/fn")
	if first.Version != "v1.0.0" {
		t.Fatalf("Version = %q, want v1.0.0", first.Version)
	}

	// A new release: remembered until an update is asked for.
	env2 := testEnv(t, startProxy(t, filepath.Join("testdata", "mod")))
	if co := fetch(t, newFetcher(t, cacheDir, env2, false), "example.com/fn"); co.Version != "v1.0.0" {
		t.Errorf("without update: Version = %q, want v1.0.0", co.Version)
	}
	co := fetch(t, newFetcher(t, cacheDir, env2, true), "example.com/fn")
	if co.Version != "v1.1.0" || co.Stale {
		t.Errorf("update: Version = %q, Stale = %v, want v1.1.0, false", co.Version, co.Stale)
	}

	// A failed update keeps the previous checkout.
	offline := setenv(env2, "GOPROXY", "off")
	co = fetch(t, newFetcher(t, cacheDir, offline, true), "example.com/fn")
	if co.Version != "v1.1.0" || !co.Stale || co.UpdateErr == nil {
		t.Errorf("failed update: Version = %q, Stale = %v, UpdateErr = %v; want v1.1.0, true, an error", co.Version, co.Stale, co.UpdateErr)
	}
}

func TestFetcher_Fetch_moduleErrors(t *testing.T) {
	env := testEnv(t, startProxy(t, filepath.Join("testdata", "mod")))
	f := newFetcher(t, t.TempDir(), env, false)
	tests := []struct{ source, want string }{
		{"example.com/nosuch", "example.com/nosuch"},
		{"example.com/fn@v9.9.9", "v9.9.9"},
		{"example.com/fn/nopkg@v1.0.0", "does not contain package example.com/fn/nopkg"},
		{"example.com/fn@nobranch", "nobranch"},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), mustParse(t, tt.source))
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "fetch "+tt.source+": ") || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("err = %q, want one line starting %q containing %q", msg, "fetch "+tt.source+": ", tt.want)
			}
			t.Logf("%v", err)
		})
	}
	offline := newFetcher(t, t.TempDir(), setenv(env, "GOPROXY", "off"), false)
	_, err := offline.Fetch(context.Background(), mustParse(t, "example.com/fn"))
	if err == nil || !strings.Contains(err.Error(), "GOPROXY=off") {
		t.Errorf("offline err = %v, want GOPROXY=off", err)
	}
}
