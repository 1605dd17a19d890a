//go:build !unix

package build

import (
	"os"
	"os/exec"
	"runtime"
)

// interruptOnCancel makes a cancelled go command stop: with SIGINT where the
// system has signals, else by killing it.
func interruptOnCancel(cmd *exec.Cmd) {
	cmd.Cancel = func() error {
		if runtime.GOOS == "windows" { // no SIGINT for another process
			return cmd.Process.Kill()
		}
		return cmd.Process.Signal(os.Interrupt)
	}
	cmd.WaitDelay = DefaultWaitDelay
}
