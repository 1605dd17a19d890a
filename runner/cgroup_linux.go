//go:build linux

package runner

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

/*
The airtight form: a cgroup per run. Where cgroup v2 is mounted and fnrun's
own cgroup (0::PATH in /proc/self/cgroup, under the cgroup2 mount found in
/proc/self/mountinfo) lets it create a child, each run is started directly
inside a new cgroup fnrun-PID-N (clone3 with CLONE_INTO_CGROUP, through
SysProcAttr.UseCgroupFD), so that everything the program starts stays in it
whatever it does with sessions and groups, short of a privileged move. A stop
signals the group and every other member of the cgroup, waits until
cgroup.events says "populated 0", and SIGKILLs with cgroup.kill (Linux 5.14),
which the kernel makes race-free against fork. The cgroup is removed when
the run is over. No controller is enabled: the cgroup is only a container,
which is what allows it under a cgroup that holds processes (fnrun's own).

Creating it needs write access to fnrun's cgroup: root, or a delegated
subtree (systemd's Delegate=yes, a user service, a container runtime that
delegates). An ordinary login session's scope is not delegated, and there
the mkdir fails. Anything failing — no cgroup2, no write access, no
cgroup.kill, clone3 refused — makes the runner fall back, silently and for
the rest of the process, to the subreaper (reaper_linux.go). The first
failure is reported in the "containment" debug line. The empty cgroups an
fnrun killed with SIGKILL could not remove are removed by the next one.
*/

// cgroupFS is the process-wide state of cgroup containment.
var cgroupFS struct {
	once   sync.Once
	base   string // fnrun's own cgroup directory
	err    error  // why there is none
	broken atomic.Pointer[error]
	killOK atomic.Bool // cgroup.kill exists
	seq    atomic.Uint64
}

// cgroupBase returns the directory of this process's cgroup v2.
func cgroupBase() (string, error) {
	c := &cgroupFS
	c.once.Do(func() {
		c.base, c.err = findCgroup()
		if c.err == nil {
			go sweepCgroups(c.base) // not on the way to the first start
		}
	})
	if c.err != nil {
		return "", c.err
	}
	if e := c.broken.Load(); e != nil {
		return "", *e
	}
	return c.base, nil
}

// cgroupBroken stops cgroup containment for the rest of the process.
func cgroupBroken(err error) error {
	cgroupFS.broken.CompareAndSwap(nil, &err)
	return err
}

func findCgroup() (string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	rel, found := "", false
	for _, l := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok {
			rel, found = p, true
			break
		}
	}
	if !found || !strings.HasPrefix(rel, "/") {
		return "", errors.New("no cgroup v2 for this process")
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+1 >= len(fields) || fields[sep+1] != "cgroup2" {
			continue
		}
		root, mnt := unescapeMount(fields[3]), unescapeMount(fields[4])
		dir := ""
		if root == "/" {
			dir = filepath.Join(mnt, rel)
		} else if sub, ok := strings.CutPrefix(rel, root); ok && (sub == "" || sub[0] == '/') {
			dir = filepath.Join(mnt, sub)
		}
		if dir == "" {
			continue
		}
		if !delegated(dir, rel) {
			return "", fmt.Errorf("cgroup %s is not delegated to this process (under systemd: Delegate=yes)", rel)
		}
		return dir, nil
	}
	return "", errors.New("cgroup v2 is not mounted")
}

// delegated reports whether this process may manage sub-cgroups of dir
// (its own cgroup, rel from /proc/self/cgroup): the root of its cgroup
// namespace (a container's), a cgroup systemd delegated (the
// trusted.delegate or user.delegate extended attribute, set for
// Delegate=yes), or one owned by our own non-root uid (a user's
// delegated slice). Writing into any other cgroup would break the rules of
// whoever manages it, so the subreaper is used there instead.
func delegated(dir, rel string) bool {
	if rel == "/" {
		return true
	}
	buf := make([]byte, 8)
	for _, attr := range []string{"trusted.delegate", "user.delegate"} {
		if _, err := unix.Getxattr(dir, attr, buf); err == nil {
			return true
		}
	}
	var st unix.Stat_t
	uid := os.Getuid()
	return unix.Stat(dir, &st) == nil && uid != 0 && int(st.Uid) == uid
}

