// Package control owns the control socket of a running fnrun instance: the
// per-user runtime directory that holds the sockets, one unix socket per
// instance, the line-based JSON protocol spoken on it, and the client side
// used by `fnrun ps`, `restart`, `stop`, `start` and `down`.
//
// Every foreground fnrun is its own control point; there is no daemon. An
// instance calls Listen with a Handler that reports its status and carries
// out actions; other fnrun processes of the same user call List and Call.
//
// Security: the runtime directory (Dir) is 0700 and owned by the user,
// symlinks are refused, each socket is 0600, and every accepted peer is
// checked with SO_PEERCRED (LOCAL_PEERCRED on Darwin) to have the server's
// uid; any other peer is closed before a byte is read.
//
// Protocol: one connection carries one request and one response, each a
// single JSON line with a "version" field (ProtocolVersion). The Instance
// and FunctionStatus types are the stable schema of `fnrun ps --json`.
//
// Concurrency contract: a Server serves each connection on its own
// goroutine, so Handler methods are called concurrently. Close may be called
// from any goroutine, once or more. List and Call are safe for concurrent
// use. The package never prints and never exits; it builds on Unix only.
package control

// This package needs Unix: the import makes a build for any other system
// fail with one clear error (see internal/unixonly).
import _ "github.com/fnrun/fnrun/internal/unixonly"
