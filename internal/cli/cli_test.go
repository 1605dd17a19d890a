package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fnrun/fnrun/internal/control"
	"github.com/fnrun/fnrun/runner"
	"github.com/rogpeppe/go-internal/goproxytest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain makes the test binary double as `fnrun` and as the helper program
// `helper` for the scripts in testdata/script.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fnrun":  func() { os.Exit(Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) },
		"helper": helperMain,
	})
}

func TestScripts(t *testing.T) {
	gocache := goEnv(t, "GOCACHE")
	var repo string
	proxy, err := goproxytest.NewServer("testdata/mod", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	fnrunPath, err := exec.LookPath("fnrun")
	if err != nil {
		t.Fatal(err)
	}
	fnrunBin := filepath.Dir(fnrunPath)
	repo, err = filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			home := filepath.Join(e.WorkDir, ".home")
			e.Setenv("HOME", home)
			e.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			e.Setenv("FNRUN_CACHE_DIR", filepath.Join(e.WorkDir, ".fnrun-cache"))
			e.Setenv("GOCACHE", gocache)
			e.Setenv("GOMODCACHE", filepath.Join(e.WorkDir, ".gomodcache"))
			e.Setenv("GOPROXY", "off")
			e.Setenv("GOSUMDB", "off")
			e.Setenv("GOFLAGS", "-buildvcs=false -modcacherw")
			e.Setenv("GOTOOLCHAIN", "local")
			e.Setenv("NO_COLOR", "1")
			e.Setenv("EXAMPLES", filepath.Join(repo, "examples"))
			e.Setenv("GOROOT_BIN", filepath.Dir(goPath(t)))
			e.Setenv("FNRUN_BIN", fnrunBin)
			e.Setenv("GOPROXY_URL", proxy.URL)
			e.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, ".gitconfig"))
			e.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			e.Setenv("GIT_AUTHOR_NAME", "fnrun test")
			e.Setenv("GIT_AUTHOR_EMAIL", "test@fnrun.invalid")
			e.Setenv("GIT_COMMITTER_NAME", "fnrun test")
			e.Setenv("GIT_COMMITTER_EMAIL", "test@fnrun.invalid")
			e.Setenv("ORIG_PATH", e.Getenv("PATH"))
			// A script that fails before its `fnrun down` must not leave a
			// detached fnrun (-d) behind: stop every instance still
			// serving a socket in the script's runtime directory.
			runDir := filepath.Join(e.WorkDir, ".fnrun-cache", control.CacheRunDirName)
			e.Defer(func() { stopInstances(t, runDir) })
			return nil
		},
		// [root]: the script may create namespaces and chroot.
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   cmdExitcode,
			"signal":     cmdSignal,
			"bgcode":     cmdBgcode,
			"waitfile":   cmdWaitfile,
			"gone":       cmdGone,
			"alive":      cmdAlive,
			"countlines": cmdCountlines,
			"distinct":   cmdDistinct,
			"mode":       cmdMode,
			"freeport":   cmdFreeport,
			"runpath":    cmdRunpath,
			"pidof":      cmdPidof,
			"calls":      cmdCalls,
			"expand":     cmdExpand,
		},
	})
}

func goPath(t *testing.T) string {
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	return p
}

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command(goPath(t), "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// lastBg remembers, per script, the background command that `signal` hit, so
// that `bgcode` can read its exit status after `wait`.
var lastBg sync.Map // *testscript.TestScript → *exec.Cmd

// exitcode N PROGRAM ARGS...: run PROGRAM and check that it exits with N;
// its stdout and stderr are kept for the next stdout/stderr commands.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROGRAM [ARGS...]")
	}
	err := ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if strconv.Itoa(got) != args[0] {
		ts.Fatalf("%s exited with %d, want %s", args[1], got, args[0])
	}
}

