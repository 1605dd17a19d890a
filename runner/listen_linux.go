//go:build linux

package runner

// defaultShim is the shim of Options without one: the image of the running
// binary, which the child execs even if its file was replaced or deleted
// since fnrun started.
func defaultShim() (string, error) { return "/proc/self/exe", nil }
