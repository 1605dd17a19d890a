//go:build linux

package runner

import (
	"bytes"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

/*
Reading processes from /proc. A process is known by its pid and its start
time (clock ticks after boot, field 22 of /proc/PID/stat): the pair names
one process even across pid reuse, so sets of processes kept between scans
are keyed by both. Files are read with raw syscalls into one buffer: a scan
of all processes costs about 10 µs per process, and is done only on the
slow paths (a stop, a run that left processes behind, Supervisor.Signal).
*/

// procStat is what the runner needs from /proc/PID/stat.
type procStat struct {
	pid, ppid, pgid, sid int
	start                uint64 // start time in clock ticks after boot
	state                byte   // R, S, D, Z, ...
}

func (p procStat) dead() bool { return p.state == 'Z' || p.state == 'X' }

// statBuf is large enough for the fields up to the start time: the command
// name is at most 16 bytes (64 for kernel threads).
const statBuf = 512

// readStat reads /proc/PID/stat. ok is false when the process is gone or
// the file cannot be parsed.
func readStat(pid int, buf []byte) (procStat, bool) {
	var path [32]byte
	p := append(append(path[:0], "/proc/"...), strconv.Itoa(pid)...)
	p = append(p, "/stat"...)
	fd, err := syscall.Open(string(p), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return procStat{}, false
	}
	n, err := syscall.Read(fd, buf)
	syscall.Close(fd)
	if err != nil || n <= 0 {
		return procStat{}, false
	}
	return parseStat(pid, buf[:n])
}

// parseStat parses "pid (comm) state ppid pgrp session ... starttime ...";
// comm may contain spaces and ')'.
func parseStat(pid int, b []byte) (procStat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, false
	}
	st := procStat{pid: pid, state: b[i+2]}
	b = b[i+2:]
	for field := 0; field <= 19; field++ { // field 0 is the state
		j := bytes.IndexByte(b, ' ')
		if j < 0 {
			j = len(b)
		}
		v := b[:j]
		switch field {
		case 1:
			st.ppid = atoiBytes(v)
		case 2:
			st.pgid = atoiBytes(v)
		case 3:
			st.sid = atoiBytes(v)
		case 19:
			n, err := strconv.ParseUint(string(v), 10, 64)
			if err != nil {
				return procStat{}, false
			}
			st.start = n
			return st, true
		}
		if j == len(b) {
			break
		}
		b = b[j+1:]
	}
	return procStat{}, false
}

func atoiBytes(b []byte) int {
	n := 0
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// pidNames lists the numeric entries of a /proc directory.
func pidNames(dir string) ([]int, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, name := range names {
		if pid, err := strconv.Atoi(name); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// readProcs reads every process. It fails only when /proc cannot be listed.
func readProcs(buf []byte) ([]procStat, error) {
	pids, err := pidNames("/proc")
	if err != nil {
		return nil, err
	}
	procs := make([]procStat, 0, len(pids))
	for _, pid := range pids {
		if st, ok := readStat(pid, buf); ok {
			procs = append(procs, st)
		}
	}
	return procs, nil
}

// readChildren reads the children of process self from
// /proc/self/task/*/children (CONFIG_PROC_CHILDREN); ok is false where the
// kernel lacks those files, and the caller scans all processes instead.
func readChildren(buf []byte) (kids []procStat, ok bool) {
	tids, err := pidNames("/proc/self/task")
	if err != nil || len(tids) == 0 {
		return nil, false
	}
	for _, tid := range tids {
		data, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/children")
		if err != nil {
			if os.IsNotExist(err) {
				_, terr := os.Stat("/proc/self/task/" + strconv.Itoa(tid))
				if terr == nil { // the thread is there, the file is not
					return nil, false
				}
			}
			continue // the thread ended
		}
		for _, f := range bytes.Fields(data) {
			if st, ok := readStat(atoiBytes(f), buf); ok {
				kids = append(kids, st)
			}
		}
	}
	return kids, true
}

// pidfdPids returns the pids of the processes this process holds a pidfd
// for, from /proc/self/fdinfo. Since Go 1.23 os.StartProcess (and so
// os/exec) keeps a pidfd for every child it starts until Wait reaps it:
// this is the set of children some code in this process will wait for.
func pidfdPids(buf []byte) map[int]bool {
	fds, err := pidNames("/proc/self/fd")
	if err != nil {
		return nil
	}
	pids := make(map[int]bool)
	link := make([]byte, 64)
	for _, fd := range fds {
		name := "/proc/self/fd/" + strconv.Itoa(fd)
		n, err := syscall.Readlink(name, link)
		if err != nil || !bytes.Equal(link[:n], []byte("anon_inode:[pidfd]")) {
			continue
		}
		f, err := syscall.Open("/proc/self/fdinfo/"+strconv.Itoa(fd), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		n, _ = syscall.Read(f, buf)
		syscall.Close(f)
		if n <= 0 {
			continue
		}
		b := buf[:n]
		if i := bytes.Index(b, []byte("\nPid:")); i >= 0 {
			v := bytes.TrimSpace(b[i+5:])
			if j := bytes.IndexByte(v, '\n'); j >= 0 {
				v = v[:j]
			}
			if pid := atoiBytes(bytes.TrimSpace(v)); pid > 0 {
				pids[pid] = true
			}
		}
	}
	return pids
}

// osUsesPidfds reports whether package os tracks the children it starts
// with pidfds. It makes the probe os makes before it first does (Go 1.23 and
// later, os/pidfd_linux.go): a pidfd of this process can be opened, waited
// on (ECHILD: we are not our own parent) and signalled with 0. A few
// syscalls, where finding the pidfd of a started child in /proc/self/fdinfo
// costs one readlink per open descriptor.
func osUsesPidfds() bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	for {
		err = unix.Waitid(unix.P_PIDFD, fd, nil, unix.WEXITED|unix.WNOHANG, nil)
		if err != unix.EINTR {
			break
		}
	}
	if err != unix.ECHILD {
		return false
	}
	return unix.PidfdSendSignal(fd, 0, nil, 0) == nil
}
