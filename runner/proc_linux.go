//go:build linux

package runner

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group and, on Linux, asks
// the kernel to SIGKILL it if the supervisor dies (even by SIGKILL), so a
// crashed fnrun does not leave the program running. The parent-death signal
// reaches only the group leader; the Go runtime never ends the OS thread
// that started it, so it fires only when the process dies. What it leaves
// running when fnrun is killed with SIGKILL is said in reaper_linux.go.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// pipeSize is the capacity asked for the output pipes (the default is 64 KiB,
// the unprivileged maximum usually 1 MiB). A chatty program then fills a
// large buffer instead of blocking every 64 KiB, and the reader wakes far
// less often: it is what keeps fnrun's log throughput close to cat's.
const pipeSize = 1 << 20

// growPipe enlarges the pipe behind f, best effort.
func growPipe(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETPIPE_SZ, pipeSize)
	})
}