// signal SIG: send SIG (INT, TERM, HUP, KILL, QUIT, TSTP, ...) to the most recent background command.
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: signal INT|TERM|HUP|KILL")
	}
	sig, err := runner.ParseSignal(args[0])
	if err != nil {
		ts.Fatalf("%v", err)
	}
	cmds := ts.BackgroundCmds()
	if len(cmds) == 0 {
		ts.Fatalf("no background command")
	}
	cmd := cmds[len(cmds)-1]
	lastBg.Store(ts, cmd)
	ts.Check(cmd.Process.Signal(sig))
}

// bgcode N: after `wait`, the exit code of the command `signal` last hit.
func cmdBgcode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: bgcode N")
	}
	v, ok := lastBg.Load(ts)
	if !ok {
		ts.Fatalf("bgcode: no command was signalled")
	}
	cmd := v.(*exec.Cmd)
	if cmd.ProcessState == nil {
		ts.Fatalf("bgcode: run `wait` first")
	}
	got := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		got = 128 + int(ws.Signal())
	}
	if (strconv.Itoa(got) == args[0]) == neg {
		ts.Fatalf("exit code = %d, want %s%s", got, map[bool]string{true: "not ", false: ""}[neg], args[0])
	}
}

const waitLimit = 20 * time.Second

// waitfile FILE [LINES]: wait until FILE exists (and holds at least LINES lines).
func cmdWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfile FILE [LINES]")
	}
	want := 0
	if len(args) == 2 {
		n, err := strconv.Atoi(args[1])
		if err != nil {
			ts.Fatalf("waitfile: bad line count %q", args[1])
		}
		want = n
	}
	p := ts.MkAbs(args[0])
	deadline := time.Now().Add(waitLimit)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		if data, err := os.ReadFile(p); err == nil && strings.Count(string(data), "\n") >= want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfile %s: not there after %s", args[0], waitLimit)
		}
		time.Sleep(delay)
	}
}

func readPids(ts *testscript.TestScript, files []string) []int {
	var pids []int
	for _, f := range files {
		for _, l := range strings.Fields(ts.ReadFile(f)) {
			pid, err := strconv.Atoi(l)
			if err != nil {
				ts.Fatalf("%s: bad pid %q", f, l)
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

// running reports whether pid is a live process (zombies count as gone).
func running(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// gone PIDFILE...: every pid listed in the files is gone (awaited up to a deadline).
func cmdGone(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! gone (use alive)")
	}
	deadline := time.Now().Add(waitLimit)
	for _, pid := range readPids(ts, args) {
		if !awaitGone(pid, deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			ts.Fatalf("process %d still running", pid)
		}
	}
}

// awaitGone polls until pid is gone (or a zombie); false at the deadline.
func awaitGone(pid int, deadline time.Time) bool {
	for running(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// alive PIDFILE...: every pid listed is running now.
func cmdAlive(ts *testscript.TestScript, neg bool, args []string) {
	for _, pid := range readPids(ts, args) {
		if running(pid) == neg {
			ts.Fatalf("process %d running = %v", pid, !neg)
		}
	}
}

// countlines FILE N [PREFIX]: FILE holds exactly N lines (starting with PREFIX).
func cmdCountlines(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: countlines FILE N [PREFIX]")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		if len(args) < 3 || strings.HasPrefix(sc.Text(), args[2]) {
			n++
		}
	}
	ts.Check(sc.Err())
	if (strconv.Itoa(n) == args[1]) == neg {
		ts.Fatalf("%s: %d lines, want %s", args[0], n, args[1])
	}
}

// distinct FILE N: FILE holds N distinct non-empty lines.
func cmdDistinct(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: distinct FILE N")
	}
	seen := map[string]bool{}
	for _, l := range strings.Split(ts.ReadFile(args[0]), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			seen[l] = true
		}
	}
	if (strconv.Itoa(len(seen)) == args[1]) == neg {
		ts.Fatalf("%s: %d distinct lines, want %s", args[0], len(seen), args[1])
	}
}

// mode PATH PERM: PATH's permission bits are PERM (octal).
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode PATH PERM")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if (uint64(fi.Mode().Perm()) == want) == neg {
		ts.Fatalf("%s: mode %o, want %s", args[0], fi.Mode().Perm(), args[1])
	}
}

