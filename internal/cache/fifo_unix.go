//go:build unix

package cache

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// fifoWait is how long openFIFO waits for a reader.
var fifoWait = 10 * time.Second

// openFIFO opens a FIFO for writing without blocking for ever: a blocking
// open waits for a reader and cannot be interrupted, so the open is
// non-blocking (it fails with ENXIO while nobody reads) and retried for
// fifoWait; the file is then made blocking for the write.
func openFIFO(path string) (*os.File, error) {
	deadline := time.Now().Add(fifoWait)
	for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			rc, err := f.SyscallConn()
			if err == nil {
				rc.Control(func(fd uintptr) { syscall.SetNonblock(int(fd), false) })
			}
			return f, nil
		}
		if !errors.Is(err, syscall.ENXIO) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("nothing reads the FIFO %s (waited %s)", path, fifoWait)
		}
		time.Sleep(pause)
	}
}
