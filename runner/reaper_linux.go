//go:build linux

package runner

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

/*
Processes that leave the group, on Linux: the subreaper.

A program's descendant that calls setsid (every daemon does, often after a
double fork) is no longer in the run's process group, so kill(-pgid) misses
it. The first start of any Supervisor makes this process a child subreaper
(PR_SET_CHILD_SUBREAPER, set once and never cleared: other supervisors may
run later), so that such a descendant, once its parent exits, is re-parented
to fnrun instead of init. The reaper then has two jobs: reap the orphans it
adopts (nobody else will wait for them; this also makes fnrun do PID 1's
duty when it is PID 1), and, for runs without a cgroup (cgroup_linux.go),
hand every run the processes that belong to it, so that a stop reaches them
with the group.

Which children are adopted orphans. A reaper must never wait for a child it
does not own: the program's leader is reaped by cmd.Wait in proc.go, and
other code in the process (the build's go command, fetch's git) waits for
its own children. The rule: a child of this process (PPid = our pid) is an
adopted orphan unless some code here started it, and "started here" is told
by the kernel: os.StartProcess, and so os/exec, holds a pidfd for every
child it starts, from the clone until Wait has reaped it, and
/proc/self/fdinfo names the pid of each pidfd. So: adopted = our children
for which this process holds no pidfd and which are not a running leader.
Whether os uses pidfds (Linux 5.4 or later, not forbidden by seccomp) is
decided once, with the probe os itself makes (osUsesPidfds; a test checks
it against /proc/self/fdinfo after a real start). Where it
does not, the rule falls back to sessions and groups: a child is taken as
started here when it is in fnrun's session and leads its own group or is in
fnrun's group (how go and git are started: Setpgid or nothing); a child in
another session (setsid) or in a foreign group is adopted. The fallback does
not reap an orphan that only called setpgid, and stops it only if a scan saw
it before its parent exited. Code that starts children with syscall.ForkExec
directly (no pidfd) in a process using Supervisor must reap them before they
can be mistaken for orphans: fnrun has none. A zombie is reaped only after a
second look at /proc/PID/stat, taken after the pidfd set was read, shows the
same zombie (same start time): a zombie's pidfd is closed only once it has
been reaped, so it cannot have been owned.

Attribution (runs without a cgroup). A run is registered with its leader's
pid and start time. Every scan of /proc computes the run's escaped
processes: the living descendants (by parent links) of its leader, of the
members of its group and of the orphans already attributed to it, that are
outside its group. A descendant seen in a scan is attributed exactly. An
orphan found adopted without having been seen (its parent exited between
scans: nothing polls while a program runs) is attributed to the runs that
hold a process of its session or group if there are any, or else to every
registered run whose leader started no later than the orphan did. With one
Supervisor in the process (fnrun exec, fnrun run) this is exact. With
several (a future fnrun up) an orphan may be attributed to several runs,
and is then stopped by whichever of them stops first: over-attribution,
never a leak. Cgroups have no such ambiguity, and are used where they work.

When it looks. On SIGCHLD, and after cmd.Wait reaped a leader, the reaper
asks the kernel for an exited child without reaping it (waitid WNOWAIT):
usually there is none, or it is a leader that cmd.Wait reaps (and then
looks again); only a zombie of other code here makes it read the children
list. Whole scans of /proc happen when a running program is stopped (to
find its descendants outside the group before signalling), when a leader
that exited by itself may have left something (this process has children
it did not start), while a stop waits, and in Supervisor.Signal. The pids of
adopted children are safe to signal: they are pinned until the reaper,
holding mu, reaps them.

When fnrun itself is killed with SIGKILL, the parent-death signal
(proc_linux.go) kills only each run's leader. What remains: the other
members of its group and every escaped descendant keep running, re-parented
to the next subreaper up or to init; with cgroups they stay in the run's
cgroup (fnrun-PID-N under fnrun's own cgroup, named in the "containment"
debug line), which `echo 1 > cgroup.kill` empties; the next fnrun removes
the empty directory.
*/

// reaper is process-wide because the subreaper attribute and SIGCHLD are.
var reap = &reaper{}

type reaper struct {
	once              sync.Once
	self              int
	selfSid, selfPgid int

	// startMu is held for reading from a leader's start until it is
	// registered, and for writing by scans: a scan never sees a leader that
	// is started but not yet known (which matters without pidfds).
	startMu sync.RWMutex

	mu      sync.Mutex // guards the fields below
	pidfd   int8       // 1: os holds pidfds for its children; -1: it does not
	leaders map[int]bool
	runs    map[*tracked]bool
	buf     []byte
}

// procKey names one process across pid reuse.
type procKey struct {
	pid   int
	start uint64
}

// tracked is one run in subreaper mode. Its fields are guarded by reap.mu.
type tracked struct {
	leader int    // also the pgid of the run's group
	start  uint64 // the leader's start time
	killed bool   // SIGKILL phase: anything found from now on is killed at once
	procs  map[procKey]bool
	sids   map[int]bool // sessions and groups of procs (other than the run's group and fnrun's)
}

