//go:build linux

package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	return startOnTTYIn(t, "", nil, 0, args...)
}

// startOnTTYIn is startOnTTY in dir (if not ""), with env (if not nil), on a
// terminal cols columns wide (if not 0).
func startOnTTYIn(t *testing.T, dir string, env []string, cols uint16, args ...string) *ttyFnrun {
	t.Helper()
	cmd := exec.Command("fnrun", args...)
	cmd.Dir, cmd.Env = dir, env
	var ptmx *os.File
	var err error
	if cols > 0 {
		ptmx, err = pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: cols})
	} else {
		ptmx, err = pty.Start(cmd)
	}
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

// await waits until the terminal showed a match of re.
func (f *ttyFnrun) await(re string) {
	f.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(waitLimit)
	for delay := time.Millisecond; !rx.MatchString(f.output()); delay = min(2*delay, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatalf("terminal shows no %q after %s:\n%q", re, waitLimit, f.output())
		}
		time.Sleep(delay)
	}
}

// screenRows replays what was written to a terminal cols columns wide
// (printing with automatic wrap, CR, LF, erase to end of line, cursor up;
// colours ignored) and returns its rows, scrollback included, without
// trailing blanks.
func screenRows(out string, cols int) []string {
	rows := [][]rune{nil}
	row, col := 0, 0
	put := func(r rune) {
		if col == cols { // automatic wrap
			row, col = row+1, 0
			if row == len(rows) {
				rows = append(rows, nil)
			}
		}
		for len(rows[row]) <= col {
			rows[row] = append(rows[row], ' ')
		}
		rows[row][col] = r
		col++
	}
	rs := []rune(out)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\r':
			col = 0
		case '\n':
			row++
			if row == len(rows) {
				rows = append(rows, nil)
			}
		case '\033':
			j := i + 1
			if j < len(rs) && rs[j] == '[' {
				for j++; j < len(rs) && (rs[j] < '@' || rs[j] > '~'); j++ {
				}
				if j < len(rs) {
					switch rs[j] {
					case 'K':
						if col < len(rows[row]) {
							rows[row] = rows[row][:col]
						}
					case 'A':
						row = max(row-1, 0)
					}
				}
			}
			i = j
		default:
			put(r)
		}
	}
	var lines []string
	for _, r := range rows {
		lines = append(lines, strings.TrimRight(string(r), " "))
	}
	return lines
}

// requireClean fails when the screen a session left shows a status line's
// debris (an elapsed time, the broken-build status), a line glued to
// another, or a key's echo before fnrun's line.
func requireClean(t *testing.T, out string, cols int) {
	t.Helper()
	status := regexp.MustCompile(`… \d+\.\ds|BUILD FAILED; `)
	for _, l := range screenRows(out, cols) {
		bad := status.MatchString(l) || strings.Contains(l, "^Cfnrun")
		for _, mark := range []string{"fnrun:", "status-line-app |"} {
			if i := strings.Index(l, mark); i > 0 && !strings.HasPrefix(l, "^C") {
				bad = true
			}
		}
		if bad {
			t.Errorf("debris on a %d-column screen: %q; the screen:\n%s", cols, l, strings.Join(screenRows(out, cols), "\n"))
			return
		}
	}
}

// ttyApp is a program that chatters (a line every 20ms) while fnrun
// rebuilds it.
const ttyApp = `package main

import (
	"fmt"
	"time"
)

func main() {
	for i := 0; ; i++ {
		fmt.Println(%q, i)
		time.Sleep(20 * time.Millisecond)
	}
}
`

// ttyEnv is a hermetic environment for a build on a terminal, colours
// allowed.
func ttyEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "CI=") {
			env = append(env, kv)
		}
	}
	return append(env, "FNRUN_CACHE_DIR="+filepath.Join(t.TempDir(), "cache"),
		"GOFLAGS=-buildvcs=false", "GOTOOLCHAIN=local", "GOPROXY=off")
}

// A build on a terminal shows its elapsed time on the status line and
// leaves a "built in" line; a broken rebuild says BUILD FAILED in red and
// keeps saying it on the status line while the program chatters, until
// the next good build; nothing is left of the status line, also on a
// terminal narrower than it.
func TestTTY_buildStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds")
	}
	goPath(t)
	for _, cols := range []int{120, 40} {
		t.Run(strconv.Itoa(cols), func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/status-line-app\n\ngo 1.22\n")
			writeFile(t, filepath.Join(dir, "main.go"), fmt.Sprintf(ttyApp, "v1"))
			f := startOnTTYIn(t, dir, ttyEnv(t), uint16(cols), "run", "-w", "--debounce", "50ms", ".")
			f.await(`v1 \d+`)
			writeFile(t, filepath.Join(dir, "main.go"), strings.Replace(fmt.Sprintf(ttyApp, "v2"), "fmt.Println(", "fmt.Println(nn, ", 1))
			f.await(`\x1b\[31mBUILD FAILED`) // the status line, red
			f.await(`v1 \d+\r\n(.|\n)*v1 \d+\r\n(.|\n)*v1 \d+\r\n`)
			writeFile(t, filepath.Join(dir, "main.go"), fmt.Sprintf(ttyApp, "v3"))
			f.await(`v3 \d+`)
			f.key("\x03")
			if got := f.exitCode(); got != ExitInterrupt {
				t.Errorf("fnrun exited %d after Ctrl-C, want %d", got, ExitInterrupt)
			}
			out := f.output()
			if cols >= 80 {
				for _, want := range []string{
					`fnrun: building example\.com/status-line-app… \d+\.\ds`, // the live elapsed time
					`fnrun: status-line-app: built in [\d.]+[µm]?s\r\n`,      // a line, left
					`fnrun: status-line-app: \x1b\[1;31mBUILD FAILED\x1b\[0m: `,
					`\./main\.go:10:\d+: undefined: nn`,
					`fnrun: status-line-app: change detected \(main\.go\); building…\r\n`,
					`fnrun: status-line-app: rebuilt in [\d.]+[µm]?s; restarting\r\n`,
				} {
					if !regexp.MustCompile(want).MatchString(out) {
						t.Errorf("terminal shows no %q:\n%q", want, out)
					}
				}
			}
			requireClean(t, out, cols)
			// The broken build is said until the next good build: it
			// was drawn again below the program's lines.
			if n := strings.Count(out, "\x1b[31mBUILD FAILED"); n < 2 {
				t.Errorf("BUILD FAILED status drawn %d times while the program ran, want it kept below its lines", n)
			}
		})
	}
}

// Ctrl-C during a build: fnrun's line starts on a line of its own, not
// after the status line and the terminal's ^C.
func TestTTY_ctrlCDuringBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds")
	}
	goPath(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/status-line-app\n\ngo 1.22\n")
	writeFile(t, filepath.Join(dir, "main.go"), fmt.Sprintf(ttyApp, "v1"))
	f := startOnTTYIn(t, dir, ttyEnv(t), 80, "run", "--race", ".")
	f.await(`building example\.com/status-line-app…`)
	f.key("\x03")
	if got := f.exitCode(); got != ExitInterrupt {
		t.Errorf("fnrun exited %d after Ctrl-C, want %d", got, ExitInterrupt)
	}
	out := f.output()
	if !strings.Contains(out, "SIGINT") {
		t.Errorf("terminal shows no SIGINT:\n%q", out)
	}
	requireClean(t, out, 80)
}
