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
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Client-side limits.
const (
	// DialTimeout bounds connecting to a socket.
	DialTimeout = time.Second
	// ProbeTimeout bounds one `ps` round trip made by List and by Listen's
	// check of an existing socket.
	ProbeTimeout = time.Second
	// MaxResponseSize bounds one response line.
	MaxResponseSize = 16 << 20
)

// ErrNotRunning is wrapped by Call's error when no instance of that name
// is listening: no socket, or a stale one that refuses connections.
var ErrNotRunning = errors.New("not running")

// Call sends req to instance's socket in dir and returns the response. It
// waits as long as the instance takes to act (a restart returns once the
// new run has started); use CallContext to bound or cancel the wait.
func Call(dir, instance string, req Request) (Response, error) {
	return CallContext(context.Background(), dir, instance, req)
}

// CallContext is Call with a context that bounds the whole round trip.
// A failure reported by the instance is returned with the response as a
// *UnknownNamesError or *RemoteError; an instance that is not listening
// gives an error wrapping ErrNotRunning.
func CallContext(ctx context.Context, dir, instance string, req Request) (Response, error) {
	if err := ValidInstanceName(instance); err != nil {
		return Response{}, err
	}
	resp, err := call(ctx, SocketPath(dir, instance), instance, req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			err = fmt.Errorf("%w: %w", ErrNotRunning, err)
		}
		return resp, fmt.Errorf("instance %s: %s: %w", instance, req.Op, err)
	}
	switch {
	case resp.Error == "":
		return resp, nil
	case resp.Code == CodeUnknownNames:
		return resp, &UnknownNamesError{Unknown: resp.Unknown, Known: resp.Known}
	default:
		return resp, &RemoteError{Instance: instance, Op: req.Op, Code: resp.Code, Message: resp.Error}
	}
}

// call is one round trip on the socket at path, without interpreting the
// response's error fields.
func call(ctx context.Context, path, instance string, req Request) (Response, error) {
	if req.Version == 0 {
		req.Version = ProtocolVersion
	}
	d := net.Dialer{Timeout: DialTimeout}
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return Response{}, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	out, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	if _, err := c.Write(append(out, '\n')); err != nil {
		return Response{}, ctxErr(ctx, err)
	}
	line, err := bufio.NewReader(io.LimitReader(c, MaxResponseSize)).ReadBytes('\n')
	if err != nil && (err != io.EOF || len(line) == 0) {
		if err == io.EOF {
			err = errors.New("connection closed without a response")
		}
		return Response{}, ctxErr(ctx, err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return Response{}, fmt.Errorf("malformed response: %w", err)
	}
	if resp.Version != ProtocolVersion {
		return resp, fmt.Errorf("instance speaks protocol version %d, not %d", resp.Version, ProtocolVersion)
	}
	return resp, nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

// List returns the status of every instance whose socket in dir answers
// `ps`, sorted by name. Sockets are asked in parallel, each within
// ProbeTimeout. A stale socket (connection refused) is removed and skipped;
// a missing dir lists nothing. If some socket neither answered nor was
// stale, List returns the instances that did answer together with an error
// naming the others.
func List(dir string) ([]Instance, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	var (
		mu        sync.Mutex
		wg        sync.WaitGroup
		instances []Instance
		errs      []error
	)
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), SocketSuffix)
		if !ok || e.Type()&os.ModeSocket == 0 || ValidInstanceName(name) != nil {
			continue
		}
		wg.Go(func() {
			inst, err := probe(dir, name)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case inst != nil:
				instances = append(instances, *inst)
			}
		})
	}
	wg.Wait()
	slices.SortFunc(instances, func(a, b Instance) int { return strings.Compare(a.Name, b.Name) })
	return instances, errors.Join(errs...)
}

// probe asks one socket for its status; a nil Instance with a nil error
// means the socket was stale (and is now removed) or vanished.
func probe(dir, name string) (*Instance, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ProbeTimeout)
	defer cancel()
	path := SocketPath(dir, name)
	resp, err := call(ctx, path, name, Request{Op: OpPS})
	switch {
	case err == nil && resp.Instance != nil:
		return resp.Instance, nil
	case err == nil:
		return nil, fmt.Errorf("instance %s: ps: %s", name, resp.Error)
	case errors.Is(err, syscall.ENOENT):
		return nil, nil
	case errors.Is(err, syscall.ECONNREFUSED):
		return nil, removeStale(dir, name)
	default:
		return nil, fmt.Errorf("instance %s: ps: %w", name, err)
	}
}

// removeStale removes name's socket if, under the per-name lock, it still
// refuses connections. A lock held elsewhere means an instance is starting
// under that name: the socket is left to it.
func removeStale(dir, name string) error {
	unlock, ok, err := lockName(dir, name, true)
	if err != nil {
		return fmt.Errorf("instance %s: remove stale socket: %w", name, err)
	}
	if !ok {
		return nil
	}
	defer unlock()
	path := SocketPath(dir, name)
	c, err := net.DialTimeout("unix", path, DialTimeout)
	if err == nil {
		c.Close()
		return nil
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return nil
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("instance %s: remove stale socket: %w", name, err)
	}
	return nil
}
