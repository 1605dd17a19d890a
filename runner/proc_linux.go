//go:build linux

package runner

import "syscall"

// sysProcAttr puts the child in its own process group and, on Linux, asks
// the kernel to SIGKILL it if the supervisor dies (even by SIGKILL), so a
// crashed fnrun does not leave the program running. The parent-death signal
// reaches only the group leader; the Go runtime never ends the OS thread
// that started it, so it fires only when the process dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
