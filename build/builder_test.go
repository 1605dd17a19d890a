package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

func TestBuilder_Build_CacheHitRunsNoGo(t *testing.T) {
	t.Parallel()
	path, log := pathWithGo(t)
	root := filepath.Join(t.TempDir(), "cache")
	mod := helloModule(t, "hello")
	req := Request{ModuleDir: mod, PackageDir: mod, Source: "./hello"}

	var progress []string
	b := newBuilder(t, root, testEnv(path), func(o *Options) {
		o.Progress = func(m string) { progress = append(progress, m) }
	})
	first := mustBuild(t, b, req)
	if first.CacheHit {
		t.Error("first build: CacheHit = true, want false")
	}
	if got, want := filepath.Base(first.Path), "hello"; got != want {
		t.Errorf("binary name = %q, want %q", got, want)
	}
	if got, want := runBinary(t, first.Path), "hello"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
	if got, want := goRuns(t, log, "build"), 1; got != want {
		t.Errorf("go build ran %d times, want %d", got, want)
	}
	if len(progress) != 1 || progress[0] != "building example.com/hello" {
		t.Errorf("progress = %q, want [building example.com/hello]", progress)
	}
	logBefore, _ := os.ReadFile(log)

	// Same builder, and a fresh one (no in-memory state): hits, no go command.
	for _, b := range []*Builder{b, newBuilder(t, root, testEnv(path), nil)} {
		res := mustBuild(t, b, req)
		if !res.CacheHit || res.Path != first.Path || res.Key != first.Key {
			t.Errorf("second build = %+v, want a hit on %s", res, first.Path)
		}
	}
	if logAfter, _ := os.ReadFile(log); string(logAfter) != string(logBefore) {
		t.Errorf("go ran on a cache hit: log %q → %q", logBefore, logAfter)
	}

	// No go on PATH at all: still a hit, from the recorded toolchain facts.
	noGo := newBuilder(t, root, testEnv(t.TempDir()), nil)
	res := mustBuild(t, noGo, req)
	if !res.CacheHit || res.Path != first.Path {
		t.Errorf("build without go = %+v, want a hit on %s", res, first.Path)
	}

	// Everything fnrun created is private.
	for _, dir := range []string{root, filepath.Join(root, cache.BinDir), filepath.Dir(first.Path),
		filepath.Join(root, cache.FingerDir), filepath.Join(root, cache.ToolchainDir)} {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fi.Mode().Perm(), os.FileMode(0o700); got != want {
			t.Errorf("mode of %s = %v, want %v", dir, got, want)
		}
	}
	if tmp, _ := os.ReadDir(filepath.Join(root, cache.TmpDir)); len(tmp) != 0 {
		t.Errorf("tmp has %d entries after a build, want 0", len(tmp))
	}
}

func TestBuilder_Build_Rebuilds(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	root := t.TempDir()
	work := t.TempDir()
	mod := filepath.Join(work, "fn")
	lib := filepath.Join(work, "lib")
	writeFiles(t, mod, map[string]string{
		"go.mod": "module example.com/fn\n\ngo 1.22\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ../lib\n",
		"cmd/fn/main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/lib\"\n)\n\n" +
			"func main() { fmt.Println(msg, lib.Msg) }\n",
		"cmd/fn/msg.go":       "package main\n\nconst msg = \"one\"\n",
		"cmd/fn/main_test.go": "package main\n",
		"README.md":           "# fn\n",
	})
	writeFiles(t, lib, map[string]string{
		"go.mod": "module example.com/lib\n\ngo 1.22\n",
		"lib.go": "package lib\n\nconst Msg = \"a\"\n",
	})
	pkg := filepath.Join(mod, "cmd", "fn")
	req := Request{ModuleDir: mod, PackageDir: pkg}
	b := newBuilder(t, root, testEnv(path), nil)

	res := mustBuild(t, b, req)
	if got, want := runBinary(t, res.Path), "one a"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
	key := res.Key

	// Not build inputs: the key stays.
	writeFiles(t, mod, map[string]string{"README.md": "# fn, edited\n", "cmd/fn/main_test.go": "package main\n\n// edited\n"})
	if got := mustKey(t, b, req); got != key {
		t.Errorf("key changed after editing README.md and a _test.go file")
	}
	now := time.Now().Add(time.Second)
	if err := os.Chtimes(filepath.Join(pkg, "msg.go"), now, now); err != nil {
		t.Fatal(err)
	}
	if got := mustKey(t, b, req); got != key {
		t.Errorf("key changed after touching msg.go")
	}
	if got := mustKey(t, newBuilder(t, root, testEnv(path), func(o *Options) { o.Tags = "extra" }), req); got == key {
		t.Errorf("key unchanged with Tags set")
	}

	// Build inputs: a rebuild with the new behaviour.
	writeFiles(t, pkg, map[string]string{"msg.go": "package main\n\nconst msg = \"two\"\n"})
	res2 := mustBuild(t, b, req)
	if res2.Key == key || res2.CacheHit {
		t.Errorf("editing msg.go: key changed %v, hit %v; want a new key and a build", res2.Key != key, res2.CacheHit)
	}
	if got, want := runBinary(t, res2.Path), "two a"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
	writeFiles(t, lib, map[string]string{"lib.go": "package lib\n\nconst Msg = \"b\"\n"})
	res3 := mustBuild(t, b, req)
	if res3.Key == res2.Key || res3.CacheHit {
		t.Errorf("editing the replace target: key changed %v, hit %v; want a new key and a build", res3.Key != res2.Key, res3.CacheHit)
	}
	if got, want := runBinary(t, res3.Path), "two b"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
	// The old entry is still there: going back is a hit.
	writeFiles(t, pkg, map[string]string{"msg.go": "package main\n\nconst msg = \"one\"\n"})
	writeFiles(t, lib, map[string]string{"lib.go": "package lib\n\nconst Msg = \"a\"\n"})
	if res := mustBuild(t, b, req); !res.CacheHit || res.Key != key {
		t.Errorf("reverting the edits: hit %v, same key %v; want both", res.CacheHit, res.Key == key)
	}
}

