package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestProxy_Serve_restartingBackend: a backend that serves one connection
// per run, with a pause between runs, as a program that fnrun restarts
// after every call; every call through the proxy succeeds.
func TestProxy_Serve_restartingBackend(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			private := freeTCP(t)
			if network == "unix" {
				private = Addr{"unix", unixPath(t)}
			}
			const calls = 200
			backendDone := make(chan error, 1)
			go func() { backendDone <- perCallBackend(private, calls) }()

			dials := newDialCounter()
			addr := startProxy(t, &Proxy{Private: private, MaxWait: waitLimit, dialFailed: dials.failed})
			for i := range calls {
				req := fmt.Sprintf("ping %d", i)
				got, err := request(t, addr, req)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if want := "pong " + req; got != want {
					t.Fatalf("call %d: got %q, want %q", i, got, want)
				}
			}
			if err := <-backendDone; err != nil {
				t.Fatalf("backend: %v", err)
			}
			// The test is only worth something if calls arrived between
			// runs; with a pause after each run nearly all of them do.
			if dials.n.Load() == 0 {
				t.Errorf("no dial was refused: no call arrived between two runs")
			}
		})
	}
}

// perCallBackend runs calls times: listen on a, accept one connection,
// answer it, stop listening, pause (the restart): the order of a program
// that serves one call and exits. A call the proxy connected into the
// accept queue meanwhile is reset when the listener closes, and must be
// replayed to the next run (forward.go).
func perCallBackend(a Addr, calls int) error {
	for i := range calls {
		l, err := listen(a)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		c, err := l.Accept()
		if err != nil {
			l.Close()
			return fmt.Errorf("run %d: %w", i, err)
		}
		err = answer(c)
		l.Close()
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		time.Sleep(time.Millisecond) // the program exits and the next run starts
	}
	return nil
}

// TestProxy_Serve_heldUntilBackendListens: a call made while nothing
// listens at the private address is held, then served by the first run.
func TestProxy_Serve_heldUntilBackendListens(t *testing.T) {
	private := Addr{"unix", unixPath(t)}
	start := make(chan struct{})
	backendDone := make(chan error, 1)
	go func() {
		<-start
		l, err := net.Listen(private.Network, private.Address)
		if err != nil {
			backendDone <- err
			return
		}
		defer l.Close()
		c, err := l.Accept()
		if err != nil {
			backendDone <- err
			return
		}
		backendDone <- answer(c)
	}()

	dials := newDialCounter()
	addr := startProxy(t, &Proxy{Private: private, MaxWait: waitLimit, dialFailed: dials.failed})
	type result struct {
		got string
		err error
	}
	res := make(chan result, 1)
	go func() {
		got, err := request(t, addr, "held")
		res <- result{got, err}
	}()
	dials.await(t) // the call is being held
	close(start)
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := "pong held"; r.got != want {
		t.Errorf("got %q, want %q", r.got, want)
	}
	if err := <-backendDone; err != nil {
		t.Fatalf("backend: %v", err)
	}
}

// TestProxy_Serve_halfClose: the client's half-close reaches the backend,
// which reads to the end before it answers; the whole answer reaches the
// client. Large enough to take many reads, between TCP and unix sockets.
func TestProxy_Serve_halfClose(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			private := freeTCP(t)
			if network == "unix" {
				private = Addr{"unix", unixPath(t)}
			}
			l, err := net.Listen(private.Network, private.Address)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			req := bytes.Repeat([]byte("request "), 1<<17) // 1 MiB
			ans := bytes.Repeat([]byte("answer! "), 1<<18) // 2 MiB
			backendDone := make(chan error, 1)
			go func() {
				c, err := l.Accept()
				if err != nil {
					backendDone <- err
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(waitLimit))
				got, err := io.ReadAll(c) // ends only if the half-close came through
				if err != nil {
					backendDone <- err
					return
				}
				if !bytes.Equal(got, req) {
					backendDone <- fmt.Errorf("backend got %d bytes, want %d", len(got), len(req))
					return
				}
				_, err = c.Write(ans)
				backendDone <- err
			}()

			addr := startProxy(t, &Proxy{Private: private})
			got, err := request(t, addr, string(req))
			if err != nil {
				t.Fatal(err)
			}
			if got != string(ans) {
				t.Errorf("got %d bytes, want %d", len(got), len(ans))
			}
			if err := <-backendDone; err != nil {
				t.Fatalf("backend: %v", err)
			}
		})
	}
}

