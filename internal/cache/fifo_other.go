//go:build !unix

package cache

import "os"

// openFIFO opens a FIFO for writing (no FIFOs to wait for here).
func openFIFO(path string) (*os.File, error) { return os.OpenFile(path, os.O_WRONLY, 0) }
