package proxy

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Addr is an address to listen on or dial: Network is "tcp" or "unix",
// Address is what net.Listen and net.Dial take for it ("host:port" or a
// socket path).
type Addr struct {
	Network string
	Address string
}

// String returns a in the form ParseSpec reads: "host:port" for tcp,
// "unix:///path" for a unix socket.
func (a Addr) String() string {
	if a.Network == "unix" {
		return "unix://" + a.Address
	}
	return a.Address
}

// ParseSpec parses a --proxy value "PUBLIC=PRIVATE": fnrun listens on
// PUBLIC and forwards to PRIVATE. Each side is "host:port", ":port",
// "tcp://host:port", "unix:///abs/path" or "/abs/path" (a unix socket).
// Ports are numbers from 1 to 65535; service names are not looked up.
// Exactly one "=" is allowed, so a socket path cannot contain one. A
// PRIVATE that is PUBLIC itself (see same) is an error: every connection
// would make another one until fnrun runs out of file descriptors.
func ParseSpec(s string) (public, private Addr, err error) {
	pub, priv, ok := strings.Cut(s, "=")
	if !ok {
		return Addr{}, Addr{}, fmt.Errorf("parse proxy %q: want PUBLIC=PRIVATE", s)
	}
	if strings.Contains(priv, "=") {
		return Addr{}, Addr{}, fmt.Errorf("parse proxy %q: more than one \"=\"", s)
	}
	if public, err = parseAddr(pub); err != nil {
		return Addr{}, Addr{}, fmt.Errorf("parse proxy %q: public address: %w", s, err)
	}
	if private, err = parseAddr(priv); err != nil {
		return Addr{}, Addr{}, fmt.Errorf("parse proxy %q: private address: %w", s, err)
	}
	if same(public, private) {
		return Addr{}, Addr{}, fmt.Errorf("parse proxy %q: the private address is the public one: the proxy would forward to itself", s)
	}
	return public, private, nil
}

// same reports whether dialing private would reach a listener on public:
// the same socket path, or the same port on hosts that are equal or where
// one listens on every address and the other is local. Host names other
// than localhost are not resolved, so it can miss a loop, never invent one.
func same(public, private Addr) bool {
	if public.Network != private.Network {
		return false
	}
	if public.Network == "unix" {
		return public.Address == private.Address
	}
	h1, p1, _ := net.SplitHostPort(public.Address)
	h2, p2, _ := net.SplitHostPort(private.Address)
	if p1 != p2 {
		return false
	}
	return h1 == h2 ||
		anyHost(h1) && (anyHost(h2) || localHost(h2)) ||
		anyHost(h2) && localHost(h1)
}

// anyHost reports whether h means every local address: empty, 0.0.0.0 or ::.
func anyHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "" || ip != nil && ip.IsUnspecified()
}

// localHost reports whether h is localhost or a loopback address.
func localHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || ip != nil && ip.IsLoopback()
}

// parseAddr parses one side of a proxy spec; see ParseSpec.
func parseAddr(s string) (Addr, error) {
	if s == "" {
		return Addr{}, errors.New("empty")
	}
	if path, ok := strings.CutPrefix(s, "unix://"); ok {
		return unixAddr(path)
	}
	if strings.HasPrefix(s, "/") {
		return unixAddr(s)
	}
	hostport := strings.TrimPrefix(s, "tcp://")
	if scheme, _, ok := strings.Cut(hostport, "://"); ok {
		return Addr{}, fmt.Errorf("unknown scheme %q (want tcp or unix)", scheme)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return Addr{}, fmt.Errorf("want host:port, :port or unix:///path: %w", err)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return Addr{}, fmt.Errorf("bad port %q (want 1-65535)", port)
	}
	if strings.ContainsAny(host, "/ \t\x00") {
		return Addr{}, fmt.Errorf("bad host %q", host)
	}
	// The port is written back in its canonical form, so that ":080" and
	// ":80" compare equal.
	return Addr{Network: "tcp", Address: net.JoinHostPort(host, strconv.FormatUint(n, 10))}, nil
}

// unixAddr checks a unix socket path.
func unixAddr(path string) (Addr, error) {
	if !strings.HasPrefix(path, "/") {
		return Addr{}, fmt.Errorf("unix socket path %q is not absolute", path)
	}
	if strings.ContainsRune(path, 0) {
		return Addr{}, fmt.Errorf("unix socket path %q contains a NUL byte", path)
	}
	return Addr{Network: "unix", Address: path}, nil
}
