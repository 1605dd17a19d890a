//go:build unix && !linux && !darwin

package control

import (
	"errors"
	"net"
)

// peerUID fails closed where this package has no peer-credential call yet:
// every peer is refused.
func peerUID(*net.UnixConn) (int, error) {
	return 0, errors.New("peer credentials are not supported on this system")
}
