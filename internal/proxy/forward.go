package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// forward connects client to Private, holding it while Private refuses,
// and copies bytes both ways until both directions are done, either side
// fails or ctx is done. It closes client and the connection it dialed.
func (s *server) forward(ctx context.Context, client net.Conn) {
	st := &callState{}
	for range maxReplays + 1 {
		backend, ok := s.dial(ctx)
		if !ok {
			client.Close()
			return
		}
		if !first(ctx, client, backend, st) {
			return
		}
	}
	client.Close()
}

/*
The first exchange. A program that serves one call and exits leaves the
connections that reached its listener's backlog after the one it took to
the kernel, which resets them when the program exits: the dial succeeded,
but no program ever saw the call. So until the program has sent its first
byte, the bytes the client sent are kept (up to replayMax), and a reset
that comes before any answer is taken for such a connection: the proxy
dials again and sends them to the next run. A program that read the call
and closed without answering ends the connection with a FIN, not a reset,
and is not called again; one that reset it after reading only part of the
call would be (rare: a crash in the middle of reading a request).
*/

// Replay limits.
const (
	replayMax  = 64 << 10 // bytes of a call kept for a replay
	maxReplays = 8        // replays of one connection
)

// first forwards client to backend until the backend answers, then pipes
// the rest. It reports whether the call must be sent again to a new
// backend (the backend was reset before answering); then client is still
// open and backend closed, else both are closed.
//
// The client reader is stopped, when the answer starts, with a read
// deadline; a backend that answers before it has read a large call and
// then stops reading keeps that reader (and so the start of the answer)
// waiting until it reads again.
func first(ctx context.Context, client, backend net.Conn, st *callState) (again bool) {
	if len(st.kept) > 0 {
		if _, err := backend.Write(st.kept); err != nil {
			reset(backend)
			return true
		}
	}
	st.upReset = false
	if st.clientDone {
		if closeWrite(backend) != nil {
			reset(backend)
			return true
		}
	}
	stop := sync.OnceFunc(onDone(ctx, func() {
		reset(client)
		reset(backend)
	}))
	defer stop()
	// client → backend, keeping the bytes, until the answer starts.
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		buf := make([]byte, 32<<10)
		for !st.clientDone {
			n, err := client.Read(buf)
			if n > 0 {
				st.mu.Lock()
				if !st.answered && len(st.kept)+n <= replayMax {
					st.kept = append(st.kept, buf[:n]...)
				} else {
					st.noReplay = true
				}
				st.mu.Unlock()
				if _, werr := backend.Write(buf[:n]); werr != nil {
					// A reset seen here is not seen again by the read.
					st.mu.Lock()
					st.upReset = isReset(werr)
					st.mu.Unlock()
					return
				}
			}
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() && st.interrupted() {
					return // the first exchange is over: pipe takes over
				}
				if err == io.EOF {
					st.clientDone = true
					closeWrite(backend)
				} else {
					st.clientFailed = true
				}
				return
			}
		}
	}()
	first := make([]byte, 32<<10)
	n, err := backend.Read(first)
	st.mu.Lock()
	st.answered = n > 0
	st.mu.Unlock()
	// Stop the client reader and take over.
	st.interrupt()
	client.SetReadDeadline(time.Now())
	<-upDone
	client.SetReadDeadline(time.Time{})
	st.resume()
	replay := n == 0 && (isReset(err) || err == io.EOF && st.upReset) && !st.noReplay && ctx.Err() == nil
	if replay && !st.clientFailed {
		reset(backend)
		return true
	}
	if n == 0 {
		// The backend ended (or failed) without answering: pass it on.
		if err == io.EOF && !st.clientFailed {
			closeWrite(client)
			if !st.clientDone {
				io.Copy(backend, client)
			}
			client.Close()
			backend.Close()
			return false
		}
		reset(client)
		reset(backend)
		return false
	}
	if _, err := client.Write(first[:n]); err != nil || st.clientFailed {
		reset(client)
		reset(backend)
		return false
	}
	stop()
	// After a half-close of the client only backend → client is left.
	pipe(ctx, client, backend, !st.clientDone)
	return false
}

// callState is what the first exchange of one client connection knows.
type callState struct {
	mu           sync.Mutex
	kept         []byte
	answered     bool
	noReplay     bool
	clientDone   bool // the client half-closed: all of its call is in kept (or went out)
	clientFailed bool
	upReset      bool // a write to the backend was reset
	stopping     bool
}

func (c *callState) interrupt() { c.mu.Lock(); c.stopping = true; c.mu.Unlock() }
func (c *callState) resume()    { c.mu.Lock(); c.stopping = false; c.mu.Unlock() }
func (c *callState) interrupted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

// isReset reports whether err is a connection reset by the peer.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// dial dials Private until it succeeds, MaxWait passes or ctx is done,
// waiting 1 ms after the first failure and twice as long after each next
// one, up to 50 ms. Any failure is retried: refused is a program between
// runs, anything else may be a program still starting.
func (s *server) dial(ctx context.Context) (net.Conn, bool) {
	ctx, cancel := context.WithTimeoutCause(ctx, s.maxWait, errMaxWait)
	defer cancel()
	var d net.Dialer
	var wait time.Duration
	for {
		c, err := d.DialContext(ctx, s.Private.Network, s.Private.Address)
		if err == nil {
			s.dialWarned.Store(false)
			s.expireWarned.Store(false)
			return c, true
		}
		if ctx.Err() != nil {
			break
		}
		if s.dialFailed != nil {
			s.dialFailed(err)
		}
		if !refused(err) && s.dialWarned.CompareAndSwap(false, true) {
			s.log.LogAttrs(ctx, slog.LevelWarn, "proxy dial failing, retrying",
				slog.String(keyPrivate, s.Private.String()), slog.Any(keyErr, err))
		}
		wait = min(max(2*wait, dialRetryMin), dialRetryMax)
		if !sleep(ctx, wait) {
			break
		}
	}
	if errors.Is(context.Cause(ctx), errMaxWait) && s.expireWarned.CompareAndSwap(false, true) {
		s.log.LogAttrs(context.Background(), slog.LevelWarn, "proxy closed a connection that waited too long",
			slog.String(keyPrivate, s.Private.String()), slog.Duration(keyWait, s.maxWait))
	}
	return nil, false
}

// pipe copies b to a and, with aToB, a to b (without it a's side is
// already done). When one direction reads to the end, the other side's
// write half is closed (CloseWrite) and the other direction goes on; when both are done both connections are closed. If either
// direction fails, or ctx is done, both are reset at once.
func pipe(ctx context.Context, a, b net.Conn, aToB bool) {
	var once sync.Once
	abort := func() {
		once.Do(func() {
			reset(a)
			reset(b)
		})
	}
	stop := onDone(ctx, abort)
	var wg sync.WaitGroup
	if aToB {
		wg.Go(func() { copyHalf(b, a, abort) })
	}
	copyHalf(a, b, abort)
	wg.Wait()
	stop()
	a.Close()
	b.Close()
}

// copyHalf copies src to dst until src's read ends, then closes dst's
// write half. On an error it calls abort.
func copyHalf(dst, src net.Conn, abort func()) {
	if _, err := io.Copy(dst, src); err != nil {
		abort()
		return
	}
	if err := closeWrite(dst); err != nil {
		abort()
	}
}

// closeWrite shuts down c's write half (TCP and unix connections, and
// tls.Conn, have CloseWrite); a connection that cannot is closed.
func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}

// reset closes c so that a TCP peer gets a reset, not a clean end of
// stream: an answer cut short must not look complete.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}
