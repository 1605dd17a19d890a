//go:build unix

package cache

import (
	"fmt"
	"os"
	"time"
)

// fifoWait is how long openFIFO waits for a reader.
var fifoWait = 10 * time.Second

// openFIFO opens a FIFO for writing without hanging for ever: the open
// blocks until something opens the FIFO for reading, and no signal ends a
// blocked open, so it runs in a goroutine and is given up after fifoWait.
// (A non-blocking open cannot be used: it fails while the reader is still
// inside its own open.) A given-up open is left behind; it is only ever
// done once, at the end of a command.
func openFIFO(path string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		ch <- opened{f, err}
	}()
	t := time.NewTimer(fifoWait)
	defer t.Stop()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-t.C:
		return nil, fmt.Errorf("nothing reads the FIFO %s (waited %s)", path, fifoWait)
	}
}
