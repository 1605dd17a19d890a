package fetch

import (
	"context"
	"syscall"
	"testing"
)

func TestCommand_parentDeathSignal(t *testing.T) {
	cmd := command(context.Background(), "git", "version")
	if a := cmd.SysProcAttr; a == nil || a.Pdeathsig != syscall.SIGKILL {
		t.Fatalf("SysProcAttr = %+v, want Pdeathsig SIGKILL", a)
	}
	if cmd.Cancel == nil || cmd.WaitDelay != commandWaitDelay {
		t.Errorf("Cancel set %v, WaitDelay %v; want an interrupting Cancel and %v", cmd.Cancel != nil, cmd.WaitDelay, commandWaitDelay)
	}
}
