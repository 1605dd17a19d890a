//go:build unix

package toolcmd

/*
Why SIGINT to the group.

Both tools are written to be stopped from a terminal, where Ctrl-C sends
SIGINT to the whole foreground process group. The go command catches SIGINT
(cmd/go's base.processSignals): it lets the compilers and linkers it
started, which got the same signal, end, then removes its work directory; it
does not catch SIGTERM, which kills it before any cleanup. git removes its
lock and temporary files on SIGINT and SIGTERM alike. So SIGINT to the group is the one signal both clean up on,
delivered the way they expect. SIGCONT follows, so that a member someone
stopped wakes up and sees the SIGINT.

Why a new session rather than only a new group.

setsid makes the tool the leader of a new session and of a new process
group with its pid as id, so the group is signalled exactly as with
setpgid; and the tool has no controlling terminal. In a group of its own
but on fnrun's terminal, a tool that opens /dev/tty to ask something (ssh
for a passphrase or an unknown host key, a git credential helper) is a
background job: it gets SIGTTIN and stops, and fnrun hangs with nothing on
the screen. Without a terminal, opening /dev/tty fails and the tool fails
with its own message (the go command runs ssh in batch mode anyway).

`go build` does not forward signals, so interrupting only the go process
(or killing it, exec.CommandContext's default) would leave compile or link
running; os/exec's WaitDelay kills only the leader, hence the group SIGKILL
scheduled by Cancel.

The group's id is the leader's pid. While any member lives, the id cannot
be given to another process, so the delayed SIGKILL cannot hit a stranger;
once the group is empty it only fails with ESRCH, unless within WaitDelay
the kernel handed the same number to a new process that made itself a
group leader, which cyclic pid allocation makes vanishingly unlikely.
*/

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func contain(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true // also a new group; setpgid would fail after it
	cmd.SysProcAttr.Setpgid = false
	setParentDeath(cmd.SysProcAttr)
	cmd.Cancel = func() error {
		pgid := cmd.Process.Pid
		err := syscall.Kill(-pgid, syscall.SIGINT)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		if err != nil {
			return err
		}
		_ = syscall.Kill(-pgid, syscall.SIGCONT)
		if d := cmd.WaitDelay; d > 0 {
			time.AfterFunc(d, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
		}
		return nil
	}
}
