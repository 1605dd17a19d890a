package cli

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
)

/*
Write errors on fnrun's stdout and stderr. The program's output and fnrun's
events are written through an outGuard per stream; what a failed write
means depends on the error:

	EPIPE       the reader is gone (fnrun … | head): stop the program
	            gracefully and exit 141, as SIGPIPE would, without leaving
	            the program's group behind
	EIO, ENXIO  the terminal is gone (its window was closed): stop the
	            program gracefully and exit 129, as a hangup would
	any other   (a full disk, /dev/full) reported once, on the other
	            stream; the program keeps running and its output to this
	            stream is lost
*/

// outGuard passes writes through to w and acts once on the first error
// that says the stream is gone. Safe for concurrent use if w is.
type outGuard struct {
	w        io.Writer
	name     string           // "stdout" or "stderr"
	tty      bool             // w is a terminal: EIO means it is gone
	stop     func(*stopCause) // ends the command
	other    io.Writer        // where a write error is reported
	stopOnce sync.Once
	reported atomic.Bool
}

func (g *outGuard) Write(p []byte) (int, error) {
	n, err := g.w.Write(p)
	if err == nil {
		return n, nil
	}
	switch {
	case errors.Is(err, syscall.EPIPE):
		g.stopOnce.Do(func() { g.stop(errBrokenPipe) })
	case g.tty && (errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENXIO)):
		g.stopOnce.Do(func() { g.stop(errHangup) })
	default:
		if g.other != nil && g.reported.CompareAndSwap(false, true) {
			cause := err
			if u := errors.Unwrap(err); u != nil {
				cause = u // the errno: the path is g.name
			}
			fmt.Fprintf(g.other, "fnrun: cannot write to %s: %v (its output is lost from here on)\n", g.name, cause)
		}
	}
	return n, err
}
