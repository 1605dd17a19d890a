//go:build linux || openbsd || dragonfly || solaris || illumos

package build

import (
	"io/fs"
	"syscall"
	"time"
)

// changeTime returns the inode change time (ctime) of fi: set by the kernel on
// every write or metadata change and not settable by Chtimes. Zero when
// unknown.
func changeTime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec))
	}
	return time.Time{}
}
