//go:build unix

package cli

import (
	"os"

	"golang.org/x/term"
)

// isTerminalFile reports whether f is a terminal (not just any character
// device: /dev/null is one too). It reads the descriptor through
// SyscallConn, not Fd: Fd would put f into blocking mode, and a Close of a
// blocking terminal waits for a pending Read instead of interrupting it.
func isTerminalFile(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false // closed
	}
	var is bool
	if err := rc.Control(func(fd uintptr) { is = term.IsTerminal(int(fd)) }); err != nil {
		return false
	}
	return is
}
