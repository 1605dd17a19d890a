package build

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBuilder_Build_NotMain(t *testing.T) {
	t.Parallel()
	path, log := pathWithGo(t)
	mod := filepath.Join(t.TempDir(), "m")
	writeFiles(t, mod, map[string]string{
		"go.mod":                "module example.com/m\n\ngo 1.22\n",
		"lib.go":                "package m\n",
		"cmd/a/main.go":         "package main\n\nfunc main() {}\n",
		"cmd/b/main.go":         "package main\n\nfunc main() {}\n",
		"internal/x/x.go":       "package x\n",
		"testdata/t/main.go":    "package main\n",
		"nested/go.mod":         "module example.com/nested\n",
		"nested/cmd/n/main.go":  "package main\n\nfunc main() {}\n",
		"cmd/c/main_windows.go": "//go:build ignore\n\npackage main\n",
	})
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	_, err := b.Build(context.Background(), Request{ModuleDir: mod, PackageDir: mod})
	var nm *NotMainError
	if !errors.As(err, &nm) {
		t.Fatalf("Build = %v, want *NotMainError", err)
	}
	if got, want := nm.Mains, []string{"example.com/m/cmd/a", "example.com/m/cmd/b"}; !slices.Equal(got, want) {
		t.Errorf("Mains = %q, want %q", got, want)
	}
	if !strings.Contains(nm.Error(), "not a main package") || strings.Contains(nm.Error(), "\n") {
		t.Errorf("Error() = %q, want one line saying not a main package", nm.Error())
	}
	if !strings.Contains(nm.Detail(), "example.com/m/cmd/a") {
		t.Errorf("Detail() = %q, want the main packages", nm.Detail())
	}
	if got := goRuns(t, log, "build"); got != 0 {
		t.Errorf("go build ran %d times, want 0", got)
	}
}

func TestBuilder_Build_CompileError(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	mod := filepath.Join(t.TempDir(), "bad")
	writeFiles(t, mod, map[string]string{
		"go.mod":  "module example.com/bad\n\ngo 1.22\n",
		"main.go": "package main\n\nfunc main() { undefinedThing() }\n",
	})
	root := t.TempDir()
	b := newBuilder(t, root, testEnv(path), nil)
	_, err := b.Build(context.Background(), Request{ModuleDir: mod})
	var be *Error
	if !errors.As(err, &be) {
		t.Fatalf("Build = %v, want *Error", err)
	}
	if !strings.Contains(be.Output, "undefined: undefinedThing") {
		t.Errorf("Output = %q, want the compiler message", be.Output)
	}
	if !strings.Contains(be.Detail(), "undefinedThing") {
		t.Errorf("Detail() = %q, want the compiler message", be.Detail())
	}
	if msg := be.Error(); !strings.HasPrefix(msg, "build example.com/bad: compile failed") || strings.Contains(msg, "\n") {
		t.Errorf("Error() = %q, want one line starting with %q", msg, "build example.com/bad: compile failed")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Errorf("*exec.ExitError not reachable from %v", err)
	}
	if entries, _ := List(root); len(entries) != 0 {
		t.Errorf("%d cache entries after a failed build, want 0", len(entries))
	}
}

func TestBuilder_Build_GoVersion(t *testing.T) {
	t.Parallel()
	path, log := pathWithGo(t)
	mod := filepath.Join(t.TempDir(), "future")
	writeFiles(t, mod, map[string]string{
		"go.mod":  "module example.com/future\n\ngo 1.99\n",
		"main.go": "package main\n\nfunc main() {}\n",
	})
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	_, err := b.Build(context.Background(), Request{ModuleDir: mod})
	var ve *GoVersionError
	if !errors.As(err, &ve) {
		t.Fatalf("Build = %v, want *GoVersionError", err)
	}
	if ve.Need != "1.99" || !strings.HasPrefix(ve.Have, "1.") {
		t.Errorf("Need, Have = %q, %q; want 1.99, 1.x", ve.Need, ve.Have)
	}
	if !strings.Contains(ve.Error(), "GOTOOLCHAIN") || !strings.Contains(ve.Error(), "go >= 1.99") {
		t.Errorf("Error() = %q, want it to mention go >= 1.99 and GOTOOLCHAIN", ve.Error())
	}
	if got := goRuns(t, log, "build"); got != 0 {
		t.Errorf("go build ran %d times, want 0", got)
	}
}

