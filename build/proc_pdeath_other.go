//go:build unix && !linux

package build

import "syscall"

// setParentDeath does nothing: only Linux has a parent-death signal, so
// elsewhere a killed fnrun leaves a running build to finish.
func setParentDeath(*syscall.SysProcAttr) {}
