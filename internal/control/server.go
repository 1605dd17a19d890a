package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Limits and timeouts of the server side of a connection.
const (
	// MaxRequestSize bounds one request line.
	MaxRequestSize = 64 << 10
	// RequestTimeout bounds the wait for a client's request line.
	RequestTimeout = 5 * time.Second
	// ResponseTimeout bounds the write of the response line.
	ResponseTimeout = 5 * time.Second
)

// SocketSuffix ends the name of every instance socket in the runtime
// directory.
const SocketSuffix = ".sock"

// Handler is what a Server serves: the instance's status and its actions.
// Its methods are called concurrently, one call per connection.
type Handler interface {
	// Status returns the instance's current status. The server fills in
	// Version, and Name, PID and Started when they are zero.
	Status() Instance
	// Do carries out OpRestart, OpStop, OpStart (on names) or OpDown and
	// returns when it has happened. ctx is cancelled when the Server
	// closes; Do must then return. A *UnknownNamesError is passed to the
	// client as such.
	Do(ctx context.Context, op string, names []string) error
}

// Server serves one instance's control socket. It is created by Listen and
// serves until Close.
type Server struct {
	name    string
	path    string
	l       *net.UnixListener
	h       Handler
	started time.Time
	ident   os.FileInfo // the socket file we bound, to remove only ours

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// SocketPath returns the path of instance's socket in dir.
func SocketPath(dir, instance string) string {
	return filepath.Join(dir, instance+SocketSuffix)
}

// Listen serves instance's control socket, dir/INSTANCE.sock (mode 0600),
// with h. dir is a directory returned by Dir. If the path exists, Listen
// returns a *RunningError when an instance answers on it, replaces it when
// it is a stale socket that refuses connections, and refuses anything else
// (a symlink, a file that is not a socket, a socket that accepts but does
// not answer). Connections are served on their own goroutines until Close;
// peers with another uid are closed at once.
func Listen(dir, instance string, h Handler) (*Server, error) {
	if err := ValidInstanceName(instance); err != nil {
		return nil, err
	}
	path := SocketPath(dir, instance)
	unlock, _, err := lockName(dir, instance, false)
	if err != nil {
		return nil, fmt.Errorf("listen %s: lock: %w", path, err)
	}
	defer unlock()
	if err := clearStale(path, instance); err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	l, err := listenUnix(path)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	// The directory is 0700, so the umask's wider mode is never reachable
	// by others; the chmod makes the socket itself say so too.
	ident, err := os.Lstat(path)
	if err == nil {
		err = os.Chmod(path, 0o600)
	}
	if err != nil {
		l.Close()
		os.Remove(path)
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		name: instance, path: path, l: l, h: h,
		started: time.Now(), ident: ident,
		ctx: ctx, cancel: cancel,
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// controlBacklog is the control socket's backlog: its clients are people
// and scripts, not a stream of calls.
const controlBacklog = 64

// listenUnix listens on a new socket at path. It does what net.ListenUnix
// does but for reading the system's maximum backlog: net reads
// /proc/sys/net/core/somaxconn for that, which costs 0.25 ms of every start
// here. Closing the listener does not remove path.
func listenUnix(path string) (*net.UnixListener, error) {
	syscall.ForkLock.RLock() // not every Unix has SOCK_CLOEXEC
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close() // FileListener works on its own copy
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		return nil, os.NewSyscallError("bind", err)
	}
	if err := syscall.Listen(fd, controlBacklog); err != nil {
		os.Remove(path)
		return nil, os.NewSyscallError("listen", err)
	}
	l, err := net.FileListener(f)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return l.(*net.UnixListener), nil
}

// clearStale makes path free for a new socket, or says why it cannot be.
// The caller holds the per-name lock.
func clearStale(path, instance string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return errors.New("refusing a symlink in place of the socket")
	case fi.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("refusing to replace %s, which is not a socket", fi.Mode().Type())
	}
	ctx, cancel := context.WithTimeout(context.Background(), ProbeTimeout)
	defer cancel()
	resp, err := call(ctx, path, instance, Request{Op: OpPS})
	switch {
	case err == nil && resp.Instance != nil:
		return &RunningError{Instance: instance, PID: resp.Instance.PID}
	case errors.Is(err, syscall.ECONNREFUSED):
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale socket: %w", err)
		}
		return nil
	case errors.Is(err, syscall.ENOENT):
		return nil
	case err == nil:
		return errors.New("socket in use by a server that does not report an instance")
	default:
		return fmt.Errorf("socket in use but not answering: %w", err)
	}
}

