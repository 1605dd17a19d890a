//go:build linux

package runner

import (
	"bytes"
	"os"
	"strconv"
)

// onlyZombies reports whether every process of the group pgid is a zombie,
// by reading /proc/*/stat. It is called only on the slow path, when a
// group outlived its leader. When /proc cannot be read it reports false.
func onlyZombies(pgid int) bool {
	d, err := os.Open("/proc")
	if err != nil {
		return false
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return false
	}
	want := []byte(strconv.Itoa(pgid))
	buf := make([]byte, 512)
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		f, err := os.Open("/proc/" + name + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		n, _ := f.Read(buf)
		f.Close()
		// pid (comm) state ppid pgrp ...; comm may contain spaces and ')'.
		s := buf[:n]
		i := bytes.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f3 := bytes.Fields(s[i+1:])
		if len(f3) < 3 || !bytes.Equal(f3[2], want) {
			continue
		}
		if f3[0][0] != 'Z' && f3[0][0] != 'X' {
			return false
		}
	}
	return true
}
