package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// readAll returns the concatenation of all files of the log at path, oldest first.
func readAll(t *testing.T, path string) []byte {
	t.Helper()
	files, err := Files(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, name := range files {
		r, err := OpenFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(&buf, r); err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func mustOpen(t *testing.T, path string, opts Options) *Writer {
	t.Helper()
	w, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func line(i int) string { return fmt.Sprintf("line %08d %s\n", i, strings.Repeat("x", i%97)) }

func TestWriter_Rotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "fn.log")
	const maxSize = 1 << 20
	w := mustOpen(t, path, Options{MaxSize: maxSize, MaxFiles: 5, Compress: true})
	var want bytes.Buffer
	for i := 0; want.Len() < 3<<20; i++ {
		p := line(i)
		if i%10 == 0 { // several lines in one Write
			p += line(i+1) + line(i+2)
			i += 2
		}
		want.WriteString(p)
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	files, err := Files(path)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{path + ".3.gz", path + ".2.gz", path + ".1", path}
	if fmt.Sprint(files) != fmt.Sprint(wantFiles) {
		t.Errorf("Files = %v, want %v", files, wantFiles)
	}
	for _, name := range files {
		r, err := OpenFile(name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if len(b) > maxSize {
			t.Errorf("%s: %d bytes, want <= %d", name, len(b), maxSize)
		}
		if len(b) == 0 || b[len(b)-1] != '\n' {
			t.Errorf("%s: does not end with a whole line", name)
		}
	}
	if got := readAll(t, path); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("concatenated files: %d bytes, want the %d bytes written", len(got), want.Len())
	}
}

func TestWriter_MaxFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fn.log")
	w := mustOpen(t, path, Options{MaxSize: 100, MaxFiles: 2})
	var lines []string
	for i := range 20 {
		p := fmt.Sprintf("%02d %s\n", i, strings.Repeat("y", 56)) // 60 bytes: one line per file
		lines = append(lines, p)
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path + ".3"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s.3 exists (err %v), want it removed", path, err)
	}
	got := string(readAll(t, path))
	if want := strings.Join(lines[17:], ""); got != want {
		t.Errorf("kept lines:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriter_WriteLargerThanMaxSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fn.log")
	w := mustOpen(t, path, Options{MaxSize: 10, MaxFiles: 3})
	big := strings.Repeat("z", 25) + "\n"
	for _, p := range []string{"a\n", big, "b\n"} {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{path + ".2": "a\n", path + ".1": big, path: "b\n"} {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestWriter_CloseWaitsForCompression(t *testing.T) {
	base := runtime.NumGoroutine()
	path := filepath.Join(t.TempDir(), "fn.log")
	w := mustOpen(t, path, Options{MaxSize: 64 << 10, MaxFiles: 4, Compress: true})
	chunk := []byte(strings.Repeat(line(7), (64<<10)/len(line(7))))
	for range 6 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 4; i++ {
		name := fmt.Sprintf("%s.%d", path, i)
		if _, err := os.Lstat(name); err == nil {
			t.Errorf("%s still uncompressed after Close", name)
		}
		if _, err := os.Lstat(name + ".gz.tmp"); err == nil {
			t.Errorf("%s.gz.tmp left after Close", name)
		}
	}
	// A goroutine that has returned may be counted for a moment longer.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > base {
		t.Errorf("goroutines after Close = %d, want %d", got, base)
	}
	if _, err := w.Write([]byte("late\n")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: err = %v, want ErrClosed", err)
	}
}

func TestWriter_Concurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fn.log")
	w := mustOpen(t, path, Options{MaxSize: 32 << 10, MaxFiles: 1000, Compress: true})
	const writers, perWriter = 8, 2000
	var wg sync.WaitGroup
	var want []string
	for g := range writers {
		for i := range perWriter {
			want = append(want, fmt.Sprintf("w%d %s", g, strings.TrimSuffix(line(i), "\n")))
		}
		wg.Go(func() {
			for i := range perWriter {
				p := fmt.Sprintf("w%d %s", g, line(i))
				if _, err := w.Write([]byte(p)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(readAll(t, path)), "\n"), "\n")
	sort.Strings(got)
	sort.Strings(want)
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("line %q, want %q (a line was split or interleaved)", got[i], want[i])
		}
	}
}

func TestOpen_Permissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "fn.log")
	w := mustOpen(t, path, Options{MaxSize: 10, Compress: true})
	for range 3 {
		if _, err := w.Write([]byte("0123456789\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkMode(t, dir, 0o700)
	for _, name := range []string{path, path + ".1", path + ".2.gz"} {
		checkMode(t, name, 0o600)
	}
}

func checkMode(t *testing.T, name string, want os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(name)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", name, got, want)
	}
}

func TestOpen_Refuses(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "fn.log")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(link, Options{}); !errors.Is(err, ErrSymlink) {
		t.Errorf("Open(symlink): err = %v, want ErrSymlink", err)
	}
	dangling := filepath.Join(dir, "dangling.log")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dangling, Options{}); !errors.Is(err, ErrSymlink) {
		t.Errorf("Open(dangling symlink): err = %v, want ErrSymlink", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("Open created the symlink's target")
	}
	if _, err := Open("rel/fn.log", Options{}); err == nil {
		t.Error("Open(relative path): err = nil, want an error")
	}
	if _, err := Open(filepath.Join(dir, "x.log"), Options{MaxFiles: -1}); err == nil {
		t.Error("Open(MaxFiles -1): err = nil, want an error")
	}
}
