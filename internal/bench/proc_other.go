//go:build unix && !linux

package main

import "errors"

// errUnsupported is returned by the process readers off Linux: they read
// /proc, which macOS has not and the BSDs lay out differently.
var errUnsupported = errors.New("not supported on this system")

// clockTicksPerSecond matches proc_linux.go; the readers below never return
// ticks, so its value only keeps the callers compiling.
const clockTicksPerSecond = 100

type procStat struct {
	pid, ppid, pgid int
	ticks           int64
}

func becomeSubreaper() error         { return errUnsupported }
func readStat(int) (procStat, error) { return procStat{}, errUnsupported }
func readRSS(int) (int64, error)     { return 0, errUnsupported }
func childrenOf(int) []procStat      { return nil }
func killOrphans()                   {}
