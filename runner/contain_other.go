//go:build unix && !linux

package runner

import (
	"os/exec"
	"syscall"
)

// contain finds nothing outside a run's process group on systems without
// subreapers or cgroups: a descendant that calls setsid escapes the stop.
type contain struct{}

func newContain(bool) *contain { return &contain{} }

func (c *contain) start(mk func() *exec.Cmd) (*exec.Cmd, error) {
	cmd := mk()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

func (c *contain) reaped()                              {}
func (c *contain) mode() (mode, path string, why error) { return "group", "", nil }
func (c *contain) signal(syscall.Signal)                {}
func (c *contain) kill()                                {}
func (c *contain) alive() bool                          { return false }
func (c *contain) release() error                       { return nil }
func (c *contain) recycle() (*contain, error)           { return nil, nil }

func warmContain() {}
