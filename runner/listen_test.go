//go:build unix

package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// listenHelper is the "listen" helper mode: it checks the socket-activation
// protocol (LISTEN_PID, LISTEN_FDS=2, LISTEN_FDNAMES=names, fd 3 a listening
// TCP socket, fd 4 a listening unix socket, neither close-on-exec), then
// accepts one connection on each and writes "PID MODE\n" to it, MODE being
// "block" or "nonblock" as the descriptor was found. It uses raw syscalls,
// not package net, so that it leaves the sockets' mode alone.
func listenHelper(names string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "listen helper: "+format+"\n", a...)
		return 3
	}
	if got, want := os.Getenv(envListenPID), strconv.Itoa(os.Getpid()); got != want {
		return fail("%s=%q, want %q", envListenPID, got, want)
	}
	if got, want := os.Getenv(envListenFDs), "2"; got != want {
		return fail("%s=%q, want %q", envListenFDs, got, want)
	}
	if got, want := os.Getenv(envListenNames), names; got != want {
		return fail("%s=%q, want %q", envListenNames, got, want)
	}
	var replies [2]string
	for i := range replies {
		fd := listenFirstFD + i
		sa, err := syscall.Getsockname(fd)
		if err != nil {
			return fail("fd %d: getsockname: %v", fd, err)
		}
		switch sa.(type) {
		case *syscall.SockaddrInet4:
			if i != 0 {
				return fail("fd %d: an IPv4 socket, want a unix socket", fd)
			}
		case *syscall.SockaddrUnix:
			if i != 1 {
				return fail("fd %d: a unix socket, want an IPv4 socket", fd)
			}
		default:
			return fail("fd %d: socket address %T", fd, sa)
		}
		if v, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN); err != nil || v != 1 {
			return fail("fd %d: SO_ACCEPTCONN = %d, %v; want a listening socket", fd, v, err)
		}
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC != 0 {
			return fail("fd %d: close-on-exec (flags %#x, %v)", fd, fl, err)
		}
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil {
			return fail("fd %d: F_GETFL: %v", fd, err)
		}
		mode := "block"
		if fl&unix.O_NONBLOCK != 0 {
			mode = "nonblock"
		}
		replies[i] = fmt.Sprintf("%d %s\n", os.Getpid(), mode)
	}
	for i, reply := range replies {
		fd := listenFirstFD + i
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); err != nil {
			return fail("fd %d: poll: %v", fd, err)
		}
		c, _, err := syscall.Accept(fd)
		if err != nil {
			return fail("fd %d: accept: %v", fd, err)
		}
		syscall.Write(c, []byte(reply))
		syscall.Close(c)
	}
	return 0
}

// fdsHelper is the "fds" helper mode: it prints "fds" and, for each open
// descriptor, N=TARGET (the link in /proc/self/fd), on one line.
func fdsHelper() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	line := []string{"fds"}
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		line = append(line, e.Name()+"="+target)
	}
	fmt.Println(strings.Join(line, " "))
	return 0
}

// testListeners returns a TCP listener on 127.0.0.1 and a unix socket
// listener in a temporary directory, as Files the test owns, and their
// addresses.
func testListeners(t *testing.T) (files [2]*os.File, tcpAddr, unixPath string) {
	t.Helper()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unixPath = filepath.Join(t.TempDir(), "s.sock")
	ul, err := net.Listen("unix", unixPath)
	if err != nil {
		tl.Close()
		t.Fatal(err)
	}
	tf, err := tl.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	uf, err := ul.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	// The Files share the sockets; the listeners are not needed any more.
	tcpAddr = tl.Addr().String()
	ul.(*net.UnixListener).SetUnlinkOnClose(false) // t.TempDir removes it
	tl.Close()
	ul.Close()
	t.Cleanup(func() { tf.Close(); uf.Close() })
	return [2]*os.File{tf, uf}, tcpAddr, unixPath
}

// fdFlags returns F_GETFD and F_GETFL of f's descriptor, without File.Fd
// (which would change the blocking mode).
func fdFlags(t *testing.T, f *os.File) (fd, fdFlags, flFlags int) {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var err1, err2 error
	rc.Control(func(u uintptr) {
		fd = int(u)
		fdFlags, err1 = unix.FcntlInt(u, unix.F_GETFD, 0)
		flFlags, err2 = unix.FcntlInt(u, unix.F_GETFL, 0)
	})
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	return fd, fdFlags, flFlags
}

func setBlocking(t *testing.T, f *os.File) {
	t.Helper()
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var err1 error
	rc.Control(func(u uintptr) { err1 = syscall.SetNonblock(int(u), false) })
	if err1 != nil {
		t.Fatal(err1)
	}
}

