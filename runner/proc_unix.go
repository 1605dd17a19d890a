//go:build unix && !linux

package runner

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group. Other Unix systems
// have no parent-death signal.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// growPipe is a no-op where pipes cannot be enlarged.
func growPipe(*os.File) {}