// TestProxy_Serve_resetPropagates: a backend that dies mid-answer gives the
// client a reset, not an end of stream that would make the answer look
// complete.
func TestProxy_Serve_resetPropagates(t *testing.T) {
	private := freeTCP(t)
	l, err := net.Listen(private.Network, private.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		// Wait for the client's byte: only then is the proxy surely
		// connected (a reset during its dial would just be retried).
		c.SetDeadline(time.Now().Add(waitLimit))
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			c.Close()
			return
		}
		c.Write([]byte("partial"))
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}()
	addr := startProxy(t, &Proxy{Private: private})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("client read: got %v, want %v", err, syscall.ECONNRESET)
	}
}

// TestProxy_Serve_maxWait: with nothing ever listening, a connection is
// closed after MaxWait without a byte; cancelling the context ends Serve
// and every goroutine it started.
func TestProxy_Serve_maxWait(t *testing.T) {
	before := runtime.NumGoroutine()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dials := newDialCounter()
	p := &Proxy{Private: Addr{"unix", unixPath(t)}, MaxWait: 20 * time.Millisecond, dialFailed: dials.failed}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, l) }()

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(waitLimit))
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || len(got) != 0 {
		t.Errorf("client read: got %q, %v; want a close without data", got, err)
	}
	if dials.n.Load() == 0 {
		t.Errorf("the proxy never dialed the private address")
	}

	cancel()
	if err := awaitServe(t, done); err != nil {
		t.Errorf("Serve: %v", err)
	}
	awaitGoroutines(t, before)
}

// TestProxy_Serve_cancel: cancelling the context ends held connections and
// connections in the middle of a stream at once, and every goroutine.
func TestProxy_Serve_cancel(t *testing.T) {
	before := runtime.NumGoroutine()

	private := Addr{"unix", unixPath(t)}
	pl, err := net.Listen(private.Network, private.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := pl.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dials := newDialCounter()
	p := &Proxy{Private: private, MaxWait: time.Hour, dialFailed: dials.failed}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, l) }()

	streaming, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer streaming.Close()
	backend, ok := <-accepted
	if !ok {
		t.Fatal("backend accept failed")
	}
	defer backend.Close()
	backend.SetDeadline(time.Now().Add(waitLimit))
	pl.Close() // from now on the private address refuses
	if _, err := io.WriteString(streaming, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(backend, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}

	held, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	dials.await(t)

	cancel()
	if err := awaitServe(t, done); err != nil {
		t.Errorf("Serve: %v", err)
	}
	for name, c := range map[string]net.Conn{"streaming": streaming, "held": held, "backend": backend} {
		c.SetDeadline(time.Now().Add(waitLimit))
		if got, err := io.ReadAll(c); len(got) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
			t.Errorf("%s connection after cancel: got %q, %v; want it closed", name, got, err)
		}
	}
	awaitGoroutines(t, before)
}

// awaitGoroutines waits until no more than n goroutines run.
func awaitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: got %d, want at most %d\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// flakyListener fails its first n Accepts with err.
type flakyListener struct {
	net.Listener
	n   int
	err error
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.n > 0 {
		l.n--
		return nil, l.err
	}
	return l.Listener.Accept()
}

// TestProxy_Serve_acceptErrors: a temporary accept error (too many open
// files) is waited out; a listener closed by someone else ends Serve with
// an error that says so.
func TestProxy_Serve_acceptErrors(t *testing.T) {
	private := Addr{"unix", unixPath(t)}
	pl, err := net.Listen(private.Network, private.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	go func() {
		for {
			c, err := pl.Accept()
			if err != nil {
				return
			}
			go answer(c)
		}
	}()

	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	l := &flakyListener{Listener: tl, n: 3, err: emfile}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- (&Proxy{Private: private}).Serve(ctx, l) }()

	got, err := request(t, tl.Addr().String(), "after EMFILE")
	if want := "pong after EMFILE"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	tl.Close()
	if err := awaitServe(t, done); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve after the listener was closed: got %v, want %v", err, net.ErrClosed)
	}
}
