//go:build linux

package cli

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ttyFnrun is fnrun started on a pseudo-terminal, as from a terminal
// window: fnrun leads a new session whose controlling terminal is the pty.
type ttyFnrun struct {
	t      *testing.T
	cmd    *exec.Cmd
	master *os.File
	mu     sync.Mutex
	out    bytes.Buffer  // everything fnrun wrote to the terminal
	exited chan struct{} // closed once cmd.Wait returned
}

func startOnTTY(t *testing.T, args ...string) *ttyFnrun {
	t.Helper()
	cmd := exec.Command("fnrun", args...)
	ptmx, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	// pty's file is in blocking mode (Fd was called on it): a Close would
	// wait for the reader below, and the terminal would never hang up. A
	// non-blocking duplicate is closed at once.
	fd, err := syscall.Dup(int(ptmx.Fd()))
	ptmx.Close()
	if err != nil {
		t.Fatal(err)
	}
	syscall.SetNonblock(fd, true)
	master := os.NewFile(uintptr(fd), "ptmx")
	f := &ttyFnrun{t: t, cmd: cmd, master: master, exited: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			f.mu.Lock()
			f.out.Write(buf[:n])
			f.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { cmd.Wait(); close(f.exited) }()
	t.Cleanup(func() {
		select {
		case <-f.exited:
		default:
			cmd.Process.Kill()
			<-f.exited
		}
		master.Close()
	})
	return f
}

// key types on the terminal.
func (f *ttyFnrun) key(s string) {
	f.t.Helper()
	if _, err := io.WriteString(f.master, s); err != nil {
		f.t.Fatal(err)
	}
}

// exitCode waits for fnrun and returns its exit code (128+N for a signal).
func (f *ttyFnrun) exitCode() int {
	f.t.Helper()
	select {
	case <-f.exited:
	case <-time.After(waitLimit):
		f.t.Fatalf("fnrun still running after %s; terminal showed:\n%s", waitLimit, f.output())
	}
	ps := f.cmd.ProcessState
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func (f *ttyFnrun) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.String()
}

// pidsFrom waits until file lists n pids and returns them.
func pidsFrom(t *testing.T, file string, n int) []int {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		if data, err := os.ReadFile(file); err == nil {
			if fields := strings.Fields(string(data)); len(fields) >= n {
				var pids []int
				for _, s := range fields {
					pid, err := strconv.Atoi(s)
					if err != nil {
						t.Fatalf("%s: bad pid %q", file, s)
					}
					pids = append(pids, pid)
				}
				return pids
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: fewer than %d pids after %s", file, n, waitLimit)
		}
		time.Sleep(delay)
	}
}

// awaitLines waits until file holds at least n lines.
func awaitLines(t *testing.T, file string, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		if data, err := os.ReadFile(file); err == nil && bytes.Count(data, []byte("\n")) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: fewer than %d lines after %s", file, n, waitLimit)
		}
		time.Sleep(delay)
	}
}

func requireGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for _, pid := range pids {
		if !awaitGone(pid, deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d still running after fnrun exited", pid)
		}
	}
}

// procState is the state letter of pid in /proc/PID/stat (R, S, T, Z...).
func procState(pid int) byte {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0
	}
	return data[i+2]
}

// awaitState waits until every pid is (stopped == true) or is not in state T.
func awaitState(t *testing.T, stopped bool, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for _, pid := range pids {
		for delay := time.Millisecond; (procState(pid) == 'T') != stopped; delay = min(2*delay, 50*time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d: state %c, want stopped=%v", pid, procState(pid), stopped)
			}
			time.Sleep(delay)
		}
	}
}

// Ctrl-\ stops the program's whole group with SIGQUIT (a Go program prints
// its goroutines) and fnrun exits 131, leaving nothing behind.
func TestTTY_ctrlBackslash(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	f := startOnTTY(t, "exec", "--", "helper", "spawn", pidFile)
	pids := pidsFrom(t, pidFile, 2)
	f.key("\x1c") // Ctrl-\ (VQUIT)
	if got := f.exitCode(); got != ExitQuit {
		t.Errorf("fnrun exited %d after Ctrl-\\, want %d; terminal showed:\n%s", got, ExitQuit, f.output())
	}
	requireGone(t, pids)
	if out := f.output(); !strings.Contains(out, "SIGQUIT") {
		t.Errorf("terminal shows no SIGQUIT (neither fnrun's event nor the program's dump):\n%s", out)
	}
}

// Closing the terminal stops the program gracefully and fnrun exits 129.
func TestTTY_close(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	f := startOnTTY(t, "exec", "--", "helper", "spawn", pidFile)
	pids := pidsFrom(t, pidFile, 2)
	f.master.Close() // the terminal window is closed: hangup
	if got := f.exitCode(); got != ExitHangup {
		t.Errorf("fnrun exited %d after the terminal closed, want %d", got, ExitHangup)
	}
	requireGone(t, pids)
}

// `kill -HUP` while the terminal lives still restarts the program.
func TestTTY_hupRestarts(t *testing.T) {
	runs := filepath.Join(t.TempDir(), "runs")
	f := startOnTTY(t, "exec", "--", "helper", "countsleep", runs)
	awaitLines(t, runs, 1)
	f.cmd.Process.Signal(syscall.SIGHUP)
	awaitLines(t, runs, 2)
	f.key("\x03") // Ctrl-C
	if got := f.exitCode(); got != ExitInterrupt {
		t.Errorf("fnrun exited %d after Ctrl-C, want %d; terminal showed:\n%s", got, ExitInterrupt, f.output())
	}
}

// Ctrl-Z stops the program's group and fnrun; SIGCONT (fg) continues both.
func TestTTY_ctrlZ(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pids")
	f := startOnTTY(t, "exec", "--", "helper", "spawn", pidFile)
	pids := pidsFrom(t, pidFile, 2)
	f.key("\x1a") // Ctrl-Z (VSUSP)
	awaitState(t, true, append([]int{f.cmd.Process.Pid}, pids...)...)
	f.cmd.Process.Signal(syscall.SIGCONT) // what the shell's fg does
	awaitState(t, false, append([]int{f.cmd.Process.Pid}, pids...)...)
	f.key("\x03")
	if got := f.exitCode(); got != ExitInterrupt {
		t.Errorf("fnrun exited %d after Ctrl-C, want %d; terminal showed:\n%s", got, ExitInterrupt, f.output())
	}
	requireGone(t, pids)
}
