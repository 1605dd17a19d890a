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
// context on interrupt (fnrun's CLI does).
//
// If fnrun itself dies without cancelling (SIGKILL, a crash), the kernel
// sends the go command SIGKILL (Pdeathsig), so that a cold build does not go
// on in the background. The signal fires when the thread that started the
// go command exits; Go ends threads only when a goroutine locked to one
// (runtime.LockOSThread) returns, and callers must not start builds from
// such a goroutine (fnrun does not). Only the go command gets the signal:
// a compiler or linker running at that moment is orphaned and finishes its
// current step, but no further step is started.
func interruptOnCancel(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
	cmd.WaitDelay = DefaultWaitDelay
}
