package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

// TestBuilder_Build_CancelStopsCompiler cancels a slow build while the
// compiler runs: Build must return the context's error, publish nothing,
// leave no go work directory behind and no compiler running.
func TestBuilder_Build_CancelStopsCompiler(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a slow package")
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs a shell script wrapper")
	}
	t.Parallel()
	binDir, log := goWrapper(t)
	pidFile := filepath.Join(t.TempDir(), "go.pid")
	// The wrapper execs the real go: its pid is the go build's.
	script, err := os.ReadFile(filepath.Join(binDir, "go"))
	if err != nil {
		t.Fatal(err)
	}
	script = []byte(strings.Replace(string(script), "exec ",
		"if [ \"$1\" = build ]; then echo $$ > '"+pidFile+".tmp' && mv '"+pidFile+".tmp' '"+pidFile+"'; fi\nexec ", 1))
	if err := os.WriteFile(filepath.Join(binDir, "go"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	goTmp := t.TempDir() // where an interrupted go would leave its work directory
	env := append(testEnv(binDir+string(os.PathListSeparator)+os.Getenv("PATH")), "TMPDIR="+goTmp)

	// A package whose compilation takes seconds; the nonce defeats go's build cache.
	var src strings.Builder
	fmt.Fprintf(&src, "package main\n\nvar nonce = %q\n\nvar table = map[string]int{\n", strconv.FormatInt(time.Now().UnixNano(), 36)+t.Name())
	for i := range 200000 {
		fmt.Fprintf(&src, "\t\"k%d\": %d,\n", i, i)
	}
	src.WriteString("}\n\nfunc main() { println(len(table), nonce) }\n")
	mod := filepath.Join(t.TempDir(), "slow")
	writeFiles(t, mod, map[string]string{"go.mod": "module example.com/slow\n\ngo 1.22\n", "main.go": src.String()})

	root := t.TempDir()
	b := newBuilder(t, root, env, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := b.Build(ctx, Request{ModuleDir: mod})
		done <- err
	}()

	// Await go build, then (where /proc tells) its compiler of package main
	// (go also runs short `compile -V=full` queries).
	var goPid int
	var compilers []int
	for goPid == 0 || (hasProc() && len(compilers) == 0) {
		select {
		case err := <-done:
			t.Fatalf("Build returned %v before it could be cancelled", err)
		case <-time.After(5 * time.Millisecond):
		}
		if goPid == 0 {
			if data, err := os.ReadFile(pidFile); err == nil {
				goPid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
			}
		}
		if goPid != 0 && hasProc() {
			compilers = compilersOfMain(goPid)
		}
	}
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Build = %v, want context.Canceled", err)
	}
	if got := goRuns(t, log, "build"); got != 1 {
		t.Errorf("go build ran %d times, want 1", got)
	}
	if entries, _ := List(root); len(entries) != 0 {
		t.Errorf("%d cache entries after a cancelled build, want 0", len(entries))
	}
	// The compiler must be gone, or at least have been signalled, when Build
	// returns; before the fix, it went on compiling with go killed.
	for _, pid := range compilers {
		if alive(pid) {
			t.Errorf("compile (pid %d) still running after the cancelled build returned", pid)
		}
	}
	for _, dir := range []string{goTmp, filepath.Join(root, cache.TmpDir)} {
		ents, err := os.ReadDir(dir)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range ents {
			t.Errorf("left behind in %s: %s", dir, e.Name())
		}
	}
}

func hasProc() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// procStat returns the command name, state and parent pid of pid from /proc.
func procStat(pid int) (comm string, state byte, ppid int, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, 0, false
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0, 0, false
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 2 {
		return "", 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return s[open+1 : end], f[0][0], ppid, err == nil
}

// compilersOfMain lists the compile processes compiling package main whose
// parent is ppid.
func compilersOfMain(ppid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if c, _, pp, ok := procStat(pid); !ok || pp != ppid || c != "compile" {
			continue
		}
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil &&
			strings.Contains(string(cmdline), "\x00-p\x00main\x00") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive reports whether the compile process pid is still running and not
// about to die: a zombie has exited, and a process with SIGINT or SIGKILL
// pending dies as soon as it is scheduled.
func alive(pid int) bool {
	c, state, _, ok := procStat(pid)
	if !ok || c != "compile" || state == 'Z' || state == 'X' {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	const fatal = 1<<(2-1) | 1<<(9-1) // SIGINT, SIGKILL
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if k != "SigPnd" && k != "ShdPnd" {
			continue
		}
		if mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil && mask&fatal != 0 {
			return false
		}
	}
	return true
}
