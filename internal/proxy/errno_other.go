//go:build !unix

package proxy

import (
	"errors"
	"net"
)

// refused reports whether a dial failed because nothing listens at the
// address; on this system it cannot be told, so every failure is logged.
func refused(err error) bool { return false }

// temporaryAccept reports whether an Accept error is worth retrying; on
// this system only timeouts are.
func temporaryAccept(err error) bool {
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}
