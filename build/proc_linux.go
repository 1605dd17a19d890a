package build

import "syscall"

// setParentDeath asks the kernel to SIGKILL the go command if fnrun dies
// without cancelling it (SIGKILL, a crash), so that a cold build does not go
// on in the background. The signal fires when the thread that started the
// go command exits; Go ends threads only when a goroutine locked to one
// (runtime.LockOSThread) returns, and callers must not start builds from
// such a goroutine (fnrun does not). Only the go command gets the signal:
// a compiler or linker running at that moment is orphaned and finishes its
// current step, but no further step is started.
func setParentDeath(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