// sweepCgroups removes the empty cgroups that an fnrun killed with SIGKILL
// left behind (fnrun-PID-N whose PID is gone). A cgroup that still holds
// processes is left alone.
func sweepCgroups(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "fnrun-")
		if !ok || !e.IsDir() {
			continue
		}
		owner, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(owner)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			unix.Rmdir(filepath.Join(base, e.Name()))
		}
	}
}

// unescapeMount undoes the octal escapes of /proc/self/mountinfo (\040).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupRun is the cgroup of one run.
type cgroupRun struct {
	dir string
	fd  int // the directory, open until the leader started in it
}

// newCgroup creates the cgroup for the next run.
func newCgroup() (*cgroupRun, error) {
	base, err := cgroupBase()
	if err != nil {
		return nil, err
	}
	for range 10 { // a leftover of an earlier fnrun with our pid: next name
		dir := filepath.Join(base, fmt.Sprintf("fnrun-%d-%d", os.Getpid(), cgroupFS.seq.Add(1)))
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, cgroupBroken(fmt.Errorf("create cgroup: %w", err))
		}
		if !cgroupFS.killOK.Load() { // the kernel does not change: look once
			if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
				os.Remove(dir)
				return nil, cgroupBroken(errors.New("cgroup.kill unsupported (Linux 5.14 or later needed)"))
			}
			cgroupFS.killOK.Store(true)
		}
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			os.Remove(dir)
			return nil, cgroupBroken(fmt.Errorf("open cgroup: %w", err))
		}
		return &cgroupRun{dir: dir, fd: fd}, nil
	}
	return nil, errors.New("create cgroup: too many leftover cgroups")
}

func (c *cgroupRun) closeFD() {
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
}

// members returns the pids in the cgroup and in the cgroups below it (a
// program may create its own).
func (c *cgroupRun) members() []int {
	var pids []int
	filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for _, f := range bytes.Fields(data) {
			if pid, err := strconv.Atoi(string(f)); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// signal sends sig to the members of the cgroup outside the group pgid
// (the caller signals the group itself, which no member misses).
func (c *cgroupRun) signal(sig syscall.Signal, pgid int) {
	buf := make([]byte, statBuf)
	for _, pid := range c.members() {
		if st, ok := readStat(pid, buf); ok && st.pgid != pgid && !st.dead() {
			syscall.Kill(pid, sig)
		}
	}
}

// populated reports whether a living process is left in the cgroup
// (zombies are not counted by the kernel).
func (c *cgroupRun) populated() bool {
	fd, err := unix.Open(filepath.Join(c.dir, "cgroup.events"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	var buf [256]byte
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err != nil || n <= 0 {
		return false
	}
	for _, l := range bytes.Split(buf[:n], []byte{'\n'}) {
		if v, ok := bytes.CutPrefix(l, []byte("populated ")); ok {
			return string(v) != "0"
		}
	}
	return false
}

// kill SIGKILLs everything in the cgroup.
func (c *cgroupRun) kill() {
	os.WriteFile(filepath.Join(c.dir, "cgroup.kill"), []byte("1"), 0)
}

// remove removes the cgroup and those the program created below it. A
// cgroup whose last process just died may be busy for a moment.
func (c *cgroupRun) remove() error {
	c.closeFD()
	if unix.Rmdir(c.dir) == nil { // the common case: no cgroups below
		return nil
	}
	var dirs []string
	filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	var err error
	for i := len(dirs) - 1; i >= 0; i-- { // children first
		pause := time.Millisecond
		for range 8 {
			err = unix.Rmdir(dirs[i])
			if err != unix.EBUSY {
				break
			}
			time.Sleep(pause)
			pause *= 2
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove cgroup %s: %w", c.dir, err)
	}
	return nil
}
