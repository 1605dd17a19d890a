package toolcmd

import "syscall"

// setParentDeath makes the kernel SIGKILL the tool when the thread that
// started it exits (see Command for the caveat).
func setParentDeath(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
