//go:build linux

package runner

// onlyZombies reports whether every process of the group pgid is a zombie,
// by reading /proc/*/stat. It is called only on the slow path, when a
// group outlived its leader. When /proc cannot be read it reports false.
func onlyZombies(pgid int) bool {
	pids, err := pidNames("/proc")
	if err != nil {
		return false
	}
	buf := make([]byte, statBuf)
	for _, pid := range pids {
		st, ok := readStat(pid, buf)
		if ok && st.pgid == pgid && !st.dead() {
			return false
		}
	}
	return true
}