func TestBuilder_Build_NoGo(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	mod := helloModule(t, "x")
	noGoEnv := testEnv(t.TempDir())

	// No go, nothing recorded.
	b := newBuilder(t, t.TempDir(), noGoEnv, nil)
	if _, err := b.Build(context.Background(), Request{ModuleDir: mod}); !errors.Is(err, ErrNoGo) {
		t.Errorf("Build without go = %v, want ErrNoGo", err)
	}
	if _, _, err := b.Key(context.Background(), Request{ModuleDir: mod}); !errors.Is(err, ErrNoGo) {
		t.Errorf("Key without go = %v, want ErrNoGo", err)
	}

	// No go, facts recorded by an earlier run, but a miss.
	root := t.TempDir()
	if _, _, err := newBuilder(t, root, testEnv(path), nil).Key(context.Background(), Request{ModuleDir: mod}); err != nil {
		t.Fatal(err)
	}
	b = newBuilder(t, root, noGoEnv, nil)
	if _, err := b.Build(context.Background(), Request{ModuleDir: mod}); !errors.Is(err, ErrNoGo) {
		t.Errorf("Build miss without go = %v, want ErrNoGo", err)
	}
	if _, _, err := b.Key(context.Background(), Request{ModuleDir: mod}); err != nil {
		t.Errorf("Key without go but with recorded facts: %v", err)
	}
}

func TestBuilder_Build_NoGoFiles(t *testing.T) {
	t.Parallel()
	path, log := pathWithGo(t)
	mod := filepath.Join(t.TempDir(), "m")
	writeFiles(t, mod, map[string]string{
		"go.mod":               "module example.com/m\n\ngo 1.22\n",
		"README.md":            "no Go here\n",
		"cmd/a/main.go":        "package main\n\nfunc main() {}\n",
		"onlytests/x_test.go":  "package onlytests\n",
		"ignored/main.go":      "//go:build ignore\n\npackage main\n\nfunc main() {}\n",
		"broken/main.go":       "this is not Go\n",
		"internal/lib/lib.go":  "package lib\n",
		"internal/lib/doc.txt": "x\n",
	})
	b := newBuilder(t, t.TempDir(), testEnv(path), nil)
	for _, dir := range []string{".", "onlytests", "ignored", "cmd"} {
		_, err := b.Build(context.Background(), Request{ModuleDir: mod, PackageDir: filepath.Join(mod, dir)})
		var nm *NotMainError
		if !errors.As(err, &nm) {
			t.Errorf("Build(%s) = %v, want *NotMainError", dir, err)
			continue
		}
		if nm.Name != "" {
			t.Errorf("Build(%s): Name = %q, want empty (no Go files)", dir, nm.Name)
		}
		if got, want := nm.Mains, []string{"example.com/m/cmd/a"}; !slices.Equal(got, want) {
			t.Errorf("Build(%s): Mains = %q, want %q", dir, got, want)
		}
		if msg := nm.Error(); !strings.Contains(msg, "not a main package") || !strings.Contains(msg, "no Go files") ||
			strings.Contains(msg, "\n") {
			t.Errorf("Build(%s): Error() = %q, want one line saying not a main package, no Go files", dir, msg)
		}
		if !strings.Contains(nm.Detail(), "example.com/m/cmd/a") {
			t.Errorf("Build(%s): Detail() = %q, want the main packages", dir, nm.Detail())
		}
	}
	if got := goRuns(t, log, "build"); got != 0 {
		t.Errorf("go build ran %d times, want 0", got)
	}
	// A file that does not parse is left to go build, which says more.
	_, err := b.Build(context.Background(), Request{ModuleDir: mod, PackageDir: filepath.Join(mod, "broken")})
	var be *Error
	if !errors.As(err, &be) {
		t.Errorf("Build(broken) = %v, want *Error from go build", err)
	}
}
