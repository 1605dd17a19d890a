//go:build unix

package proxy

import (
	"errors"
	"net"
	"syscall"
)

// refused reports whether a dial failed because nothing listens at the
// address (yet): the program is between runs.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}

// temporaryAccept reports whether an Accept error is worth retrying: a
// resource running out (file descriptors, buffers) or, as accept(2)
// advises for Linux, a network error of the connection being accepted.
// Closed listeners and anything unknown are not.
func temporaryAccept(err error) bool {
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return true
	}
	for _, e := range [...]syscall.Errno{
		syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.EPERM, syscall.EPROTO,
		syscall.ENETDOWN, syscall.ENETUNREACH, syscall.EHOSTDOWN,
		syscall.EHOSTUNREACH, syscall.ENOPROTOOPT, syscall.EOPNOTSUPP,
		syscall.ETIMEDOUT,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
