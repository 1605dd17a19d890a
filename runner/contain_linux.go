//go:build linux

package runner

import (
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// contain holds what one run started outside its process group: a cgroup
// (cgroup_linux.go) where that works, else the reaper's tracking
// (reaper_linux.go). Its methods are called from the goroutine running Run,
// and signal also from Supervisor.Signal, under the supervisor's mutex.
type contain struct {
	cg   *cgroupRun
	t    *tracked
	pgid int
	why  error // why no cgroup is used
}

// newContain prepares the containment of the next run; with noCgroup (for
// tests) the subreaper is used even where cgroups work.
func newContain(noCgroup bool) *contain {
	c := &contain{}
	if noCgroup {
		return c
	}
	c.cg, c.why = newCgroup()
	return c
}

// warmContain sets the reaper up and finds where cgroups are made (see Warm).
func warmContain() {
	reap.init()
	cgroupBase()
}

// start starts the command that mk returns inside the containment. When
// the start fails in a cgroup, it is tried once more without: if that
// works, the cgroup was at fault and the subreaper is used from now on.
func (c *contain) start(mk func() *exec.Cmd) (*exec.Cmd, error) {
	defer reap.starting()()
	cmd := mk()
	if c.cg != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = c.cg.fd
		err := cmd.Start()
		c.cg.closeFD()
		if err != nil {
			c.cg.remove()
			c.cg = nil
			cmd = mk()
			if err2 := cmd.Start(); err2 != nil {
				return nil, err2
			}
			c.why = cgroupBroken(err)
		}
	} else if err := cmd.Start(); err != nil {
		return nil, err
	}
	c.pgid = cmd.Process.Pid
	c.t = reap.register(c.pgid, c.cg == nil)
	return cmd, nil
}

// reaped is called once cmd.Wait reaped the leader: orphans that died at
// the same time may be waiting behind it (see reaper.reapZombies).
func (c *contain) reaped() { reap.reapZombies() }

// mode describes the containment in force, for the log: the path is where
// the runs' cgroups (fnrun-PID-N) are created.
func (c *contain) mode() (mode, path string, why error) {
	if c.cg != nil {
		return "cgroup", filepath.Dir(c.cg.dir), nil
	}
	return "subreaper", "", c.why
}

// signal sends sig to the run's processes outside its group.
func (c *contain) signal(sig syscall.Signal) {
	switch {
	case c.cg != nil:
		c.cg.signal(sig, c.pgid)
	case c.t != nil:
		reap.signal(c.t, sig)
	}
}

// kill SIGKILLs the run's processes outside its group.
func (c *contain) kill() {
	switch {
	case c.cg != nil:
		c.cg.kill()
	case c.t != nil:
		reap.signal(c.t, syscall.SIGKILL)
	}
}

// alive reports whether a process of the run outside its group is alive.
// Call it only once the leader was reaped and the group is empty: whatever
// the run left then was adopted by this process, so without adopted
// children (the common case, one cheap look) there is nothing.
func (c *contain) alive() bool {
	switch {
	case c.cg != nil:
		return c.cg.populated()
	case c.t != nil:
		return reap.adopted() && reap.alive(c.t)
	}
	return false
}

// recycle returns the containment for the next run in place of release:
// the same cgroup when the run left it empty (a restart then costs no
// mkdir and rmdir in the cgroup filesystem), else nil after release.
func (c *contain) recycle() (*contain, error) {
	if c.cg == nil || c.cg.populated() {
		return nil, c.release()
	}
	fd, err := unix.Open(c.cg.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, c.release()
	}
	reap.unregister(c.pgid, c.t)
	return &contain{cg: &cgroupRun{dir: c.cg.dir, fd: fd}}, nil
}

// release forgets the run; its cgroup is removed.
func (c *contain) release() error {
	reap.unregister(c.pgid, c.t)
	if c.cg != nil {
		return c.cg.remove()
	}
	return nil
}
