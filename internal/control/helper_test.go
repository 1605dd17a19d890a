package control

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// helperEnv selects a helper program when the test binary is re-executed.
const helperEnv = "FNRUN_CONTROL_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "peer":
		peerHelper(os.Args[len(os.Args)-1])
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// peerHelper connects to the socket at path, sends `ps` and prints
// "answered", "closed" or "dial: ERROR".
func peerHelper(path string) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(0)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, `{"version":%d,"op":"ps"}`+"\n", ProtocolVersion)
	if line, err := bufio.NewReader(c).ReadString('\n'); err == nil && line != "" {
		fmt.Println("answered")
	} else {
		fmt.Println("closed")
	}
	os.Exit(0)
}

// fakeHandler is a Handler that reports a fixed status and records calls.
type fakeHandler struct {
	known []string

	mu    sync.Mutex
	calls []string
}

func (h *fakeHandler) Status() Instance {
	fs := make([]FunctionStatus, 0, len(h.known))
	for _, n := range h.known {
		fs = append(fs, FunctionStatus{Name: n, Function: "./" + n, State: StateRunning, PID: 4242, Runs: 1})
	}
	return Instance{Functions: fs}
}

func (h *fakeHandler) Do(ctx context.Context, op string, names []string) error {
	var unknown []string
	for _, n := range names {
		if !slices.Contains(h.known, n) {
			unknown = append(unknown, n)
		}
	}
	if unknown != nil {
		return &UnknownNamesError{Unknown: unknown, Known: h.known}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, fmt.Sprint(op, names))
	return nil
}

func (h *fakeHandler) Calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// testDir returns a fresh runtime directory made by Dir.
func testDir(t *testing.T) string {
	t.Helper()
	t.Setenv("XDG_RUNTIME_DIR", "")
	dir, err := Dir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// listen starts a Server for name in dir, closed at the end of the test.
func listen(t *testing.T, dir, name string, h Handler) *Server {
	t.Helper()
	s, err := Listen(dir, name, h)
	if err != nil {
		t.Fatalf("Listen(%q): %v", name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// staleSocket leaves a socket file at path with no listener behind it, as
// a SIGKILLed instance does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("stale socket %s not left behind: %v", path, err)
	}
}
