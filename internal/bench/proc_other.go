//go:build !linux

package main

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
