//go:build unix && !linux

package runner

import "os"

// defaultShim is the shim of Options without one: the running binary.
func defaultShim() (string, error) { return os.Executable() }
