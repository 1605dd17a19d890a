package fetch

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// commandWaitDelay bounds how long a cancelled go or git command may take
// to clean up after os.Interrupt (and how long its output pipes are waited
// for once it exits) before it is killed.
const commandWaitDelay = 5 * time.Second

// command returns an exec.Cmd for every go and git command fetch runs.
// Cancelling ctx interrupts the command instead of killing it, so that the
// go command removes its temporary directories and lock files and git its
// partial clone; it is killed only if it has not exited commandWaitDelay
// later. On Linux the command is also killed (SIGKILL) if fnrun dies
// without cancelling, instead of going on in the background (see
// setParentDeathSignal).
func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error {
		if runtime.GOOS == "windows" { // no os.Interrupt for other processes
			return cmd.Process.Kill()
		}
		return cmd.Process.Signal(os.Interrupt)
	}
	cmd.WaitDelay = commandWaitDelay
	setParentDeathSignal(cmd)
	return cmd
}
