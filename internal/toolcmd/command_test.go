//go:build unix

package toolcmd

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

func TestCommand_contained(t *testing.T) {
	cmd := Command(context.Background(), "true")
	if a := cmd.SysProcAttr; a == nil || !a.Setsid || a.Setpgid {
		t.Errorf("SysProcAttr = %+v, want Setsid (a new session and group) without Setpgid", a)
	}
	if cmd.Cancel == nil {
		t.Error("Cancel not set")
	}
	if got, want := cmd.WaitDelay, DefaultWaitDelay; got != want {
		t.Errorf("WaitDelay = %v, want %v", got, want)
	}
	if err := cmd.Run(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// startSpawner starts the spawner helper with Command under ctx: it runs a
// sleeper in the same group. It returns the command, the sleeper's pid and a
// channel that receives Wait's error.
func startSpawner(t *testing.T, ctx context.Context, ignore bool, waitDelay time.Duration) (leader, sleeper int, waited <-chan error, mark string) {
	t.Helper()
	dir := t.TempDir()
	pidFile, mark := filepath.Join(dir, "sleeper.pid"), filepath.Join(dir, "mark")
	cmd := Command(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=spawner", pidFileEnv+"="+pidFile, markEnv+"="+mark)
	if ignore {
		cmd.Env = append(cmd.Env, ignoreEnv+"=1")
	}
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		close(done)
		errc <- err
	}()
	leader = cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(-leader, syscall.SIGKILL)
		<-done
	})
	sleeper = awaitPid(t, pidFile, done)
	t.Cleanup(func() { syscall.Kill(sleeper, syscall.SIGKILL) })
	return leader, sleeper, errc, mark
}

// TestCommand_cancelInterruptsGroup cancels a tool that has started a
// child: the child, in the tool's group, must get the SIGINT too. WaitDelay
// is off, so nothing but the interrupt can end them.
func TestCommand_cancelInterruptsGroup(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leader, sleeper, waited, mark := startSpawner(t, ctx, false, 0)
	if got, err := syscall.Getpgid(sleeper); err != nil || got != leader {
		t.Fatalf("child's group = %d, %v; want the tool's (%d)", got, err, leader)
	}
	cancel()
	if err := <-waited; err == nil {
		t.Error("Wait = nil after cancel, want an error")
	}
	awaitGone(t, "the tool's child", func() bool { return running(sleeper) })
	if data, err := os.ReadFile(mark); err != nil || string(data) != "interrupted" {
		t.Errorf("child's mark = %q, %v; want it interrupted (SIGINT), not killed", data, err)
	}
	awaitGone(t, "a member of the tool's group", func() bool { return groupRunning(leader) })
}

// TestCommand_waitDelayKillsGroup cancels a tool that, like its child,
// ignores SIGINT: WaitDelay later the whole group must be killed, not only
// the tool (os/exec's own WaitDelay kills only the leader).
func TestCommand_waitDelayKillsGroup(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leader, sleeper, waited, mark := startSpawner(t, ctx, true, 50*time.Millisecond)
	cancel()
	err := <-waited
	var ee interface{ Sys() any }
	if !errors.As(err, &ee) {
		t.Fatalf("Wait = %v, want the exit of a killed tool", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("tool's wait status = %v, want killed by SIGKILL", ee.Sys())
	}
	awaitGone(t, "the tool's child (ignoring SIGINT)", func() bool { return running(sleeper) })
	if _, err := os.Stat(mark); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("child's mark: %v; the child should have ignored SIGINT", err)
	}
	awaitGone(t, "a member of the tool's group", func() bool { return groupRunning(leader) })
}

// TestCommand_exitedBeforeCancel: cancelling after the tool ended is not
// an error, and signals nobody.
func TestCommand_exitedBeforeCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := Command(ctx, "true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	cancel()
	if err := cmd.Cancel(); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Cancel after the group is gone = %v, want os.ErrProcessDone", err)
	}
}

// TestCommand_noTerminal runs a tool from a process that has a controlling
// terminal: the tool must not be able to open it (it would stop on SIGTTIN
// when reading it from its background group), while a plain child can.
func TestCommand_noTerminal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		plain bool
		want  string
	}{{false, "no terminal"}, {true, "terminal"}} {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), helperEnv+"=ttyparent")
		if tc.plain {
			cmd.Env = append(cmd.Env, plainEnv+"=1")
		}
		tty, err := pty.Start(cmd)
		if err != nil {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		out, _ := io.ReadAll(tty) // EIO once the helper and its child are gone
		tty.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper (plain %v): %v\n%s", tc.plain, err, out)
		}
		if got := strings.TrimSpace(strings.ReplaceAll(string(out), "\r", "")); got != tc.want {
			t.Errorf("child started with plain exec.Command %v: %q, want %q", tc.plain, got, tc.want)
		}
	}
}
