package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// waitLimit bounds every wait in these tests, so that a broken proxy fails
// a test instead of hanging it. Nothing asserts how long anything took.
const waitLimit = 10 * time.Second

// startProxy serves p on a new TCP listener on 127.0.0.1 until the test
// ends, and returns the listener's address.
func startProxy(t *testing.T, p *Proxy) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := awaitServe(t, done); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l.Addr().String()
}

// awaitServe returns Serve's result from done.
func awaitServe(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(waitLimit):
		t.Fatalf("Serve did not return")
		return nil
	}
}

// request dials addr, sends req, half-closes and returns everything the
// other end sends until it closes.
func request(t *testing.T, addr, req string) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	if _, err := io.WriteString(c, req); err != nil {
		return "", err
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// unixPath returns a socket path in a new temporary directory.
func unixPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "s")
}

// freeTCP returns a TCP address on 127.0.0.1 that nothing listens on now.
func freeTCP(t *testing.T) Addr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return Addr{"tcp", l.Addr().String()}
}

// listen listens on a, retrying while the address is still in use: a
// client socket may briefly hold a freed TCP port as its own local port.
func listen(a Addr) (net.Listener, error) {
	deadline := time.Now().Add(waitLimit)
	for {
		l, err := net.Listen(a.Network, a.Address)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return l, err
		}
		time.Sleep(time.Millisecond)
	}
}

// answer reads c to the end, writes "pong " and what it read, and
// closes c.
func answer(c net.Conn) error {
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitLimit))
	req, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	_, err = io.WriteString(c, "pong "+string(req))
	return err
}

// dialCounter is a Proxy.dialFailed hook that counts failed dials and
// closes first at the first one.
type dialCounter struct {
	n     atomic.Int64
	once  sync.Once
	first chan struct{}
}

func newDialCounter() *dialCounter { return &dialCounter{first: make(chan struct{})} }

func (d *dialCounter) failed(error) {
	d.n.Add(1)
	d.once.Do(func() { close(d.first) })
}

// await waits until a dial has failed.
func (d *dialCounter) await(t *testing.T) {
	t.Helper()
	select {
	case <-d.first:
	case <-time.After(waitLimit):
		t.Fatal("the proxy never dialed the private address")
	}
}