// TestSupervisor_Run_listeners runs three runs with two sockets. Before
// each run starts, while no run is alive, it connects to both: the
// connections wait in the backlog, and the run answers them with its pid,
// which must be the one EventStarted reported.
func TestSupervisor_Run_listeners(t *testing.T) {
	files, tcpAddr, unixPath := testListeners(t)
	setBlocking(t, files[1]) // the program sees each socket's mode as set here
	const runs = 3
	var conns [runs + 1][2]net.Conn
	t.Cleanup(func() {
		for _, cs := range conns {
			for _, c := range cs {
				if c != nil {
					c.Close()
				}
			}
		}
	})
	o := helperOptions(t, "listen", "http:"+DefaultListenerName)
	o.Env = append(o.Env, envListenPID+"=1", envListenFDs+"=9", envListenNames+"=stale")
	o.Listeners = []Listener{{Name: "http", File: files[0]}, {File: files[1]}}
	o.Policy, o.MaxRestarts = PolicyAlways, runs-1
	var stderr syncBuffer
	o.Stderr = &stderr
	o.BeforeStart = func(_ context.Context, run int, path string) (string, error) {
		var err error
		if conns[run][0], err = net.Dial("tcp", tcpAddr); err != nil {
			return "", err
		}
		if conns[run][1], err = net.Dial("unix", unixPath); err != nil {
			return "", err
		}
		return "", nil
	}
	var ev events
	o.OnEvent = ev.add
	st := run(t, mustNew(t, o))
	if st.Runs != runs || st.Code != 0 {
		t.Fatalf("status %+v, want %d runs, code 0; stderr:\n%s", st, runs, stderr.String())
	}
	started := ev.kind(EventStarted)
	if len(started) != runs {
		t.Fatalf("%d started events, want %d", len(started), runs)
	}
	for _, e := range started {
		for i, mode := range []string{"nonblock", "block"} {
			line, err := bufio.NewReader(conns[e.Run][i]).ReadString('\n')
			if err != nil {
				t.Fatalf("run %d, socket %d: reading the answer: %v; stderr:\n%s", e.Run, i, err, stderr.String())
			}
			if got, want := line, fmt.Sprintf("%d %s\n", e.PID, mode); got != want {
				t.Errorf("run %d, socket %d answered %q, want %q", e.Run, i, got, want)
			}
		}
	}
	// The caller's descriptors are unchanged: close-on-exec, and the TCP
	// socket still non-blocking (os/exec's File.Fd would have cleared that).
	for i, f := range files {
		fd, fdfl, fl := fdFlags(t, f)
		if fdfl&unix.FD_CLOEXEC == 0 {
			t.Errorf("listener %d (fd %d) lost close-on-exec", i, fd)
		}
		if got, want := fl&unix.O_NONBLOCK != 0, i == 0; got != want {
			t.Errorf("listener %d (fd %d): non-blocking %v, want %v", i, fd, got, want)
		}
	}
}

// TestSupervisor_Run_listenersShim starts the runs through an explicit
// Shim: this test binary, which links internal/shim as every binary
// linking runner does.
func TestSupervisor_Run_listenersShim(t *testing.T) {
	files, tcpAddr, unixPath := testListeners(t)
	o := helperOptions(t, "listen", "a:b")
	o.Listeners = []Listener{{Name: "a", File: files[0]}, {Name: "b", File: files[1]}}
	o.Shim = o.Path
	var stderr syncBuffer
	o.Stderr = &stderr
	var ev events
	o.OnEvent = ev.add
	s := mustNew(t, o)
	done := make(chan Status, 1)
	go func() { done <- run(t, s) }()
	// Connect without waiting for the run: the backlog holds the
	// connection whether or not the program is there yet.
	var pids [2]string
	for i, addr := range [][2]string{{"tcp", tcpAddr}, {"unix", unixPath}} {
		c, err := net.Dial(addr[0], addr[1])
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil {
			t.Fatalf("socket %d: %v; stderr:\n%s", i, err, stderr.String())
		}
		pids[i], _, _ = strings.Cut(line, " ")
	}
	st := <-done
	if st.Code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", st.Code, stderr.String())
	}
	started := ev.kind(EventStarted)
	if len(started) != 1 {
		t.Fatalf("%d started events, want 1", len(started))
	}
	for i, pid := range pids {
		if want := strconv.Itoa(started[0].PID); pid != want {
			t.Errorf("socket %d answered by pid %s, want %s (EventStarted)", i, pid, want)
		}
	}
}

// TestSupervisor_Run_listenersMissingProgram: without the shim a missing
// program is a start error; with it, it must still be one, not a run that
// exits with 126.
func TestSupervisor_Run_listenersMissingProgram(t *testing.T) {
	files, _, _ := testListeners(t)
	missing := filepath.Join(t.TempDir(), "missing")
	notExec := filepath.Join(t.TempDir(), "notexec")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want error
	}{
		{missing, fs.ErrNotExist},
		{notExec, fs.ErrPermission},
		{t.TempDir(), fs.ErrPermission}, // a directory
	} {
		s := mustNew(t, Options{Path: c.path, Listeners: []Listener{{File: files[0]}}, Policy: PolicyAlways})
		_, err := s.Run(context.Background())
		var se *StartError
		if !errors.As(err, &se) || !errors.Is(err, c.want) {
			t.Errorf("Run(%s) = %v, want a *StartError wrapping %v", c.path, err, c.want)
		}
	}
}

func TestValidate_listeners(t *testing.T) {
	f := os.Stdin
	for _, c := range []struct {
		name string
		ls   []Listener
		ok   bool
	}{
		{"none", nil, true},
		{"default name", []Listener{{File: f}}, true},
		{"names", []Listener{{Name: "http", File: f}, {Name: "a-b.c_d~ !", File: f}}, true},
		{"255 bytes", []Listener{{Name: strings.Repeat("x", 255), File: f}}, true},
		{"nil file", []Listener{{Name: "http"}}, false},
		{"colon", []Listener{{Name: "a:b", File: f}}, false},
		{"256 bytes", []Listener{{Name: strings.Repeat("x", 256), File: f}}, false},
		{"control", []Listener{{Name: "a\nb", File: f}}, false},
		{"DEL", []Listener{{Name: "a\x7f", File: f}}, false},
		{"non-ASCII", []Listener{{Name: "é", File: f}}, false},
	} {
		err := Validate(Options{Listeners: c.ls})
		if got := err == nil; got != c.ok {
			t.Errorf("%s: Validate = %v, want ok %v", c.name, err, c.ok)
		}
	}
}
