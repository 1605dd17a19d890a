//go:build unix && !linux

package toolcmd

import "syscall"

// setParentDeath does nothing: only Linux has a parent-death signal, so
// elsewhere a killed fnrun leaves a running tool to finish.
func setParentDeath(*syscall.SysProcAttr) {}
