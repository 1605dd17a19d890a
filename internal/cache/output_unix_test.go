//go:build unix

package cache

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// checkType fails unless path (not followed) has the file type want.
func checkType(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Type(); got != want {
		t.Errorf("%s: type %v, want %v", path, got, want)
	}
}

func TestWriteOutput_FIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("fifo", link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, link} {
		got := make(chan string, 1)
		go func() {
			f, err := os.Open(fifo) // blocks until the writer opens it
			if err != nil {
				got <- err.Error()
				return
			}
			data, _ := io.ReadAll(f)
			// Closed before the answer: the next round's writer must not
			// find this reader still open (its data would go to a pipe
			// that no one reads, and the next reader would wait for ever).
			f.Close()
			got <- string(data)
		}()
		writeOutput(t, p, "through the pipe", 0o644)
		if s := <-got; s != "through the pipe" {
			t.Errorf("%s: reader got %q", p, s)
		}
		checkType(t, fifo, os.ModeNamedPipe)
	}
	checkType(t, link, os.ModeSymlink)
	onlyEntries(t, dir, "fifo", "link")
}

func TestWriteOutput_DevNull(t *testing.T) {
	fi, err := os.Stat(os.DevNull)
	if err != nil || fi.Mode().Type() != os.ModeDevice|os.ModeCharDevice {
		t.Skipf("%s is not a character device here", os.DevNull)
	}
	link := filepath.Join(t.TempDir(), "null")
	if err := os.Symlink(os.DevNull, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{os.DevNull, link} {
		writeOutput(t, p, "discarded", 0o755)
		after, err := os.Stat(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		if after.Mode() != fi.Mode() || !os.SameFile(fi, after) {
			t.Errorf("after writing %s: %s is %v, want it unchanged (%v)", p, os.DevNull, after.Mode(), fi.Mode())
		}
	}
	checkType(t, link, os.ModeSymlink)
}

func TestWriteOutput_DevFull(t *testing.T) {
	fi, err := os.Stat("/dev/full")
	if err != nil || fi.Mode().Type() != os.ModeDevice|os.ModeCharDevice {
		t.Skip("no /dev/full here")
	}
	err = WriteOutput("/dev/full", strings.NewReader("x"), 0o644)
	if err == nil || !strings.HasPrefix(err.Error(), "write /dev/full: ") {
		t.Errorf("WriteOutput(/dev/full) = %v, want a write error", err)
	}
	if after, err := os.Stat("/dev/full"); err != nil || !os.SameFile(fi, after) || after.Mode() != fi.Mode() {
		t.Errorf("/dev/full changed: %v, %v", after, err)
	}
}

// A FIFO that nobody reads is an error after a while, not a hang that no
// signal ends.
func TestWriteOutput_FIFONoReader(t *testing.T) {
	defer func(d time.Duration) { fifoWait = d }(fifoWait)
	fifoWait = 50 * time.Millisecond
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	err := WriteOutput(fifo, strings.NewReader("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "nothing reads the FIFO") {
		t.Errorf("WriteOutput to a FIFO without a reader: %v, want a 'nothing reads' error", err)
	}
	checkType(t, fifo, os.ModeNamedPipe)
}
