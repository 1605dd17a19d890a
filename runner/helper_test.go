//go:build unix

package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the helper programs: with FNRUN_TEST_HELPER
// set, TestMain acts as the program named by it instead of running tests.
const helperEnv = "FNRUN_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helperMain(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// helperMain runs the helper mode with its arguments and returns its exit code.
func helperMain(mode string, args []string) int {
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch mode {
	case "exit": // exit with code args[0]
		n, _ := strconv.Atoi(arg(0))
		return n
	case "sigkill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "lines": // args[0] lines, alternating stdout and stderr
		n, _ := strconv.Atoi(arg(0))
		out, errw := bufio.NewWriterSize(os.Stdout, 64<<10), bufio.NewWriterSize(os.Stderr, 64<<10)
		for i := 0; i < n; i++ {
			if i%2 == 0 {
				fmt.Fprintf(out, "out %07d\n", i)
			} else {
				fmt.Fprintf(errw, "err %07d\n", i)
			}
		}
		out.Flush()
		errw.Flush()
	case "runlines": // count runs in args[0] (run k), then args[1] lines "k out i" / "k err i", alternating stdout and stderr
		f, err := os.OpenFile(arg(0), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return 98
		}
		f.WriteString("run\n")
		f.Close()
		data, err := os.ReadFile(arg(0))
		if err != nil {
			return 98
		}
		k := bytes.Count(data, []byte{'\n'})
		n, _ := strconv.Atoi(arg(1))
		for i := 0; i < n; i++ {
			if i%2 == 0 {
				fmt.Fprintf(os.Stdout, "%d out %d\n", k, i)
			} else {
				fmt.Fprintf(os.Stderr, "%d err %d\n", k, i)
			}
		}
	case "bigline": // one 1 MiB line on stdout
		os.Stdout.Write(append(bytes.Repeat([]byte{'x'}, 1<<20), '\n'))
	case "nonl": // args[0] bytes of 'x' on stdout, in 64 KiB writes, never a newline
		n, _ := strconv.Atoi(arg(0))
		buf := bytes.Repeat([]byte{'x'}, 64<<10)
		for n > 0 {
			k, err := os.Stdout.Write(buf[:min(n, len(buf))])
			if err != nil {
				return 1
			}
			n -= k
		}
	case "nonewline":
		os.Stdout.WriteString("first\nlast without newline")
	case "crash": // print, then die by SIGKILL
		os.Stdout.WriteString("before crash\n")
		os.Stderr.WriteString("dying words")
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "ignoreterm":
		signal.Ignore(syscall.SIGTERM)
		os.Stdout.WriteString("ready\n")
		time.Sleep(time.Hour)
	case "sleep":
		os.Stdout.WriteString("ready\n")
		time.Sleep(time.Hour)
	case "argv0": // announce the name we were started as
		os.Stdout.WriteString("ready " + filepath.Base(os.Args[0]) + "\n")
		time.Sleep(time.Hour)
	case "args": // print the argument vector, argv[0] included, one per line
		for _, a := range os.Args {
			os.Stdout.WriteString(a + "\n")
		}
	case "sleepquiet":
		time.Sleep(time.Hour)
	case "grandchild": // args: pidfile, then "stay" or "exit"; args[2]=="setsid" leaves the group
		cmd := exec.Command(self())
		cmd.Env = append(os.Environ(), helperEnv+"=sleepquiet")
		cmd.Stdout = os.Stdout // holds our stdout open
		if arg(2) == "setsid" {
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		}
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 99
		}
		writeFileAtomic(arg(0), strconv.Itoa(cmd.Process.Pid))
		os.Stdout.WriteString("ready\n")
		if arg(1) == "exit" {
			return 0
		}
		time.Sleep(time.Hour)
	case "daemon": // daemonise: a setsid child starts a sleeper, appends its pid to args[0] and exits; then exit 0
		cmd := exec.Command(self(), arg(0))
		cmd.Env = append(os.Environ(), helperEnv+"=daemonchild")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 99
		}
		os.Stdout.WriteString("daemonised\n")
	case "stubbornescape": // a setsid child that ignores SIGTERM; its pid in args[0]; sleep
		cmd := exec.Command(self())
		cmd.Env = append(os.Environ(), helperEnv+"=ignoreterm")
		cmd.Stdout = os.Stdout // its ready line
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			return 99
		}
		writeFileAtomic(arg(0), strconv.Itoa(cmd.Process.Pid))
		time.Sleep(time.Hour)
	case "daemonchild": // see daemon
		cmd := exec.Command(self())
		cmd.Env = append(os.Environ(), helperEnv+"=sleepquiet")
		if err := cmd.Start(); err != nil {
			return 99
		}
		f, err := os.OpenFile(arg(0), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return 98
		}
		f.WriteString(strconv.Itoa(cmd.Process.Pid) + "\n")
		f.Close()
	case "count": // append a line to args[0], then exit with args[1]
		f, err := os.OpenFile(arg(0), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return 98
		}
		f.WriteString("run\n")
		f.Close()
		n, _ := strconv.Atoi(arg(1))
		return n
	case "failafter": // count runs in args[0]; run n sleeps args[n] ("0" if absent), then exits 1
		f, err := os.OpenFile(arg(0), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return 98
		}
		f.WriteString("run\n")
		f.Close()
		data, err := os.ReadFile(arg(0))
		if err != nil {
			return 98
		}
		if d, err := time.ParseDuration(arg(bytes.Count(data, []byte{'\n'}))); err == nil {
			time.Sleep(d)
		}
		return 1
	case "listen": // check the socket-activation protocol (names args[0]), answer one connection on fds 3 and 4
		return listenHelper(arg(0))
	case "fds": // print "fds" and the targets of the open descriptors
		return fdsHelper()
	default:
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		return 97
	}
	return 0
}

func writeFileAtomic(path, data string) {
	tmp := path + ".tmp"
	os.WriteFile(tmp, []byte(data), 0o600)
	os.Rename(tmp, path)
}

// self is this binary's path, for helpers that start another copy of it:
// os.Args[0] is only its name (the runner starts programs with argv[0] set
// to their base name).
func self() string {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return exe
}

// helperOptions returns Options running the test binary as helper mode.
func helperOptions(t *testing.T, mode string, args ...string) Options {
	t.Helper()
	return Options{
		Name:         "helper",
		Path:         self(),
		Args:         args,
		Env:          append(os.Environ(), helperEnv+"="+mode, "GORACE=atexit_sleep_ms=0"),
		StopTimeout:  5 * time.Second,
		DrainTimeout: 300 * time.Millisecond,
	}
}

func mustNew(t *testing.T, o Options) *Supervisor {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// run runs s with a generous timeout and fails on an error.
func run(t *testing.T, s *Supervisor) Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return st
}

// events records events; safe for concurrent use.
type events struct {
	mu   sync.Mutex
	list []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

func (e *events) kind(k EventKind) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Event
	for _, ev := range e.list {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// lineSignal returns an OnLine hook that sends on the returned channel for
// every line equal to want.
func lineSignal(want string) (func(Stream, []byte), <-chan struct{}) {
	ch := make(chan struct{}, 100)
	return func(_ Stream, line []byte) {
		if string(line) == want {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}, ch
}

func await(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// waitGone waits until pid no longer exists (or is a zombie).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Kill(pid, 0)
		if errors.Is(err, syscall.ESRCH) || isZombie(pid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running: kill(pid, 0) = %v", pid, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// readPID waits for the helper to publish a pid in path.
func readPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func killInCleanup(t *testing.T, pid int) {
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func textLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
