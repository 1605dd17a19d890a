package cli

import (
	"context"

	"golang.org/x/sys/unix"
)

// watchPID returns a function that waits until process pid has exited (or
// ctx is done), through a pidfd taken now, so that a reused pid cannot
// fool it. Without pidfds it falls back to watchPIDPoll.
func watchPID(pid int) (wait func(context.Context) error, release func()) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return watchPIDPoll(pid)
	}
	done := make(chan error, 1)
	wait = func(ctx context.Context) error {
		go func() {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			for {
				_, err := unix.Poll(fds, -1)
				if err == unix.EINTR {
					continue
				}
				done <- err
				return
			}
		}()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return wait, func() { unix.Close(fd) }
}
