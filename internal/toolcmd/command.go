package toolcmd

import (
	"context"
	"os/exec"
	"time"
)

// DefaultWaitDelay is the WaitDelay of a command from Command: how long a
// cancelled tool and what it started may take to clean up after being
// interrupted before the whole group is killed, and how long Wait waits for
// the output pipes once the tool has exited.
const DefaultWaitDelay = 5 * time.Second

// Command returns an *exec.Cmd that runs name with args like
// exec.CommandContext, contained for a tool run on fnrun's behalf:
//
//   - it runs in a session and process group of its own (Setsid), without a
//     controlling terminal: signals meant for fnrun (a terminal's Ctrl-C) do
//     not reach it directly, so callers must cancel ctx on interrupt; and a
//     tool that would prompt on the terminal (ssh asking for a passphrase)
//     fails instead of stopping in the background;
//   - when ctx is done before it exits, SIGINT then SIGCONT are sent to the
//     whole group (see contain), and if WaitDelay is positive, the group is
//     sent SIGKILL WaitDelay later (os/exec's own WaitDelay would kill only
//     the leader);
//   - WaitDelay is DefaultWaitDelay; a caller may change it before Start
//     (0 means no bound, as for os/exec);
//   - on Linux, SIGKILL is its parent-death signal (Pdeathsig): if fnrun dies
//     without cancelling (SIGKILL, a crash), the tool dies too. Only the
//     leader gets it; what the tool started at that moment is orphaned and
//     finishes its current step. The signal fires when the OS thread that
//     started the tool exits, not the process: the Go runtime ends a thread
//     only when a goroutine locked to it (runtime.LockOSThread) returns
//     without unlocking, so Start must not be called from such a goroutine
//     (golang/go#27505).
//
// Callers may set Dir, Env, Stdin, Stdout and Stderr; they must not replace
// SysProcAttr or Cancel.
func Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = DefaultWaitDelay
	contain(cmd)
	return cmd
}
