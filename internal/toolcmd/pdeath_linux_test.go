package toolcmd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

func TestCommand_parentDeathSignal(t *testing.T) {
	cmd := Command(context.Background(), "true")
	if a := cmd.SysProcAttr; a == nil || a.Pdeathsig != syscall.SIGKILL {
		t.Fatalf("SysProcAttr = %+v, want Pdeathsig SIGKILL", a)
	}
}

// TestCommand_parentKilled kills (SIGKILL) a process that started a tool
// with Command: the tool, which ignores SIGINT, must die with it.
func TestCommand_parentKilled(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "tool.pid")
	parent := exec.Command(os.Args[0])
	parent.Env = append(os.Environ(), helperEnv+"=parent", pidFileEnv+"="+pidFile)
	parent.Stderr = os.Stderr
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { parent.Wait(); close(done) }()
	t.Cleanup(func() { parent.Process.Kill(); <-done })
	tool := awaitPid(t, pidFile, done)
	t.Cleanup(func() { syscall.Kill(tool, syscall.SIGKILL) })

	parent.Process.Kill()
	<-done
	awaitGone(t, "the tool of a killed parent", func() bool { return running(tool) })
}
