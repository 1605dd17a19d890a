package fetch

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the kernel send cmd SIGKILL when fnrun dies
// (Pdeathsig), so that a go or git command does not outlive a killed fnrun.
// The signal fires when the thread that started cmd exits; Go ends threads
// only when a goroutine locked to one (runtime.LockOSThread) returns, and
// fetch must not be called from such a goroutine (fnrun does not). Only cmd
// itself gets the signal, not the processes it started (git's remote
// helpers, the go command's git or compilers), which are orphaned.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
