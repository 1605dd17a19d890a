//go:build unix

package toolcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of the helper programs: the test binary re-executed.
const (
	helperEnv  = "FNRUN_TOOLCMD_HELPER" // spawner, sleeper, parent, ttyparent or ttyprobe
	pidFileEnv = "FNRUN_TOOLCMD_PIDFILE"
	markEnv    = "FNRUN_TOOLCMD_MARK"   // the sleeper writes "interrupted" here on SIGINT
	ignoreEnv  = "FNRUN_TOOLCMD_IGNORE" // "1": helpers ignore SIGINT
	plainEnv   = "FNRUN_TOOLCMD_PLAIN"  // "1": ttyparent uses exec.Command, not Command
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "spawner":
		spawner()
	case "sleeper":
		sleeper()
	case "parent":
		parent()
	case "ttyparent":
		ttyParent()
	case "ttyprobe":
		ttyProbe()
	}
	fmt.Fprintf(os.Stderr, "unknown helper %q\n", os.Getenv(helperEnv))
	os.Exit(2)
}

// spawner starts a sleeper in its own process group (as any tool starts a
// compiler or a remote helper) and waits for it.
func spawner() {
	if os.Getenv(ignoreEnv) == "1" {
		signal.Ignore(os.Interrupt)
	}
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), helperEnv+"=sleeper")
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	if err := child.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "spawner:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// sleeper writes its pid once its signal disposition is in place, then
// sleeps for an hour: it ends sooner only if signalled.
func sleeper() {
	ints := make(chan os.Signal, 1)
	if os.Getenv(ignoreEnv) == "1" {
		signal.Ignore(os.Interrupt)
	} else {
		signal.Notify(ints, os.Interrupt)
	}
	writePid(os.Getenv(pidFileEnv), os.Getpid())
	select {
	case <-ints:
		if err := os.WriteFile(os.Getenv(markEnv), []byte("interrupted"), 0o600); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	case <-time.After(time.Hour):
		os.Exit(3)
	}
}

// parent starts a sleeper with Command and sleeps for an hour, to be
// killed by the test.
func parent() {
	cmd := Command(context.Background(), os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=sleeper", ignoreEnv+"=1")
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "parent:", err)
		os.Exit(1)
	}
	time.Sleep(time.Hour)
	os.Exit(3)
}

// ttyParent runs on a terminal: it starts ttyprobe with Command (or with
// plain exec.Command) and exits with its status.
func ttyParent() {
	cmd := Command(context.Background(), os.Args[0])
	if os.Getenv(plainEnv) == "1" {
		cmd = exec.Command(os.Args[0])
	}
	cmd.Env = append(os.Environ(), helperEnv+"=ttyprobe")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		fmt.Println("ttyparent:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// ttyProbe prints whether it could open its controlling terminal.
func ttyProbe() {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		fmt.Println("no terminal")
		os.Exit(0)
	}
	f.Close()
	fmt.Println("terminal")
	os.Exit(0)
}

func writePid(path string, pid int) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o600); err != nil {
		os.Exit(1)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Exit(1)
	}
}

// awaitPid polls path until it holds a pid; done reports the helper's end.
func awaitPid(t *testing.T, path string, done <-chan struct{}) int {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil {
			pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		select {
		case <-done:
			t.Fatal("helper exited before writing its pid")
		case <-deadline:
			t.Fatalf("no pid in %s after 60s", path)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// awaitGone polls until no process for which alive reports true is left,
// with a generous deadline: how soon a signalled process dies is up to the
// system.
func awaitGone(t *testing.T, what string, alive func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for alive() {
		if time.Now().After(deadline) {
			t.Fatalf("%s still running 60s later", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// running reports whether pid is a live process: it exists and is not a
// zombie (an orphan's new parent may be slow to reap it).
func running(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	if st, ok := procStat(pid); ok {
		return st.state != 'Z' && st.state != 'X'
	}
	return true
}

// groupRunning reports whether a live process is left in group pgid.
// Where /proc lists processes it skips zombies; elsewhere a zombie counts.
func groupRunning(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := procStat(pid); ok && st.pgrp == pgid && st.state != 'Z' && st.state != 'X' {
			return true
		}
	}
	return false
}

type stat struct {
	state byte
	pgrp  int
}

// procStat reads the state and process group of pid from /proc.
func procStat(pid int) (stat, bool) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return stat{}, false
	}
	s := string(data)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return stat{}, false
	}
	f := strings.Fields(s[end+1:]) // state ppid pgrp ...
	if len(f) < 3 {
		return stat{}, false
	}
	pgrp, err := strconv.Atoi(f[2])
	return stat{state: f[0][0], pgrp: pgrp}, err == nil
}