func TestBuilder_Build_Concurrent(t *testing.T) {
	t.Parallel()
	path, log := pathWithGo(t)
	root := t.TempDir()
	mod := helloModule(t, "together")
	req := Request{ModuleDir: mod, PackageDir: mod}
	const n = 4
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		b := newBuilder(t, root, testEnv(path), nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = b.Build(context.Background(), req)
		}()
	}
	wg.Wait()
	hits := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("build %d: %v", i, errs[i])
		}
		if results[i].Path != results[0].Path {
			t.Errorf("build %d path = %s, want %s", i, results[i].Path, results[0].Path)
		}
		if results[i].CacheHit {
			hits++
		}
	}
	if got, want := goRuns(t, log, "build"), 1; got != want {
		t.Errorf("go build ran %d times, want %d", got, want)
	}
	if got, want := hits, n-1; got != want {
		t.Errorf("%d cache hits, want %d", got, want)
	}
	if got, want := runBinary(t, results[0].Path), "together"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestBuilder_Key_RemoteIdentity(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	mod := helloModule(t, "v1")
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	req := Request{ModuleDir: mod, Identity: "module example.com/hello v1.0.0 h1:abc="}
	key, manifest, err := b.Key(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, mod, map[string]string{"main.go": mainSrc("changed")})
	if got := mustKey(t, b, req); got != key {
		t.Error("remote key changed with the tree; want it to depend on Identity only")
	}
	req.Identity = "module example.com/hello v1.0.1 h1:def="
	if got := mustKey(t, b, req); got == key {
		t.Error("remote key unchanged with another Identity")
	}
	for _, want := range []string{manifestVersion + "\n", "goversion \"go1.", "goos ", "goarch ", "cgo_enabled ",
		"gowork \"off\"", "package \"example.com/hello\"", "identity \"module example.com/hello v1.0.0 h1:abc=\""} {
		if !strings.Contains(manifest, want) {
			t.Errorf("manifest lacks %q:\n%s", want, manifest)
		}
	}
}

// TestBuilder_Key_Fingerprint shows the stat fingerprint is trusted: content
// changed behind an identical stat is not rehashed.
func TestBuilder_Key_Fingerprint(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	root := t.TempDir()
	mod := helloModule(t, "aaaa")
	main := filepath.Join(mod, "main.go")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(main, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(mod, "go.mod"), old, old); err != nil {
		t.Fatal(err)
	}
	b := newBuilder(t, root, testEnv(path), nil)
	req := Request{ModuleDir: mod}
	key := mustKey(t, b, req)
	if fps, _ := os.ReadDir(filepath.Join(root, cache.FingerDir)); len(fps) != 1 {
		t.Fatalf("%d fingerprint records, want 1", len(fps))
	}
	// Same size, same inode (written in place), same mtime: the fingerprint hits.
	if err := os.WriteFile(main, []byte(mainSrc("bbbb")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(main, old, old); err != nil {
		t.Fatal(err)
	}
	if got := mustKey(t, b, req); got != key {
		t.Error("key changed although the stat fingerprint is unchanged")
	}
	// A new mtime makes it rehash.
	now := time.Now()
	if err := os.Chtimes(main, now, now); err != nil {
		t.Fatal(err)
	}
	if got := mustKey(t, b, req); got == key {
		t.Error("key unchanged after content and mtime changed")
	}
}

func TestNew_RefusesOutputFlags(t *testing.T) {
	for _, f := range []string{"-o", "-o=x", "--o=x", "-C", "-C=dir"} {
		if _, err := New(Options{CacheDir: t.TempDir(), BuildFlags: []string{f}}); err == nil {
			t.Errorf("New with build flag %q: no error", f)
		}
	}
	if _, err := New(Options{CacheDir: t.TempDir(), BuildFlags: []string{"-gcflags", "all=-N -l", "-v"}}); err != nil {
		t.Errorf("New with ordinary flags: %v", err)
	}
}

func TestBuilder_Build_ReplacesIncompleteEntry(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	root := t.TempDir()
	mod := helloModule(t, "fixed")
	b := newBuilder(t, root, testEnv(path), nil)
	req := Request{ModuleDir: mod}
	key := mustKey(t, b, req)
	writeFiles(t, entryDir(root, key), map[string]string{"junk": "x"})
	res := mustBuild(t, b, req)
	if res.CacheHit {
		t.Error("CacheHit = true for an entry without its binary")
	}
	if got, want := runBinary(t, res.Path), "fixed"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}
