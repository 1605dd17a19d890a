package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// waitTimeout bounds every wait for a Change; nothing asserts durations.
const waitTimeout = 5 * time.Second

// startWatcher creates a Watcher on root with opts and runs it until the
// test ends.
func startWatcher(t *testing.T, opts Options) *Watcher {
	t.Helper()
	w, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return w
}

// tempRoot returns a fresh directory with symbolic links resolved, so that
// it compares equal to the paths the watcher reports.
func tempRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func nextChange(t *testing.T, w *Watcher) Change {
	t.Helper()
	select {
	case c, ok := <-w.Changes():
		if !ok {
			t.Fatal("Changes closed")
		}
		return c
	case <-time.After(waitTimeout):
		t.Fatalf("no Change within %v", waitTimeout)
	}
	panic("unreachable")
}

// waitForPath reads Changes until one names p.
func waitForPath(t *testing.T, w *Watcher, p string) Change {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case c, ok := <-w.Changes():
			if !ok {
				t.Fatal("Changes closed")
			}
			if slices.Contains(c.Paths, p) {
				return c
			}
		case <-deadline:
			t.Fatalf("no Change naming %s within %v", p, waitTimeout)
		}
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// assertOnly receives the next Change and checks that it names exactly
// want: anything ignored or left over from an earlier burst would show up.
func assertOnly(t *testing.T, w *Watcher, want ...string) {
	t.Helper()
	c := nextChange(t, w)
	slices.Sort(want)
	if !slices.Equal(c.Paths, want) || c.Rescan || c.Truncated {
		t.Fatalf("got Change %+v, want Paths %v only", c, want)
	}
}

func assertWatched(t *testing.T, w *Watcher, dir string, want bool) {
	t.Helper()
	if got := slices.Contains(w.WatchedDirs(), dir); got != want {
		t.Errorf("%s watched = %v, want %v (watched: %v)", dir, got, want, w.WatchedDirs())
	}
}

func TestWatcher_Edit(t *testing.T) {
	root := tempRoot(t)
	main := filepath.Join(root, "main.go")
	writeFile(t, main, "package main\n")
	w := startWatcher(t, Options{Roots: []string{root}})

	writeFile(t, main, "package main // edited\n")
	assertOnly(t, w, main)
}

func TestWatcher_DebounceBurst(t *testing.T) {
	root := tempRoot(t)
	// A longer window than the default keeps the ten writes in one burst
	// even on a slow, race-instrumented machine.
	w := startWatcher(t, Options{Roots: []string{root}, Debounce: 300 * time.Millisecond})

	var want []string
	for i := range 10 {
		p := filepath.Join(root, fmt.Sprintf("f%d.go", i))
		writeFile(t, p, "package main\n")
		want = append(want, p)
	}
	assertOnly(t, w, want...)

	// A second Change for the burst would arrive before this one.
	sentinel := filepath.Join(root, "sentinel.go")
	writeFile(t, sentinel, "package main\n")
	assertOnly(t, w, sentinel)
}

// With Early, a burst is delivered at once and again when it ends; the end
// says whether anything happened after the early delivery.
func TestWatcher_Early(t *testing.T) {
	root := tempRoot(t)
	w := startWatcher(t, Options{Roots: []string{root}, Debounce: 300 * time.Millisecond, Early: 10 * time.Millisecond})
	a, b := filepath.Join(root, "a.go"), filepath.Join(root, "b.go")

	writeFile(t, a, "package main\n")
	if c := nextChange(t, w); !c.Early || !slices.Equal(c.Paths, []string{a}) {
		t.Fatalf("got Change %+v, want an Early one naming %s", c, a)
	}
	if c := nextChange(t, w); c.Early || c.More || !slices.Equal(c.Paths, []string{a}) {
		t.Fatalf("got Change %+v, want the burst's end naming %s, without More", c, a)
	}

	writeFile(t, a, "package main // edited\n")
	if c := nextChange(t, w); !c.Early {
		t.Fatalf("got Change %+v, want an Early one", c)
	}
	writeFile(t, b, "package main\n")
	if c := nextChange(t, w); c.Early || !c.More || !slices.Equal(c.Paths, []string{a, b}) {
		t.Fatalf("got Change %+v, want the burst's end with More naming %s and %s", c, a, b)
	}
}

func TestWatcher_NewNestedDir(t *testing.T) {
	root := tempRoot(t)
	w := startWatcher(t, Options{Roots: []string{root}})

	a, b := filepath.Join(root, "a"), filepath.Join(root, "a", "b")
	c := filepath.Join(b, "c.go")
	mkdirs(t, b)
	writeFile(t, c, "package b\n")
	waitForPath(t, w, c)
	assertWatched(t, w, a, true)
	assertWatched(t, w, b, true)

	// The new directory is watched: a later edit is seen.
	writeFile(t, c, "package b // edited\n")
	waitForPath(t, w, c)
}

