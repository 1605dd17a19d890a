package control

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestDir_CacheFallback(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	cache := filepath.Join(t.TempDir(), "cache")
	got, err := Dir(cache)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "run"); got != want {
		t.Errorf("Dir = %q, want %q", got, want)
	}
	if got, want := mode(t, got), os.FileMode(0o700); got != want {
		t.Errorf("mode = %v, want %v", got, want)
	}
}

func TestDir_XDGRuntimeDir(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", xdg)
	got, err := Dir(filepath.Join(t.TempDir(), "unused"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(xdg, "fnrun"); got != want {
		t.Errorf("Dir = %q, want %q", got, want)
	}
	if got, want := mode(t, got), os.FileMode(0o700); got != want {
		t.Errorf("mode = %v, want %v", got, want)
	}
}

func TestDir_FixesMode(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	cache := t.TempDir()
	run := filepath.Join(cache, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(run, 0o775); err != nil {
		t.Fatal(err)
	}
	if _, err := Dir(cache); err != nil {
		t.Fatal(err)
	}
	if got, want := mode(t, run), os.FileMode(0o700); got != want {
		t.Errorf("mode = %v, want %v", got, want)
	}
}

func TestDir_RefusesSymlink(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	cache := t.TempDir()
	real := filepath.Join(t.TempDir(), "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(cache, "run")); err != nil {
		t.Fatal(err)
	}
	_, err := Dir(cache)
	if !errors.Is(err, ErrUnsafeDir) {
		t.Fatalf("Dir with symlinked run/: err = %v, want ErrUnsafeDir", err)
	}
}

func TestDir_RefusesFile(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	cache := t.TempDir()
	if err := os.WriteFile(filepath.Join(cache, "run"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Dir(cache); !errors.Is(err, ErrUnsafeDir) {
		t.Fatalf("Dir with a file run: err = %v, want ErrUnsafeDir", err)
	}
}

func TestDir_RefusesOtherOwner(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to chown")
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	cache := t.TempDir()
	run := filepath.Join(cache, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(run, nobodyUID, nobodyUID); err != nil {
		t.Fatal(err)
	}
	if _, err := Dir(cache); !errors.Is(err, ErrUnsafeDir) {
		t.Fatalf("Dir with run/ owned by nobody: err = %v, want ErrUnsafeDir", err)
	}
}
