//go:build unix

package cli

import (
	"context"
	"syscall"
	"time"
)

// watchPIDPoll waits for pid to be gone by signalling it with 0 every 20 ms:
// the fallback where no pidfd can be had (not Linux, or Linux < 5.3).
func watchPIDPoll(pid int) (wait func(context.Context) error, release func()) {
	return func(ctx context.Context) error {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for syscall.Kill(pid, 0) == nil {
			select {
			case <-t.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}, func() {}
}
