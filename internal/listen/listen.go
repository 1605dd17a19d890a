// Package listen binds the sockets fnrun holds for its programs (--listen,
// listen: in fnrun.yaml): parsed from [NAME=]ADDR, bound once before the
// first start and kept for fnrun's whole life, so that connections wait in
// the kernel's backlog while a program restarts instead of being refused.
// The runner hands them to every run with the systemd protocol
// (runner.Listener).
package listen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/fnrun/fnrun/runner"
)

// Spec is one parsed --listen value.
type Spec struct {
	Name    string // LISTEN_FDNAMES entry; "" means "listen"
	Network string // tcp or unix
	Address string // host:port, or an absolute path
}

func (s Spec) String() string {
	addr := s.Network + "://" + s.Address
	if s.Network == "tcp" {
		addr = s.Address
	}
	if s.Name != "" {
		return s.Name + "=" + addr
	}
	return addr
}

// Parse reads [NAME=]ADDR: ADDR is HOST:PORT, :PORT, tcp://HOST:PORT or
// unix:///abs/path. NAME is what the program finds in LISTEN_FDNAMES.
func Parse(s string) (Spec, error) {
	var sp Spec
	rest := s
	if i := strings.Index(s, "="); i >= 0 && !strings.Contains(s[:i], "/") && !strings.Contains(s[:i], ":") {
		sp.Name, rest = s[:i], s[i+1:]
		if err := validName(sp.Name); err != nil {
			return sp, fmt.Errorf("%q: %w", s, err)
		}
	}
	switch {
	case strings.HasPrefix(rest, "unix://"):
		p := strings.TrimPrefix(rest, "unix://")
		if !filepath.IsAbs(p) {
			return sp, fmt.Errorf("%q: a unix socket needs an absolute path (unix:///run/fn.sock)", s)
		}
		sp.Network, sp.Address = "unix", filepath.Clean(p)
		return sp, nil
	case strings.HasPrefix(rest, "tcp://"):
		rest = strings.TrimPrefix(rest, "tcp://")
	case strings.Contains(rest, "://"):
		return sp, fmt.Errorf("%q: want HOST:PORT, tcp://HOST:PORT or unix:///PATH", s)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		return sp, fmt.Errorf("%q: want HOST:PORT, tcp://HOST:PORT or unix:///PATH", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return sp, fmt.Errorf("%q: bad port %q", s, port)
	}
	sp.Network, sp.Address = "tcp", net.JoinHostPort(host, port)
	return sp, nil
}

// validName checks a LISTEN_FDNAMES entry: printable, no ':', 1-255 bytes.
func validName(n string) error {
	if n == "" || len(n) > 255 {
		return errors.New("a listener name must be 1 to 255 characters")
	}
	for _, r := range n {
		if r == ':' || r < 0x21 || r > 0x7e {
			return fmt.Errorf("listener name %q: only printable ASCII without ':' or spaces", n)
		}
	}
	return nil
}

// BusyError is returned by Bind for an address another program holds.
type BusyError struct {
	Spec Spec
	Err  error
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("--listen %s: the address is in use by another program (stop it, or choose another address)", e.Spec)
}
func (e *BusyError) Unwrap() error { return e.Err }

// Set is the bound sockets of one fnrun.
type Set struct {
	lns   []net.Listener
	files []runner.Listener
}

// Bind binds every spec, with backlog (0: the system's maximum, somaxconn)
// and returns the set; on any failure nothing stays bound. A unix socket
// path left by a dead program (connections refused) is replaced; one that
// answers, or a path that is not a socket, is an error.
func Bind(specs []Spec, backlog int) (*Set, error) {
	s := &Set{}
	for _, sp := range specs {
		l, err := bind(sp)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.lns = append(s.lns, l)
		f, err := l.(interface{ File() (*os.File, error) }).File()
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("--listen %s: %w", sp, err)
		}
		// Blocking, as systemd hands sockets over: a C program's accept
		// must not get EAGAIN. fnrun never accepts on it itself.
		if err := syscall.SetNonblock(int(f.Fd()), false); err != nil {
			f.Close()
			s.Close()
			return nil, fmt.Errorf("--listen %s: %w", sp, err)
		}
		if backlog > 0 {
			// listen(2) again on a listening socket sets its backlog.
			if err := syscall.Listen(int(f.Fd()), backlog); err != nil {
				f.Close()
				s.Close()
				return nil, fmt.Errorf("--listen %s: backlog %d: %w", sp, backlog, err)
			}
		}
		s.files = append(s.files, runner.Listener{Name: sp.Name, File: f})
	}
	return s, nil
}

func bind(sp Spec) (net.Listener, error) {
	l, err := net.Listen(sp.Network, sp.Address)
	if err == nil {
		if ul, ok := l.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(true)
		}
		return l, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("--listen %s: %w", sp, err)
	}
	if sp.Network != "unix" {
		return nil, &BusyError{Spec: sp, Err: err}
	}
	// A unix socket path: replace it only if it is a socket nobody serves.
	fi, lerr := os.Lstat(sp.Address)
	if lerr != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("--listen %s: %s exists and is not a socket", sp, sp.Address)
	}
	if c, derr := net.Dial("unix", sp.Address); derr == nil {
		c.Close()
		return nil, &BusyError{Spec: sp, Err: err}
	}
	if err := os.Remove(sp.Address); err != nil {
		return nil, fmt.Errorf("--listen %s: remove the stale socket: %w", sp, err)
	}
	l, err = net.Listen(sp.Network, sp.Address)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", sp, err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(true)
	return l, nil
}

// Listeners are the sockets to hand to every run.
func (s *Set) Listeners() []runner.Listener {
	if s == nil {
		return nil
	}
	return s.files
}

// Addrs are the bound addresses (with the port the system chose for :0).
func (s *Set) Addrs() []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, l := range s.lns {
		out = append(out, l.Addr().Network()+"://"+l.Addr().String())
	}
	return out
}

// Close closes every socket (and removes unix socket files).
func (s *Set) Close() {
	if s == nil {
		return
	}
	for _, f := range s.files {
		f.File.Close()
	}
	for _, l := range s.lns {
		l.Close()
	}
	s.files, s.lns = nil, nil
}
