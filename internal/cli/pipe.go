package cli

import (
	"errors"
	"io"
	"sync"
	"syscall"
)

// pipeGuard passes writes through to w and calls broken once when w reports
// a closed pipe (EPIPE). Safe for concurrent use if w is.
type pipeGuard struct {
	w      io.Writer
	broken func()
	once   sync.Once
}

func (g *pipeGuard) Write(p []byte) (int, error) {
	n, err := g.w.Write(p)
	if err != nil && errors.Is(err, syscall.EPIPE) {
		g.once.Do(g.broken)
	}
	return n, err
}
