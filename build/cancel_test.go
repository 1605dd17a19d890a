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
	"syscall"
	"testing"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

// TestBuilder_Build_CancelStopsCompiler cancels a build while the compiler
// runs: Build must return the context's error, publish nothing, leave no go
// work directory behind and no compiler running.
//
// The compiler of package main is a stand-in (-toolexec) that never finishes
// on its own, so that its death can only come from the cancellation: the
// test awaits it with a generous deadline instead of inspecting it at the
// moment Build returns. A real compile that has been signalled may still be
// running its signal handler or tearing down its address space (state R,
// nothing pending) for a while after go build has died, on a loaded machine
// long enough to be seen; and it would end on its own anyway.
func TestBuilder_Build_CancelStopsCompiler(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs shell script wrappers")
	}
	t.Parallel()
	binDir, log := goWrapper(t)
	compilePidFile := filepath.Join(t.TempDir(), "compile.pid")
	toolexec := stuckCompiler(t, compilePidFile)
	goTmp := t.TempDir() // where an interrupted go would leave its work directory
	env := append(testEnv(binDir+string(os.PathListSeparator)+os.Getenv("PATH")), "TMPDIR="+goTmp)
	// The nonce keeps go's build cache from answering for package main.
	mod := helloModule(t, "cancelled "+strconv.FormatInt(time.Now().UnixNano(), 36)+" "+t.Name())

	root := t.TempDir()
	b := newBuilder(t, root, env, func(o *Options) {
		o.BuildFlags = []string{"-toolexec", toolexec}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := b.Build(ctx, Request{ModuleDir: mod})
		done <- err
	}()

	// Await go build blocked on the compiler of package main.
	var compilePid int
	for compilePid == 0 {
		select {
		case err := <-done:
			t.Fatalf("Build returned %v before it could be cancelled", err)
		case <-time.After(5 * time.Millisecond):
		}
		compilePid = readPidFile(t, compilePidFile)
	}
	// Taken while the compiler surely runs (go build waits for it): where
	// processes have handles (pidfd), a later Kill cannot hit a reused pid.
	compiler, err := os.FindProcess(compilePid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { compiler.Kill(); compiler.Release() })

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
	// The compiler was signalled before Build returned; before the fix, it
	// went on with go killed. How soon a signalled process is scheduled to
	// die is up to the system: allow it plenty of time.
	deadline := time.Now().Add(60 * time.Second)
	for !exited(compiler) {
		if time.Now().After(deadline) {
			t.Fatalf("compiler (pid %d) still running 60s after the cancelled build returned", compilePid)
		}
		time.Sleep(10 * time.Millisecond)
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

// exited reports whether p has exited: it is gone, or a zombie (an orphan's
// new parent may be slow to reap it).
func exited(p *os.Process) bool {
	if err := p.Signal(syscall.Signal(0)); errors.Is(err, os.ErrProcessDone) {
		return true
	}
	_, state, _, ok := procStat(p.Pid)
	return ok && (state == 'Z' || state == 'X')
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