func TestWatcher_RenamedDir(t *testing.T) {
	root := tempRoot(t)
	oldDir, newDir := filepath.Join(root, "old"), filepath.Join(root, "new")
	mkdirs(t, filepath.Join(oldDir, "sub"))
	w := startWatcher(t, Options{Roots: []string{root}})

	if err := os.Rename(oldDir, newDir); err != nil {
		t.Fatal(err)
	}
	waitForPath(t, w, newDir)
	assertWatched(t, w, newDir, true)
	assertWatched(t, w, filepath.Join(newDir, "sub"), true)
	assertWatched(t, w, oldDir, false)
	assertWatched(t, w, filepath.Join(oldDir, "sub"), false)

	p := filepath.Join(newDir, "sub", "x.go")
	writeFile(t, p, "package sub\n")
	assertOnly(t, w, p)
}

func TestWatcher_RemovedDir(t *testing.T) {
	root := tempRoot(t)
	d := filepath.Join(root, "d")
	mkdirs(t, filepath.Join(d, "e", "f"))
	writeFile(t, filepath.Join(d, "e", "f", "x.go"), "package f\n")
	w := startWatcher(t, Options{Roots: []string{root}})
	assertWatched(t, w, filepath.Join(d, "e", "f"), true)

	if err := os.RemoveAll(d); err != nil {
		t.Fatal(err)
	}
	waitForPath(t, w, d)
	for _, dir := range w.WatchedDirs() {
		if within(dir, d) {
			t.Errorf("%s still watched after removal", dir)
		}
	}
	assertWatched(t, w, root, true)
}

func TestWatcher_AtomicSave(t *testing.T) {
	root := tempRoot(t)
	main := filepath.Join(root, "main.go")
	writeFile(t, main, "package main\n")
	w := startWatcher(t, Options{Roots: []string{root}})

	// sed -i: write a temporary file in the same directory, rename it over.
	tmp := filepath.Join(root, "sedAb12Cd")
	writeFile(t, tmp, "package main // saved\n")
	if err := os.Rename(tmp, main); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, w, main)

	// vim with backupcopy=no: rename to main.go~, write new, remove backup.
	backup := main + "~"
	if err := os.Rename(main, backup); err != nil {
		t.Fatal(err)
	}
	writeFile(t, main, "package main // saved again\n")
	if err := os.Remove(backup); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, w, main)
}

func TestWatcher_RealSed(t *testing.T) {
	sed, err := exec.LookPath("sed")
	if err != nil {
		t.Skip("no sed in PATH")
	}
	root := tempRoot(t)
	main := filepath.Join(root, "main.go")
	writeFile(t, main, "package main // old\n")
	w := startWatcher(t, Options{Roots: []string{root}})

	if out, err := exec.Command(sed, "-i", "s/old/new/", main).CombinedOutput(); err != nil {
		t.Fatalf("sed -i: %v\n%s", err, out)
	}
	assertOnly(t, w, main)
}

func TestWatcher_Ignored(t *testing.T) {
	root := tempRoot(t)
	writeFile(t, filepath.Join(root, ".gitignore"), "/build/\n*.log\n/secret.go\n")
	writeFile(t, filepath.Join(root, "sub", ".gitignore"), "local/\n")
	for _, d := range []string{".git", ".cache", "vendor", "testdata", "gen", "build", "sub/local", "pkg/testdata"} {
		mkdirs(t, filepath.Join(root, d))
	}
	w := startWatcher(t, Options{Roots: []string{root}, Ignore: []string{"*.pb.go", "gen/**"}})
	for _, d := range []string{".git", ".cache", "vendor", "testdata", "gen", "build", "sub/local", "pkg/testdata"} {
		assertWatched(t, w, filepath.Join(root, d), false)
	}
	assertWatched(t, w, filepath.Join(root, "sub"), true)

	for _, p := range []string{
		".git/HEAD", ".hidden.go", ".cache/x", "vendor/m/x.go", "testdata/in.txt",
		"pkg/testdata/in.txt", "main.go~", "main.go.swp", "main.go.swx", "4913",
		"main.go___jb_tmp___", "main.go___jb_old___", "api.pb.go", "gen/g.go",
		"build/out", "run.log", "secret.go", "sub/local/x.go", "newvendor/vendor/x.go",
	} {
		writeFile(t, filepath.Join(root, filepath.FromSlash(p)), "x\n")
	}
	// newvendor is a real new directory; its vendor subdirectory is not.
	sentinel := filepath.Join(root, "real.go")
	writeFile(t, sentinel, "package main\n")
	// Written back to back, all of it is one burst: an ignored path that
	// got through would be named here or in an earlier Change.
	assertOnly(t, w, filepath.Join(root, "newvendor"), sentinel)
	assertWatched(t, w, filepath.Join(root, "newvendor", "vendor"), false)
}

