package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func loggingBuilder(t *testing.T, root string, env []string) (*Builder, *syncBuffer) {
	t.Helper()
	var buf syncBuffer
	b := newBuilder(t, root, env, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	return b, &buf
}

func readMetaT(t *testing.T, bin string) meta {
	t.Helper()
	m, err := readMeta(filepath.Dir(bin))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// overwrite replaces the content of path in place (same inode) and, when
// keepTimes, sets its mtime back to what it was.
func overwrite(t *testing.T, path string, data []byte, keepTimes bool) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if keepTimes {
		if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuilder_Build_RebuildsDamagedEntry(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	for _, tt := range []struct {
		name   string
		damage func(t *testing.T, bin string)
		reason string
	}{
		{"same size, mtime set back", func(t *testing.T, bin string) {
			data, _ := os.ReadFile(bin)
			copy(data[len(data)/2:], bytes.Repeat([]byte{0xcc}, 64))
			overwrite(t, bin, data, true)
		}, "sha256"},
		{"script over the binary", func(t *testing.T, bin string) {
			overwrite(t, bin, []byte("#!/bin/sh\necho wrong program\n"), false)
		}, "size"},
		{"truncated", func(t *testing.T, bin string) {
			fi, _ := os.Stat(bin)
			if err := os.Truncate(bin, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, "size"},
		{"garbage meta.json", func(t *testing.T, bin string) {
			overwrite(t, filepath.Join(filepath.Dir(bin), metaFile), []byte("{garbage"), false)
		}, metaFile},
		{"missing meta.json", func(t *testing.T, bin string) {
			if err := os.Remove(filepath.Join(filepath.Dir(bin), metaFile)); err != nil {
				t.Fatal(err)
			}
		}, metaFile + " is missing"},
		{"meta.json of another binary", func(t *testing.T, bin string) {
			m := readMetaT(t, bin)
			m.Binary = "other"
			if err := writeMeta(filepath.Dir(bin), m); err != nil {
				t.Fatal(err)
			}
		}, "another binary"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			mod := helloModule(t, "right program")
			req := Request{ModuleDir: mod}
			b, logs := loggingBuilder(t, root, testEnv(path))
			first := mustBuild(t, b, req)
			if err := Verify(first.Path); err != nil {
				t.Fatalf("Verify of a fresh entry: %v", err)
			}
			tt.damage(t, first.Path)

			err := Verify(first.Path)
			if !errors.Is(err, ErrEntryDamaged) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Verify of a damaged entry = %v, want ErrEntryDamaged mentioning %q", err, tt.reason)
			}
			res := mustBuild(t, b, req)
			if res.CacheHit || res.Path != first.Path {
				t.Errorf("Build of a damaged entry = %+v, want a rebuild at %s", res, first.Path)
			}
			if got := runBinary(t, res.Path); got != "right program" {
				t.Errorf("rebuilt binary prints %q", got)
			}
			if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "damaged") ||
				!strings.Contains(l, tt.reason) {
				t.Errorf("log = %q, want a warning naming the damage (%q)", l, tt.reason)
			}
			if err := Verify(res.Path); err != nil {
				t.Errorf("Verify after the rebuild: %v", err)
			}
			if res := mustBuild(t, b, req); !res.CacheHit {
				t.Error("Build after the rebuild: not a hit")
			}
			if tmp, _ := os.ReadDir(filepath.Join(root, cache.TmpDir)); len(tmp) != 0 {
				t.Errorf("tmp holds %d entries after the rebuild, want 0", len(tmp))
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	root := t.TempDir()
	mod := helloModule(t, "verified")
	b := newBuilder(t, root, testEnv(path), nil)
	res := mustBuild(t, b, mustReq(mod))
	if err := Verify(res.Path); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	published := readMetaT(t, res.Path)
	if len(published.SHA256) != 64 || published.ModTime.IsZero() || published.Size == 0 {
		t.Fatalf("meta.json = %+v, want size, mtime and sha256 recorded", published)
	}

	// Touched, same content: fine, and the new stat is recorded.
	later := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := os.Chtimes(res.Path, later, later); err != nil {
		t.Fatal(err)
	}
	if err := Verify(res.Path); err != nil {
		t.Errorf("Verify of a touched binary: %v", err)
	}
	if m := readMetaT(t, res.Path); !m.ModTime.Equal(later) || m.SHA256 != published.SHA256 {
		t.Errorf("after Verify of a touched binary meta = %+v, want mtime %v recorded", m, later)
	}

	// An entry from before sum and stat were recorded: hashed once, trusted
	// when the size matches, then recorded.
	old := published
	old.SHA256, old.ModTime, old.CTime, old.Inode = "", time.Time{}, time.Time{}, 0
	if err := writeMeta(filepath.Dir(res.Path), old); err != nil {
		t.Fatal(err)
	}
	if r := mustBuild(t, b, mustReq(mod)); !r.CacheHit {
		t.Error("Build with an old meta.json: not a hit")
	}
	if m := readMetaT(t, res.Path); m.SHA256 != published.SHA256 || m.ModTime.IsZero() {
		t.Errorf("old meta.json after a hit = %+v, want sum and mtime recorded", m)
	}
	data, _ := os.ReadFile(filepath.Join(filepath.Dir(res.Path), metaFile))
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil || raw["sha256"] == nil || raw["mtime"] == nil {
		t.Errorf("meta.json = %s, want sha256 and mtime keys", data)
	}

	// Gone, or not a cached binary at all.
	if err := Verify(filepath.Join(filepath.Dir(res.Path), "nosuch")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Verify of a missing binary = %v, want fs.ErrNotExist", err)
	}
	if err := os.RemoveAll(filepath.Join(root, cache.BinDir)); err != nil {
		t.Fatal(err)
	}
	if err := Verify(res.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Verify of a removed entry = %v, want fs.ErrNotExist", err)
	}
	if err := Verify(mod); err == nil || errors.Is(err, ErrEntryDamaged) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Verify of a path outside the cache = %v, want a plain error", err)
	}
}

func mustReq(mod string) Request { return Request{ModuleDir: mod} }

// A supervisor holds a pin on a running binary when the whole cache
// directory is removed: the next Build recreates the layout with private
// modes and a sound entry.
func TestBuilder_Build_AfterCacheRemoved(t *testing.T) {
	t.Parallel()
	path, _ := pathWithGo(t)
	root := filepath.Join(t.TempDir(), "cache")
	mod := filepath.Join(t.TempDir(), "sleeper")
	writeFiles(t, mod, map[string]string{
		"go.mod":  "module example.com/sleeper\n\ngo 1.22\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"time\"\n)\n\nfunc main() {\n\tif len(os.Args) > 1 {\n\t\tfmt.Println(\"up\")\n\t\treturn\n\t}\n\ttime.Sleep(time.Hour)\n}\n",
	})
	b := newBuilder(t, root, testEnv(path), nil)
	req := mustReq(mod)
	first := mustBuild(t, b, req)
	release, err := Pin(first.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	cmd := exec.Command(first.Path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()

	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := Verify(first.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Verify after rm -rf = %v, want fs.ErrNotExist", err)
	}
	for _, b := range []*Builder{b, newBuilder(t, root, testEnv(path), nil)} {
		res := mustBuild(t, b, req)
		if res.Path != first.Path {
			t.Errorf("Build after rm -rf = %s, want %s", res.Path, first.Path)
		}
	}
	if err := Verify(first.Path); err != nil {
		t.Errorf("Verify after the rebuild: %v", err)
	}
	if out, err := exec.Command(first.Path, "once").Output(); err != nil || string(out) != "up\n" {
		t.Errorf("rebuilt binary: %q, %v", out, err)
	}
	for _, dir := range []string{root, filepath.Join(root, cache.BinDir), filepath.Dir(filepath.Dir(first.Path)),
		filepath.Dir(first.Path), filepath.Join(root, cache.LockDir), filepath.Join(root, cache.TmpDir)} {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o700 {
			t.Errorf("mode of %s = %v, want 0700", dir, got)
		}
	}
	again, err := Pin(first.Path)
	if err != nil {
		t.Fatalf("Pin of the rebuilt entry: %v", err)
	}
	again()
}

// BenchmarkVerify is the check a supervisor runs before each restart: one
// stat and one read of meta.json.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	writeFilesB(b, dir, map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.22\n",
		"main.go": mainSrc("bench"),
	})
	bl, err := New(Options{CacheDir: b.TempDir(), Env: append(testEnv(""), "PATH="+pathForBench(b))})
	if err != nil {
		b.Fatal(err)
	}
	res, err := bl.Build(context.Background(), Request{ModuleDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := Verify(res.Path); err != nil {
			b.Fatal(err)
		}
	}
}
