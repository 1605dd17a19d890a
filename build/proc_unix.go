//go:build unix

package build

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// interruptOnCancel makes a cancelled go command stop with everything it
// started. The go command runs in its own process group and cancellation
// sends SIGINT to the whole group, as Ctrl-C in a terminal would: `go build`
// itself does not forward the signal, so interrupting only the go process
// (or killing it, exec.CommandContext's default) would leave `compile`, `link`
// or cgo's compiler running. A group that outlives DefaultWaitDelay has its
// leader killed.
//
// Since the group no longer gets a terminal's SIGINT, callers must cancel the
// context on interrupt (fnrun's CLI does). Where the system has one, a
// parent-death signal also stops the go command when fnrun dies
// (setParentDeath).
func interruptOnCancel(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setParentDeath(cmd.SysProcAttr)
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
	cmd.WaitDelay = DefaultWaitDelay
}
