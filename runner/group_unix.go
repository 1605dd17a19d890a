//go:build unix

package runner

import (
	"errors"
	"syscall"
	"time"
)

/*
Process groups. Every run is the leader of its own group (pgid = pid), so
one kill(-pgid, sig) reaches the program and everything it started that
stayed in the group. "The group is gone" means kill(-pgid, 0) fails with
ESRCH. After a clean leader exit that is normally true at once, so the fast
path costs one syscall. Only when members remain (a grandchild outlived the
leader) does the supervisor wait for them, sleeping 1 ms, 2 ms, ... up to
50 ms between checks, bounded by the stop timeout; there is no portable way
to be notified when processes that are not our children exit.

Orphaned members that already died stay zombies until their new parent
(init or a subreaper) reaps them, and kill(-pgid, 0) still finds them; some
container inits reap lazily. On Linux, groupAlive therefore ignores zombie
members (see group_linux.go).
*/

// signalGroup sends sig to every process in the group pgid. A group that
// is already gone is not an error.
func signalGroup(pgid int, sig syscall.Signal) error {
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// groupAlive reports whether a live process remains in the group pgid.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return false
	}
	if err != nil { // EPERM: a member we may not signal; it exists
		return true
	}
	return !onlyZombies(pgid)
}

// awaitGroupGone waits until no live process remains in the group, until
// deadline, or until stop is closed. It reports whether the group is gone.
func awaitGroupGone(pgid int, deadline time.Time, stop <-chan struct{}) bool {
	pause := time.Millisecond
	for {
		if !groupAlive(pgid) {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		t := time.NewTimer(min(pause, left))
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			return !groupAlive(pgid)
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}
