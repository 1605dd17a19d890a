//go:build unix

package runner

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/fnrun/fnrun/internal/shim"
)

/*
Socket activation. The caller binds listening sockets once and hands them
to every run as fds 3, 4, ... with the systemd protocol, so connections
made while no run is alive (a restart, a backoff, a rebuild) wait in the
kernel's backlog instead of being refused.

Only the program gets the sockets: they go to its exec.Cmd as ExtraFiles,
which the child dup2s onto 3, 4, ... (dup2 clears close-on-exec on the
copy only); the caller's descriptors stay close-on-exec, so fnrun's other
children (go, git) never inherit them. The runner never clears that flag,
never reads and never closes the caller's Files.

Nor does it change the sockets' blocking mode, which is shared by every
copy of a descriptor (the parent's, and those of every run and replica).
os/exec calls File.Fd on each ExtraFile, and Fd puts a File that package
net made (TCPListener.File) into blocking mode: at every start, under the
feet of the runs that share the socket, where a Go program's accept would
then block a thread and its listener's Close hang until the next
connection. So each start passes private duplicates instead (F_DUPFD_CLOEXEC,
wrapped by os.NewFile, whose Fd leaves the mode alone), closed once the
start is done: one fcntl, one close, and a poller registration per socket
per start. The mode the program sees is the one the caller chose when it
bound the socket (systemd passes blocking sockets unless NonBlocking=yes;
Go programs set non-blocking mode themselves).

LISTEN_PID must be the program's own pid, which os/exec cannot know before
the fork. So the run is started through a shim (internal/shim): the fnrun
binary itself, as "SHIM __fnrun-listen-shim PROGRAM ARGV0 ARGS...", which
sets LISTEN_PID to its pid and execs PROGRAM in place with ARGV0 ARGS... as
its argument vector. The pid, process group,
cgroup and parent-death signal are the shim's, so containment and
EventStarted's PID are unchanged. On Linux the default shim is
/proc/self/exe: the child execs the very image of the running fnrun even if
its file was replaced or deleted since (go install while fnrun runs).

A failed exec in the shim is a run that exits with code 126, not a start
error; so before starting the shim the runner checks that the program is
an executable regular file (one stat and one access call), and a missing or
non-executable program is still a *StartError, as without listeners. What
that check cannot see (a bad ELF header, a missing interpreter) shows as
the shim's line on the program's stderr and exit code 126.

Without Listeners none of this happens: no shim, no change to the
environment, no extra syscall.
*/

// Listener is a listening socket handed to every run (socket activation).
type Listener struct {
	Name string   // its LISTEN_FDNAMES entry; "" means DefaultListenerName
	File *os.File // the socket; owned by the caller, never closed by the runner
}

// DefaultListenerName is the LISTEN_FDNAMES entry of a Listener without a
// Name.
const DefaultListenerName = "listen"

// ShimArg is the shim's first argument (see Options.Shim).
const ShimArg = shim.Arg

// The systemd protocol's environment variables.
const (
	envListenPID   = shim.EnvPID
	envListenFDs   = "LISTEN_FDS"
	envListenNames = "LISTEN_FDNAMES"
)

// listenFirstFD is the descriptor of the first socket in the program.
const listenFirstFD = 3

// maxListenerName is systemd's FDNAME_MAX.
const maxListenerName = 255

// checkListenerName reports why name is not a valid LISTEN_FDNAMES entry,
// by systemd's rules (fdname_is_valid): printable ASCII without ':', at
// most 255 bytes. "" is valid here: it stands for DefaultListenerName.
func checkListenerName(name string) error {
	if len(name) > maxListenerName {
		return fmt.Errorf("longer than %d bytes", maxListenerName)
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == ':':
			return errors.New("contains ':'")
		case c < ' ' || c > '~':
			return fmt.Errorf("contains byte %#x (only printable ASCII is allowed)", c)
		}
	}
	return nil
}

// checkListeners returns an error for every invalid Listener.
func checkListeners(ls []Listener) []error {
	var errs []error
	for i, l := range ls {
		if l.File == nil {
			errs = append(errs, fmt.Errorf("listener %d (%q): nil file", i, l.Name))
		}
		if err := checkListenerName(l.Name); err != nil {
			errs = append(errs, fmt.Errorf("listener %d: invalid name %q: %w", i, l.Name, err))
		}
	}
	return errs
}

// listenSet is what every run with listeners gets; it is made once, by New.
type listenSet struct {
	shim  string
	files []*os.File // the caller's
	names []string   // their LISTEN_FDNAMES entries
	vars  [2]string  // LISTEN_FDS=n, LISTEN_FDNAMES=a:b
}

// newListenSet returns the listen set of validated options, nil without
// listeners.
func newListenSet(o *Options) *listenSet {
	if len(o.Listeners) == 0 {
		return nil
	}
	n := len(o.Listeners)
	l := &listenSet{shim: o.Shim, files: make([]*os.File, n), names: make([]string, n)}
	for i, ln := range o.Listeners {
		l.files[i] = ln.File
		l.names[i] = ln.Name
		if l.names[i] == "" {
			l.names[i] = DefaultListenerName
		}
	}
	l.vars = [2]string{
		envListenFDs + "=" + strconv.Itoa(n),
		envListenNames + "=" + strings.Join(l.names, ":"),
	}
	return l
}

// dup returns close-on-exec duplicates of the sockets for one start (see
// above); the caller closes them with closeFiles once the start is done.
func (l *listenSet) dup() ([]*os.File, error) {
	dups := make([]*os.File, 0, len(l.files))
	for i, f := range l.files {
		d, err := dupFile(f)
		if err != nil {
			closeFiles(dups)
			return nil, fmt.Errorf("listener %q: %w", l.names[i], err)
		}
		dups = append(dups, d)
	}
	return dups, nil
}

// dupFile returns a close-on-exec duplicate of f made by os.NewFile.
func dupFile(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nfd int
	var dupErr error
	if err := rc.Control(func(fd uintptr) {
		nfd, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, fmt.Errorf("dup: %w", dupErr)
	}
	return os.NewFile(uintptr(nfd), f.Name()), nil
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// setup makes cmd, which would start path with the argument vector args,
// start the shim instead, passing it files (from dup) and the protocol's
// variables. base is the program's environment (nil: this process's).
func (l *listenSet) setup(cmd *exec.Cmd, path string, args, base []string, files []*os.File) {
	cmd.Path = l.shim
	cmd.Args = append([]string{l.shim, ShimArg, path}, args...)
	if base == nil {
		base = os.Environ()
	}
	env := make([]string, 0, len(base)+len(l.vars))
	for _, kv := range base {
		if !isListenVar(kv) {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, l.vars[:]...)
	cmd.ExtraFiles = files
}

// isListenVar reports whether kv sets one of the protocol's variables.
func isListenVar(kv string) bool {
	name, _, _ := strings.Cut(kv, "=")
	return name == envListenPID || name == envListenFDs || name == envListenNames
}

// checkExecutable reports, as exec would, why path (relative to dir unless
// absolute) cannot be started: missing, not a regular file, or not
// executable.
func checkExecutable(path, dir string) error {
	p := path
	if dir != "" && !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	var st syscall.Stat_t
	err := syscall.Stat(p, &st)
	if err == nil && st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		err = syscall.EACCES // what execve says of a directory or a device
	}
	if err == nil {
		err = unix.Access(p, unix.X_OK)
	}
	if err != nil {
		return &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return nil
}
