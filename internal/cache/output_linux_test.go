package cache

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// A character device made in the test's own directory (root only): written
// in place, never replaced by a regular file.
func TestWriteOutput_CharDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	dir := t.TempDir()
	dev := filepath.Join(dir, "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err != nil { // 1,3 = /dev/null
		t.Skipf("mknod: %v", err)
	}
	before, _ := os.Lstat(dev)
	link := filepath.Join(dir, "link")
	if err := os.Symlink("null", link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dev, link} {
		writeOutput(t, p, "discarded", 0o755)
		after, err := os.Lstat(dev)
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(before, after) || after.Mode() != before.Mode() {
			t.Errorf("after writing %s: device is %v, want it unchanged (%v)", p, after.Mode(), before.Mode())
		}
	}
	onlyEntries(t, dir, "link", "null")
}

// /proc/self/fd/N (what /dev/stdout points to) is written in place: a pipe
// gets the data, and a regular file it names is appended to, not replaced.
func TestWriteOutput_ProcFD(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc here")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make(chan string, 1)
	go func() {
		data, _ := io.ReadAll(r)
		got <- string(data)
	}()
	writeOutput(t, "/proc/self/fd/"+strconv.Itoa(int(w.Fd())), "piped", 0o644)
	w.Close()
	if s := <-got; s != "piped" {
		t.Errorf("pipe reader got %q, want %q", s, "piped")
	}

	file := filepath.Join(t.TempDir(), "stdout.txt")
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before, _ := os.Stat(file)
	f.WriteString("program output\n")
	writeOutput(t, "/dev/fd/"+strconv.Itoa(int(f.Fd())), "report\n", 0o644)
	checkFile(t, file, "program output\nreport\n", 0o600)
	if after, _ := os.Stat(file); !os.SameFile(before, after) {
		t.Error("the file behind the fd was replaced")
	}
}
