package control

/*
Per-name lock.

Replacing a stale socket is check-then-act: probe the path, remove it, bind
a new one. Two fnrun processes starting the same instance, or a `ps` that
found a stale socket while an instance is binding a fresh one at the same
path, could otherwise both see "stale" and one would unlink the other's live
socket. The check, the removal and the bind therefore happen under an
exclusive flock on a hidden lock file beside the socket (.NAME.lock). The lock
is held only for that moment, never for the life of the instance, and lock
files are never removed (removing one while another process waits on it
would hand out two locks).
*/

import (
	"errors"
	"path/filepath"

	"golang.org/x/sys/unix"
)

func lockPath(dir, instance string) string {
	return filepath.Join(dir, "."+instance+".lock")
}

// lockName takes the per-name lock, waiting for it unless nonblock is set.
// ok is false (with a nil error) when nonblock is set and the lock is
// held elsewhere.
func lockName(dir, instance string, nonblock bool) (unlock func(), ok bool, err error) {
	fd, err := unix.Open(lockPath(dir, instance), unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false, err
	}
	how := unix.LOCK_EX
	if nonblock {
		how |= unix.LOCK_NB
	}
	for {
		err = unix.Flock(fd, how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		if nonblock && errors.Is(err, unix.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return func() { unix.Close(fd) }, true, nil
}
