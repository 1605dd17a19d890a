//go:build unix

package runner

import (
	"errors"
	"syscall"
)

/*
Process groups. Every run is the leader of its own group (pgid = pid), so
one kill(-pgid, sig) reaches the program and everything it started that
stayed in the group. "The group is gone" means kill(-pgid, 0) fails with
ESRCH. After a clean leader exit that is normally true at once, so the fast
path costs one syscall. Only when members remain (a grandchild outlived the
leader) does the supervisor wait for them (awaitGone in stop.go).

Orphaned members that already died stay zombies until their new parent
reaps them, and kill(-pgid, 0) still finds them. On Linux that parent is
fnrun itself, a subreaper that reaps them on SIGCHLD (reaper_linux.go), but
not at once; elsewhere it is init, and some container inits reap lazily. On
Linux, groupAlive therefore ignores zombie members (see group_linux.go).
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
