package memtrim

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimExecutable drops the mappings of the executable's read-only segments
// (code, constants, tables): the kernel mapped them as start-up touched
// them, 64 KiB around each page it needed (fault-around), and they count in
// the RSS of an idle process as if it used them. The pages stay in the page
// cache; what runs or is read later is mapped again on its first use. Only
// a segment without a private copy of any page is dropped (Anonymous: 0 in
// smaps): MADV_DONTNEED on a written private page would lose the writes.
func trimExecutable() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return
	}
	var start, end uint64
	candidate := false // the current mapping is a read-only one of exe
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mappingRange(line); ok {
			f := strings.Fields(line)
			start, end = lo, hi
			candidate = len(f) >= 6 && f[5] == exe && (f[1] == "r-xp" || f[1] == "r--p")
			continue
		}
		if !candidate {
			continue
		}
		if v, ok := strings.CutPrefix(line, "Anonymous:"); ok {
			if strings.TrimSpace(v) == "0 kB" {
				unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
			}
			candidate = false
		}
	}
}

// mappingRange parses the "START-END perms ..." line that opens a mapping
// in smaps.
func mappingRange(line string) (lo, hi uint64, ok bool) {
	r, _, found := strings.Cut(line, " ")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(r, "-")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(a, 16, 64)
	hi, err2 := strconv.ParseUint(b, 16, 64)
	return lo, hi, err1 == nil && err2 == nil && hi > lo
}
