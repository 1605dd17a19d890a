// Package proxy owns `--proxy PUBLIC=PRIVATE`: it accepts connections on a
// public listener that fnrun keeps open and forwards each one to the
// private address the supervised program listens on, so that a call made
// while the program restarts is held until the next run accepts, not
// refused by the kernel.
//
// Each accepted connection dials [Proxy.Private]; while that is refused
// (ECONNREFUSED, or ENOENT for a unix socket not created yet) the dial is
// retried with a short, growing interval until it succeeds, the
// connection has waited [Proxy.MaxWait], or Serve's context is done. Then
// bytes are copied both ways; a half-close (EOF on one side's read) is
// passed on as CloseWrite to the other side while the other direction
// goes on, and an error on either side (a reset) ends both at once: a TCP
// peer then gets a reset, not a clean end, so a program that dies
// mid-answer is never seen as one that finished its answer.
//
// Limits:
//
//   - Every byte is copied once more, through fnrun. On Linux, when at
//     least one of the two sides is a TCP connection, the copy is a kernel
//     splice and does not pass through user space; between two unix
//     sockets it goes through a 32 KiB buffer.
//   - The program sees fnrun's address as the peer of every connection,
//     not the client's; there is no PROXY protocol header.
//   - A connection waits at most MaxWait for the program to accept; after
//     that it is closed without a byte, as if the program had hung up. A
//     client that gives up earlier still holds its place until then.
//   - A connection that the program's listener had queued but never
//     accepted when the program exited is reset by the kernel. Until the
//     program sends its first byte, the proxy keeps what the client sent
//     (up to 64 KiB) and, on a reset before any answer, sends it again to
//     the next run (forward.go). So a program that read part of a call and
//     then reset the connection (a crash in the middle of reading) sees
//     that call again; one that read it and closed without answering does
//     not (that is a FIN, not a reset).
//   - There is no idle timeout: a connection lasts as long as both ends
//     keep it open, or until Serve's context is done.
//
// Concurrency contract: a Proxy is read-only once Serve is called; Serve
// may be called from several goroutines at once, each with its own
// listener. The package never prints and holds no global state.
package proxy
