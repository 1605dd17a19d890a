package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

/*
Design. Serve runs the accept loop on the caller's goroutine and one
goroutine per forwarded connection (two while bytes flow, one per
direction), all counted in one WaitGroup that Serve waits for before it
returns. Nothing
polls: the listener and the connections are closed by functions registered
with context.AfterFunc, so a cancelled context unblocks Accept, the dial
retry waits and the copies at once, and onDone waits for such a function if
it already started, so none of them outlives Serve.

Dial retries are per connection, not shared: each held connection dials on
its own, 1 ms after the first refusal, doubling to 50 ms, so a restart of a
few milliseconds costs a few milliseconds, and a long one costs 20 dials a
second per held connection, which is nothing on a loopback. A shared
"backend is up" signal would save those dials but needs a prober and a
second way to be wrong; the kernel's answer to connect is the truth.

Logging is thinned the same way for every kind of failure: the first
failure of a streak is logged and the streak ends with the next success
(of a dial for dial failures and expired waits, of an accept for accept
failures). A refused dial is not logged at all: it is what a restart looks
like.
*/

// DefaultMaxWait is how long a connection waits for the private address to
// accept when Proxy.MaxWait is 0.
const DefaultMaxWait = 30 * time.Second

const (
	dialRetryMin   = time.Millisecond      // first wait after a failed dial
	dialRetryMax   = 50 * time.Millisecond // the wait doubles up to this
	acceptRetryMin = 5 * time.Millisecond  // first wait after a temporary accept error
	acceptRetryMax = time.Second           // the wait doubles up to this
)

// slog attribute keys.
const (
	keyPublic  = "public"
	keyPrivate = "private"
	keyWait    = "wait"
	keyErr     = "err"
)

// Proxy forwards connections accepted on a listener to Private. Its fields
// are set before Serve is called and not changed after.
type Proxy struct {
	Private Addr          // where to forward; see ParseSpec
	MaxWait time.Duration // how long a connection waits for Private to accept; 0 means DefaultMaxWait
	Logger  *slog.Logger  // failures, one line per streak (see above); nil discards them

	// dialFailed, if set, is called with the error of every failed dial
	// of Private (tests use it to know that a connection is being held).
	dialFailed func(error)
}

// server is the state of one Serve call.
type server struct {
	*Proxy
	log     *slog.Logger
	maxWait time.Duration
	wg      sync.WaitGroup

	dialWarned   atomic.Bool // a dial failure other than refused was logged; reset by a successful dial
	expireWarned atomic.Bool // an expired wait was logged; reset by a successful dial
}

// errMaxWait is the cause of a dial context that ran out of MaxWait.
var errMaxWait = errors.New("waited MaxWait")

// Serve accepts connections on l and forwards each to p.Private on its own
// goroutines until ctx is done, which is not an error (Serve returns nil),
// or Accept fails with an error that is not temporary (a listener closed
// by someone else: errors.Is(err, net.ErrClosed)). Temporary accept errors
// (too many open files, …) are retried after a short, growing wait. Serve
// returns after it has closed l and every connection it forwarded and all
// its goroutines have ended. Serve may be called concurrently on different
// listeners.
func (p *Proxy) Serve(ctx context.Context, l net.Listener) error {
	s, err := p.newServer()
	if err != nil {
		l.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := onDone(ctx, func() { l.Close() })
	err = s.accept(ctx, l)
	cancel()
	stop()
	l.Close()
	s.wg.Wait()
	return err
}

// newServer checks p and fills in its defaults.
func (p *Proxy) newServer() (*server, error) {
	switch {
	case p.Private.Network != "tcp" && p.Private.Network != "unix":
		return nil, fmt.Errorf("proxy to %s: network %q is not tcp or unix", p.Private, p.Private.Network)
	case p.Private.Address == "":
		return nil, fmt.Errorf("proxy: no private address")
	case p.MaxWait < 0:
		return nil, fmt.Errorf("proxy to %s: negative MaxWait %v", p.Private, p.MaxWait)
	}
	s := &server{Proxy: p, log: p.Logger, maxWait: p.MaxWait}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxWait == 0 {
		s.maxWait = DefaultMaxWait
	}
	return s, nil
}

// accept runs the accept loop until ctx is done (nil) or Accept fails for
// good (the error).
func (s *server) accept(ctx context.Context, l net.Listener) error {
	var wait time.Duration
	for {
		c, err := l.Accept()
		if err == nil {
			wait = 0
			s.wg.Go(func() { s.forward(ctx, c) })
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if !temporaryAccept(err) {
			return fmt.Errorf("proxy to %s: %w", s.Private, err)
		}
		if wait == 0 {
			s.log.LogAttrs(ctx, slog.LevelWarn, "proxy accept failing, retrying",
				slog.String(keyPublic, l.Addr().String()), slog.Any(keyErr, err))
		}
		wait = min(max(2*wait, acceptRetryMin), acceptRetryMax)
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// sleep waits for d or until ctx is done, and reports whether it waited
// for d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// onDone arranges for f to run on its own goroutine when ctx is done. The
// returned stop, to be called once, cancels that, or, if f has started,
// waits until f has returned, so that f never outlives the caller.
func onDone(ctx context.Context, f func()) (stop func()) {
	done := make(chan struct{})
	cancel := context.AfterFunc(ctx, func() {
		defer close(done)
		f()
	})
	return func() {
		if !cancel() {
			<-done
		}
	}
}