// init makes the process a child subreaper and starts reaping on SIGCHLD.
// It runs once, on the first start of any Supervisor.
func (r *reaper) init() {
	r.once.Do(func() {
		r.self = os.Getpid()
		r.selfSid, _ = unix.Getsid(0)
		r.selfPgid = syscall.Getpgrp()
		r.leaders = make(map[int]bool)
		r.runs = make(map[*tracked]bool)
		r.buf = make([]byte, statBuf)
		r.pidfd = -1
		if osUsesPidfds() {
			r.pidfd = 1
		}
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) // best effort: orphans then go to init
		// Enabling a signal is a round trip to the runtime's signal thread:
		// it is not made on the way to the first start. An orphan that
		// died before is reaped by the first pass.
		go func() {
			ch := make(chan os.Signal, 1)
			signal.Notify(ch, syscall.SIGCHLD)
			r.reapZombies()
			for range ch {
				r.reapZombies()
			}
		}()
	})
}

// starting must be called before a leader is started, and the returned
// function once it is registered (or failed to start).
func (r *reaper) starting() (done func()) {
	r.init()
	r.startMu.RLock()
	return r.startMu.RUnlock
}

// register records a leader that was just started, before anything waits
// for it. With track, the run's escaped processes are tracked (subreaper
// mode) and the returned value is not nil.
func (r *reaper) register(pid int, track bool) *tracked {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leaders[pid] = true
	if !track {
		return nil
	}
	t := &tracked{leader: pid, procs: make(map[procKey]bool), sids: make(map[int]bool)}
	if st, ok := readStat(pid, r.buf); ok { // our unreaped child: readable
		t.start = st.start
	}
	r.runs[t] = true
	return t
}

// unregister forgets a run whose leader was reaped and whose processes are
// gone (or could not be killed).
func (r *reaper) unregister(pid int, t *tracked) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.leaders, pid)
	if t != nil {
		delete(r.runs, t)
	}
}

// owned reports whether some code in this process will wait for its child p.
func (r *reaper) owned(p procStat, pidfds map[int]bool) bool {
	if r.leaders[p.pid] || pidfds[p.pid] {
		return true
	}
	if r.pidfd > 0 {
		return false
	}
	// Without pidfds (Linux < 5.4, or seccomp) children we started cannot
	// be told from adopted ones exactly. internal/toolcmd starts go and git
	// as session leaders (Setsid), so a session leader counts as ours: a
	// running build must never be stopped or reaped by mistake. The price,
	// on such kernels only: a descendant that escaped with setsid is not
	// contained.
	return p.sid == p.pid || (p.sid == r.selfSid && (p.pgid == p.pid || p.pgid == r.selfPgid))
}

// reapOne reaps the zombie child p, which nobody else waits for, if it is
// still the same zombie. Called with mu held, after pidfds were read.
func (r *reaper) reapOne(p procStat) {
	st, ok := readStat(p.pid, r.buf)
	if !ok || st.start != p.start || !st.dead() || st.ppid != r.self {
		return
	}
	var ws syscall.WaitStatus
	syscall.Wait4(p.pid, &ws, syscall.WNOHANG, nil)
	k := procKey{p.pid, p.start}
	for t := range r.runs {
		delete(t.procs, k)
	}
}

// reapZombies runs on SIGCHLD, and after a leader was reaped: it reaps the
// adopted orphans that died.
func (r *reaper) reapZombies() {
	r.startMu.Lock()
	defer r.startMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for range 64 { // a bound: each turn reaps one orphan or ends
		pid, _ := waitablePID()
		if pid <= 0 {
			return
		}
		if r.leaders[pid] {
			// cmd.Wait is about to reap it and then calls reapZombies
			// again for the orphans that may hide behind it.
			return
		}
		st, ok := readStat(pid, r.buf)
		if !ok {
			continue // reaped meanwhile by its owner
		}
		if r.owned(st, pidfdPids(r.buf)) {
			// Another owner is about to reap it: look behind it.
			r.reapChildren()
			return
		}
		r.reapOne(st)
	}
}

// reapChildren reaps every adopted zombie child. Called with mu held.
func (r *reaper) reapChildren() {
	kids, ok := readChildren(r.buf)
	if !ok {
		all, err := readProcs(r.buf)
		if err != nil {
			return
		}
		for _, p := range all {
			if p.ppid == r.self {
				kids = append(kids, p)
			}
		}
	}
	var pidfds map[int]bool
	for _, p := range kids {
		if !p.dead() {
			continue
		}
		if pidfds == nil {
			pidfds = pidfdPids(r.buf)
		}
		if !r.owned(p, pidfds) {
			r.reapOne(p)
		}
	}
}

