package build

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of TestBuildHelperProcess, set by
// TestBuilder_Build_ParentKilledStopsGo.
const (
	helperRootEnv     = "FNRUN_BUILD_HELPER_ROOT"
	helperModEnv      = "FNRUN_BUILD_HELPER_MOD"
	helperToolexecEnv = "FNRUN_BUILD_HELPER_TOOLEXEC"
)

// TestBuildHelperProcess is not a test: re-executed by
// TestBuilder_Build_ParentKilledStopsGo, it runs a build that never ends.
func TestBuildHelperProcess(t *testing.T) {
	root := os.Getenv(helperRootEnv)
	if root == "" {
		return
	}
	b := newBuilder(t, root, testEnv(os.Getenv("PATH")), func(o *Options) {
		o.BuildFlags = []string{"-toolexec", os.Getenv(helperToolexecEnv)}
	})
	_, err := b.Build(context.Background(), Request{ModuleDir: os.Getenv(helperModEnv)})
	t.Fatalf("Build returned %v; it should never end", err)
}

// TestBuilder_Build_ParentKilledStopsGo kills (SIGKILL) a process in the
// middle of a build: its go build must die with it instead of going on.
func TestBuilder_Build_ParentKilledStopsGo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	t.Parallel()
	tmp := t.TempDir()
	binDir, _ := goWrapper(t)
	goPidFile := filepath.Join(tmp, "go.pid")
	compilePidFile := filepath.Join(tmp, "compile.pid")
	// The wrapper execs the real go: its pid is the go build's.
	script, err := os.ReadFile(filepath.Join(binDir, "go"))
	if err != nil {
		t.Fatal(err)
	}
	script = []byte(strings.Replace(string(script), "exec ",
		"if [ \"$1\" = build ]; then echo $$ > '"+goPidFile+".tmp' && mv '"+goPidFile+".tmp' '"+goPidFile+"'; fi\nexec ", 1))
	if err := os.WriteFile(filepath.Join(binDir, "go"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	// The compiler of package main never finishes: without the parent-death
	// signal, go build would wait for it for ever.
	toolexec := stuckCompiler(t, compilePidFile)
	mod := helloModule(t, "never built")

	helper := exec.Command(os.Args[0], "-test.run=^TestBuildHelperProcess$")
	helper.Env = append(os.Environ(),
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		helperRootEnv+"="+t.TempDir(), helperModEnv+"="+mod, helperToolexecEnv+"="+toolexec)
	var out bytes.Buffer
	helper.Stdout, helper.Stderr = &out, &out
	helper.WaitDelay = 10 * time.Second
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { helper.Wait(); close(exited) }()
	t.Cleanup(func() { helper.Process.Kill(); <-exited })

	// Await go build blocked on the compiler.
	var goPid, compilePid int
	for compilePid == 0 {
		select {
		case <-exited:
			t.Fatalf("helper exited before the compiler ran: %v\n%s", helper.ProcessState, out.Bytes())
		case <-time.After(5 * time.Millisecond):
		}
		compilePid = readPidFile(t, compilePidFile)
	}
	t.Cleanup(func() { syscall.Kill(compilePid, syscall.SIGKILL) })
	if goPid = readPidFile(t, goPidFile); goPid == 0 {
		t.Fatal("compiler running but no go build pid")
	}
	t.Cleanup(func() { syscall.Kill(goPid, syscall.SIGKILL) })

	helper.Process.Kill()
	<-exited
	// SIGKILL is sent at once, but a loaded system may take its time to
	// schedule the death: be generous.
	timeout := time.After(60 * time.Second)
	for running(goPid) {
		select {
		case <-time.After(5 * time.Millisecond):
		case <-timeout:
			t.Fatalf("go build (pid %d) still running 60s after its parent was killed", goPid)
		}
	}
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	_, state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}