func TestWatcher_KeepVendorTestdata(t *testing.T) {
	root := tempRoot(t)
	mkdirs(t, filepath.Join(root, "vendor"), filepath.Join(root, "testdata"))
	w := startWatcher(t, Options{Roots: []string{root}, KeepVendor: true, KeepTestdata: true})

	v := filepath.Join(root, "vendor", "x.go")
	d := filepath.Join(root, "testdata", "in.txt")
	writeFile(t, v, "package x\n")
	writeFile(t, d, "x\n")
	assertOnly(t, w, v, d)
}

func TestWatcher_GitignoreReload(t *testing.T) {
	root := tempRoot(t)
	mkdirs(t, filepath.Join(root, "out"))
	writeFile(t, filepath.Join(root, ".gitignore"), "out/\n")
	w := startWatcher(t, Options{Roots: []string{root}})
	assertWatched(t, w, filepath.Join(root, "out"), false)

	writeFile(t, filepath.Join(root, ".gitignore"), "# nothing\n")
	p := filepath.Join(root, "out", "x.go")
	sentinel := filepath.Join(root, "real.go")
	writeFile(t, sentinel, "package main\n")
	waitForPath(t, w, sentinel)
	assertWatched(t, w, filepath.Join(root, "out"), true)
	writeFile(t, p, "package out\n")
	assertOnly(t, w, p)
}

func TestWatcher_MultipleRoots(t *testing.T) {
	mod, lib := tempRoot(t), tempRoot(t)
	w := startWatcher(t, Options{Roots: []string{mod, lib}})
	p := filepath.Join(lib, "lib.go")
	writeFile(t, p, "package lib\n")
	assertOnly(t, w, p)
}

func TestWatcher_Rescan(t *testing.T) {
	root := tempRoot(t)
	w, err := New(Options{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	// Create directories while nobody reads events, as if they were lost.
	late := filepath.Join(root, "late", "deep")
	mkdirs(t, late)
	var b burst
	if !w.handleError(&b, fsnotify.ErrEventOverflow) {
		t.Fatal("overflow not treated as a change")
	}
	if c, ok := b.change(); !ok || !c.Rescan {
		t.Errorf("got Change %+v, %v; want Rescan", c, ok)
	}
	assertWatched(t, w, late, true)
}

func TestWatcher_RunClosesChanges(t *testing.T) {
	root := tempRoot(t)
	w, err := New(Options{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after cancel")
	}
	if _, ok := <-w.Changes(); ok {
		t.Error("Changes not closed after Run returned")
	}
	if err := w.Run(context.Background()); err == nil {
		t.Error("second Run = nil, want error")
	}
}

func TestWatcher_CloseStopsRun(t *testing.T) {
	root := tempRoot(t)
	w, err := New(Options{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after Close")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNew_Errors(t *testing.T) {
	root := tempRoot(t)
	file := filepath.Join(root, "f")
	writeFile(t, file, "x")
	tests := []struct {
		name   string
		opts   Options
		wantIs error // nil: any error
	}{
		{"bad glob", Options{Roots: []string{root}, Ignore: []string{"ok/**", "[abc"}}, path.ErrBadPattern},
		{"empty glob", Options{Roots: []string{root}, Ignore: []string{""}}, nil},
		{"no roots", Options{}, nil},
		{"missing root", Options{Roots: []string{filepath.Join(root, "nope")}}, fs.ErrNotExist},
		{"file root", Options{Roots: []string{file}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := New(tt.opts)
			if err == nil {
				w.Close()
				t.Fatal("New succeeded, want error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("New error = %v, want errors.Is %v", err, tt.wantIs)
			}
		})
	}
}

// The CLI adds its own context: glob errors must not start with "watch:"
// and must name the flag and the pattern.
func TestNew_GlobErrorMessage(t *testing.T) {
	root := tempRoot(t)
	tests := []struct {
		glob, want string
		wantIs     error
	}{
		{"[", `invalid --ignore glob "[": syntax error in pattern`, path.ErrBadPattern},
		{"", `invalid --ignore glob "": empty pattern`, nil},
	}
	for _, tt := range tests {
		w, err := New(Options{Roots: []string{root}, Ignore: []string{"ok/**", tt.glob}})
		if err == nil {
			w.Close()
			t.Fatalf("New(Ignore %q) succeeded, want error", tt.glob)
		}
		if err.Error() != tt.want {
			t.Errorf("New(Ignore %q) error = %q, want %q", tt.glob, err, tt.want)
		}
		if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
			t.Errorf("New(Ignore %q) error = %v, want errors.Is %v", tt.glob, err, tt.wantIs)
		}
	}
}