// freeport VAR: set VAR to a TCP port on 127.0.0.1 that is free now.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	defer ln.Close()
	ts.Setenv(args[0], strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
}

// runpath FILE: run the program whose path is the first line of FILE.
func cmdRunpath(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: runpath FILE")
	}
	path := strings.TrimSpace(strings.SplitN(ts.ReadFile(args[0]), "\n", 2)[0])
	err := ts.Exec(path)
	if (err == nil) == neg {
		ts.Fatalf("%s: %v", path, err)
	}
}

// pidof PSJSON NAME PIDFILE: writes the pid of function NAME in the output
// of `fnrun ps --json` saved in PSJSON to PIDFILE; fails when it has none.
func cmdPidof(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: pidof PSJSON NAME PIDFILE")
	}
	var ps struct {
		Version   int
		Instances []struct {
			Name      string
			Functions []struct {
				Name string
				PID  int
			}
		}
	}
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &ps); err != nil {
		ts.Fatalf("pidof: %v", err)
	}
	if ps.Version != 1 {
		ts.Fatalf("pidof: version %d", ps.Version)
	}
	for _, in := range ps.Instances {
		for _, f := range in.Functions {
			if f.Name == args[1] && f.PID > 0 {
				if err := os.WriteFile(ts.MkAbs(args[2]), []byte(strconv.Itoa(f.PID)+"\n"), 0o644); err != nil {
					ts.Fatalf("pidof: %v", err)
				}
				return
			}
		}
	}
	ts.Fatalf("pidof: no running function %s in %s", args[1], args[0])
}

// calls N URL OUT: N sequential GET requests to URL (http://HOST:PORT/PATH
// or unix:///SOCK/PATH), each with a fresh connection; every one must be
// answered with 200 (a refused or failed call fails the command). The
// bodies are appended to OUT, one line each.
func cmdCalls(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: calls N URL OUT")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("calls: bad count %q", args[0])
	}
	url := args[1]
	tr := &http.Transport{DisableKeepAlives: true}
	if rest, ok := strings.CutPrefix(url, "unix://"); ok {
		sock, path, _ := strings.Cut(rest, ".sock")
		sock += ".sock"
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		url = "http://unix" + path
	}
	client := &http.Client{Transport: tr, Timeout: waitLimit}
	out, err := os.OpenFile(ts.MkAbs(args[2]), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	ts.Check(err)
	defer out.Close()
	for i := 1; i <= n; i++ {
		resp, err := client.Get(url)
		if err != nil {
			ts.Fatalf("calls: call %d of %d: %v", i, n, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			ts.Fatalf("calls: call %d of %d: status %d, %v", i, n, resp.StatusCode, err)
		}
		fmt.Fprintln(out, strings.TrimSpace(string(body)))
	}
}

// expand SRC DST: writes SRC to DST with $VAR and ${VAR} replaced by the
// script's environment (for files that need a port chosen at run time).
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expand SRC DST")
	}
	out := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out), 0o644))
}

// stopInstances stops the fnrun instances serving sockets in dir: SIGTERM,
// then SIGKILL if one is still there after waitLimit.
func stopInstances(t *testing.T, dir string) {
	insts, _ := control.List(dir)
	for _, in := range insts {
		if in.PID <= 0 || in.PID == os.Getpid() {
			continue
		}
		t.Logf("stopping instance %s (pid %d) left by the script", in.Name, in.PID)
		syscall.Kill(in.PID, syscall.SIGTERM)
		if !awaitGone(in.PID, time.Now().Add(waitLimit)) {
			syscall.Kill(in.PID, syscall.SIGKILL)
		}
	}
}