// Name returns the instance name the server was created with.
func (s *Server) Name() string { return s.name }

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops accepting connections, removes the socket (if it is still
// the one Listen created), cancels the context of running Do calls and
// waits for the connections in progress to end. It is safe to call more
// than once and from any goroutine, but not from within a Handler call.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		// Remove before closing the listener: while we still listen,
		// nobody takes the path for stale and binds a new socket that
		// our Remove would then delete.
		if fi, err := os.Lstat(s.path); err == nil && os.SameFile(fi, s.ident) {
			if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.closeErr = fmt.Errorf("close %s: %w", s.path, err)
			}
		}
		s.cancel()
		s.l.Close()
		s.wg.Wait()
	})
	return s.closeErr
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		c, err := s.l.AcceptUnix()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: back off as net/http
			// does, rather than spin, and retry.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(delay):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		delay = 0
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

func (s *Server) serveConn(c *net.UnixConn) {
	defer s.wg.Done()
	defer c.Close()
	uid, err := peerUID(c)
	if err != nil || uid != os.Getuid() {
		return
	}
	c.SetReadDeadline(time.Now().Add(RequestTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, MaxRequestSize)).ReadBytes('\n')
	if err != nil && (err != io.EOF || len(line) == 0) {
		return
	}
	resp := s.answer(line)
	resp.Version = ProtocolVersion
	out, err := json.Marshal(resp)
	if err != nil {
		return
	}
	c.SetWriteDeadline(time.Now().Add(ResponseTimeout))
	c.Write(append(out, '\n'))
}

func (s *Server) answer(line []byte) Response {
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		return Response{Code: CodeBadRequest, Error: fmt.Sprintf("malformed request: %v", err)}
	}
	if req.Version != ProtocolVersion {
		return Response{Code: CodeUnsupportedVersion,
			Error: fmt.Sprintf("protocol version %d not supported (want %d)", req.Version, ProtocolVersion)}
	}
	if !validOp(req.Op) {
		return Response{Code: CodeBadRequest, Error: fmt.Sprintf("unknown op %q", req.Op)}
	}
	if req.Op == OpPS {
		inst := s.h.Status()
		inst.Version = ProtocolVersion
		if inst.Name == "" {
			inst.Name = s.name
		}
		if inst.PID == 0 {
			inst.PID = os.Getpid()
		}
		if inst.Started.IsZero() {
			inst.Started = s.started
		}
		return Response{Instance: &inst}
	}
	ctx := s.ctx
	if req.NoWait {
		ctx = context.WithValue(ctx, noWaitKey{}, true)
	}
	err := s.h.Do(ctx, req.Op, req.Names)
	if err == nil {
		return Response{}
	}
	if u, ok := errors.AsType[*UnknownNamesError](err); ok {
		return Response{Code: CodeUnknownNames, Error: err.Error(), Unknown: u.Unknown, Known: u.Known}
	}
	return Response{Code: CodeFailed, Error: err.Error()}
}

type noWaitKey struct{}

// NoWait reports whether the request Do serves asked not to wait
// (Request.NoWait): Do should then check its names, set the action going
// and return at once.
func NoWait(ctx context.Context) bool {
	v, _ := ctx.Value(noWaitKey{}).(bool)
	return v
}