// waitablePID returns a child that has exited and is not reaped yet,
// without reaping it, or 0; the error is ECHILD when there is no child.
func waitablePID() (int, error) {
	var info unix.Siginfo
	err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT|unix.WALL, nil)
	if err != nil {
		return 0, err
	}
	// si_pid follows signo, errno, code and, on 64-bit systems, padding
	// that aligns the union.
	off := uintptr(12)
	if unsafe.Sizeof(uintptr(0)) == 8 {
		off = 16
	}
	return int(*(*int32)(unsafe.Add(unsafe.Pointer(&info), off))), nil
}

// scan reads every process, reaps adopted orphans that died, attributes the
// living ones, and recomputes the escaped processes of every tracked run.
// Called with startMu (for writing) and mu held.
func (r *reaper) scan() {
	all, err := readProcs(r.buf)
	if err != nil {
		return
	}
	pidfds := pidfdPids(r.buf) // after the snapshot: see reapOne
	for _, p := range all {
		if p.ppid != r.self || r.owned(p, pidfds) {
			continue
		}
		if p.dead() {
			r.reapOne(p)
		} else {
			r.attribute(p)
		}
	}
	if len(r.runs) == 0 {
		return
	}
	index := make(map[int]int, len(all))
	kids := make(map[int][]int)
	for i, p := range all {
		index[p.pid] = i
		if !p.dead() {
			kids[p.ppid] = append(kids[p.ppid], i)
		}
	}
	for t := range r.runs {
		r.refresh(t, all, index, kids)
	}
}

// attribute hands an adopted orphan that is alive to the runs it belongs to.
func (r *reaper) attribute(p procStat) {
	k := procKey{p.pid, p.start}
	for t := range r.runs {
		if t.procs[k] || p.pgid == t.leader { // known, or in a group: refresh finds it
			return
		}
	}
	var cands []*tracked
	for t := range r.runs {
		if t.sids[p.sid] || t.sids[p.pgid] {
			cands = append(cands, t)
		}
	}
	if len(cands) == 0 {
		for t := range r.runs {
			if t.start <= p.start {
				cands = append(cands, t)
			}
		}
	}
	for _, t := range cands {
		t.procs[k] = true
		if t.killed {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
	}
}

// refresh recomputes t's escaped processes from a snapshot: the living
// descendants of its leader, its group's members and its escaped processes
// that are outside its group.
func (r *reaper) refresh(t *tracked, all []procStat, index map[int]int, kids map[int][]int) {
	var stack []int
	if i, ok := index[t.leader]; ok && all[i].start == t.start {
		stack = append(stack, i)
	}
	for k := range t.procs {
		if i, ok := index[k.pid]; ok && all[i].start == k.start {
			stack = append(stack, i)
		}
	}
	for i, p := range all {
		if p.pgid == t.leader && p.start >= t.start && !p.dead() {
			stack = append(stack, i)
		}
	}
	procs := make(map[procKey]bool)
	sids := make(map[int]bool)
	seen := make(map[int]bool)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		p := all[i]
		if seen[p.pid] {
			continue
		}
		seen[p.pid] = true
		stack = append(stack, kids[p.pid]...)
		if p.dead() || p.pgid == t.leader {
			continue
		}
		k := procKey{p.pid, p.start}
		procs[k] = true
		if t.killed && !t.procs[k] {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
		for _, id := range [2]int{p.sid, p.pgid} {
			if id != t.leader && id != r.selfSid && id != r.selfPgid {
				sids[id] = true
			}
		}
	}
	t.procs, t.sids = procs, sids
}

// signal sends sig to t's escaped processes, found by a fresh scan.
func (r *reaper) signal(t *tracked, sig syscall.Signal) {
	r.startMu.Lock()
	defer r.startMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if sig == syscall.SIGKILL {
		t.killed = true // from the scan on, new ones are killed as found
	}
	r.scan()
	for k := range t.procs {
		syscall.Kill(k.pid, sig)
	}
}

// alive reports whether t has escaped processes left.
func (r *reaper) alive(t *tracked) bool {
	r.startMu.Lock()
	defer r.startMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scan()
	return len(t.procs) > 0
}

// adopted reports, cheaply, whether this process has children it did not
// start (running or not): after a leader exited by itself, a run in
// subreaper mode can have left something behind only then. Without any
// child (fnrun exec once the leader is reaped) that is one syscall.
func (r *reaper) adopted() bool {
	if _, err := waitablePID(); err == unix.ECHILD {
		return false
	}
	r.startMu.Lock()
	defer r.startMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	kids, ok := readChildren(r.buf)
	if !ok {
		all, err := readProcs(r.buf)
		if err != nil {
			return true
		}
		for _, p := range all {
			if p.ppid == r.self {
				kids = append(kids, p)
			}
		}
	}
	if len(kids) == 0 {
		return false
	}
	pidfds := pidfdPids(r.buf)
	for _, p := range kids {
		if !r.owned(p, pidfds) {
			return true
		}
	}
	return false
}
