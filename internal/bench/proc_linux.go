package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER from <linux/prctl.h>.
const prSetChildSubreaper = 36

// clockTicksPerSecond is USER_HZ, 100 on every Linux the bench runs on.
const clockTicksPerSecond = 100

// becomeSubreaper makes orphaned descendants children of the bench.
func becomeSubreaper() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	return nil
}

// procStat is what the bench reads from /proc/PID/stat.
type procStat struct {
	pid, ppid, pgid int
	ticks           int64 // utime + stime, in clock ticks
}

func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("read /proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state); ppid 4, pgrp 5, utime 14, stime 15.
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("read /proc/%d/stat: %d fields", pid, len(f))
	}
	st := procStat{pid: pid}
	st.ppid, _ = strconv.Atoi(f[1])
	st.pgid, _ = strconv.Atoi(f[2])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	st.ticks = ut + stt
	return st, nil
}

// readRSS returns VmRSS of pid in bytes.
func readRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "1234 kB"
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read /proc/%d/status: VmRSS %q", pid, v)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("read /proc/%d/status: no VmRSS", pid)
}

// childrenOf returns the processes whose parent is pid.
func childrenOf(pid int) []procStat {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []procStat
	for _, d := range dirs {
		n, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if st, err := readStat(n); err == nil && st.ppid == pid {
			out = append(out, st)
		}
	}
	return out
}

// killOrphans kills the groups of processes re-parented to the bench (it is
// a subreaper) and reaps them. Children the bench started itself have all
// been waited for by then, so any child left is an orphan.
func killOrphans() {
	for range 3 {
		kids := childrenOf(os.Getpid())
		if len(kids) == 0 {
			return
		}
		for _, k := range kids {
			syscall.Kill(-k.pgid, syscall.SIGKILL)
			syscall.Kill(k.pid, syscall.SIGKILL)
		}
		for _, k := range kids {
			var ws syscall.WaitStatus
			syscall.Wait4(k.pid, &ws, 0, nil)
		}
	}
}
