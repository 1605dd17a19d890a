//go:build unix

package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"syscall"
	"time"
)

// Policy says when a program that exited is started again.
type Policy string

// Restart policies.
const (
	PolicyNever     Policy = "never"      // run once
	PolicyOnFailure Policy = "on-failure" // restart after a non-zero exit or a signal
	PolicyAlways    Policy = "always"     // restart after every exit
)

// ParsePolicy returns the Policy named s. The empty string means PolicyNever.
func ParsePolicy(s string) (Policy, error) {
	switch Policy(s) {
	case "", PolicyNever:
		return PolicyNever, nil
	case PolicyOnFailure, PolicyAlways:
		return Policy(s), nil
	}
	return "", fmt.Errorf("unknown restart policy %q (want never, on-failure or always)", s)
}

// restarts reports whether the policy starts the program again after a run
// that failed (non-zero exit or signal) or not.
func (p Policy) restarts(failed bool) bool {
	switch p {
	case PolicyAlways:
		return true
	case PolicyOnFailure:
		return failed
	}
	return false
}

// Format is the way child output lines are written.
type Format int

// Output formats.
const (
	FormatText Format = iota // "name | line", optionally with a timestamp before it
	FormatJSON               // one JSON object per line: time, name, stream, line
	FormatRaw                // the bytes unchanged (a line longer than MaxLine may span Writes)
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultBackoffInitial = 200 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultBackoffReset   = 10 * time.Second
	DefaultStopTimeout    = 10 * time.Second
	DefaultDrainTimeout   = 500 * time.Millisecond
	DefaultMaxLine        = 1 << 20 // bytes
)

// Options configure a Supervisor. A zero field selects the default named
// in its comment (BackoffInitial 0 means no wait); New validates them once.
type Options struct {
	Name string   // output prefix; default filepath.Base(Path)
	Path string   // the executable; no PATH lookup is done here; the program's argv[0] is its base name
	Args []string // arguments after the program name
	Env  []string // nil means os.Environ()
	Dir  string   // working directory; "" means the current one

	Policy      Policy // "" means PolicyNever
	MaxRestarts int    // give up after this many policy restarts; 0 means unlimited

	// A failed run waits min(BackoffMax, BackoffInitial·2^(n-1)) ±20%, but
	// never more than BackoffMax, before the next, n counting consecutive
	// failures; a run that lasted at least BackoffReset resets n.
	// BackoffInitial 0 means no wait (it is not replaced by the default: use
	// DefaultBackoffInitial explicitly).
	BackoffInitial, BackoffMax, BackoffReset time.Duration

	StopSignal   syscall.Signal // sent to the group to stop it; 0 means SIGTERM
	StopTimeout  time.Duration  // grace period before SIGKILL; 0 means DefaultStopTimeout
	DrainTimeout time.Duration  // how long to wait for output EOF once the group is gone; 0 means DefaultDrainTimeout

	Stdout, Stderr io.Writer // destinations of the program's output; nil means io.Discard
	// LogFile, if set, receives every line of both streams once more, as a
	// log-file record, whatever Format is:
	//
	//	<time> <run> <stream> <text>\n
	//
	// time is the UTC time the line was read, as "2006-01-02T15:04:05.000Z"
	// (always 24 bytes; the timestamp of the text and JSON formats); run is
	// the number of the run that wrote the line, in decimal, 1 for the
	// first; stream is "out" or "err", or "out+" or "err+" for a piece of a
	// line longer than MaxLine that more pieces of the line follow (the
	// pieces of the text format); text is the line's bytes exactly as the
	// program wrote them, without the newline (no escaping, colour or name;
	// it may be empty). A last line without newline at the end of the
	// stream is completed with one. Each Write carries whole records (one
	// or more), never a partial one; the writes come from the same
	// goroutines and under the same mutex as those to Stdout and Stderr.
	// Errors are ignored (as for Stdout). This is version 1 of the format.
	LogFile io.Writer
	// Stdin is the program's standard input; nil means /dev/null. An
	// *os.File is passed to the program directly. Note that the program
	// runs in its own (background) process group: reading from a terminal
	// stops it with SIGTTIN, so pass a terminal only for programs that do
	// not read it.
	Stdin io.Reader

	Format     Format
	Timestamps bool // text format: RFC 3339 time with milliseconds before each line
	// Text format: Color colours the name on stdout lines, ColorStderr on
	// stderr lines. They are separate because the two streams may go to
	// different places (a terminal and a redirected file): set each from
	// whether its own destination is a terminal.
	Color       bool
	ColorStderr bool
	// NameColor is the SGR sequence that colours the name ("\x1b[33m");
	// "" means cyan. NameWidth pads the name to that many characters, so
	// that the lines of several programs line up (fnrun up).
	NameColor string
	NameWidth int
	// Function, if set, is added to JSON lines as "function" (the entry a
	// replica such as api.2 belongs to).
	Function string

	// MaxLine is the longest piece of a line delivered at once, in bytes of
	// the program's output; 0 means DefaultMaxLine. A longer line is
	// delivered in pieces of at most MaxLine bytes as they become complete
	// (cut before a UTF-8 sequence when that costs at most 3 bytes): in the
	// text format each on its own output line with the prefix, in JSON
	// with "partial":true on every piece but the last, raw unchanged. So
	// the memory held per stream stays bounded by a small multiple of it.
	MaxLine int

	Logger *slog.Logger // the supervisor's own events; nil discards them
	// LogEveryEvent logs every event to Logger: repeated quick cycles are
	// not summarised (fnrun -v).
	LogEveryEvent bool
	OnEvent       func(Event) // called synchronously from Run for every event; may be nil

	// OnLine, if set, is called for every complete line (without its
	// newline) of either stream, and for every piece of a line longer than
	// MaxLine, before it is written. It must not retain line and must not
	// block for long.
	OnLine func(stream Stream, line []byte)

	// BeforeStart, if set, is called by Run before every start, with the
	// 1-based run number and the current executable. It returns the path to
	// start ("" keeps the current one): a different path replaces the
	// current one for this and later runs, as Replace does but without a
	// restart. An error ends Run like a failed start: EventStartFailed, a
	// *StartError wrapping it, Status.StartErr set — unless ctx is done, in
	// which case Run ends as cancelled. It runs on Run's goroutine and may
	// block (a rebuild); Kill does not interrupt it, ctx does.
	BeforeStart func(ctx context.Context, run int, path string) (string, error)

	Rand func() float64 // jitter source in [0,1); nil means math/rand/v2

	// Listeners are passed to every run (socket activation, the systemd
	// protocol): the program gets them as fds 3, 4, ... in this order, with
	// LISTEN_FDS=n, LISTEN_FDNAMES=name1:name2... and LISTEN_PID set to its
	// own pid; inherited values of the three are removed from its
	// environment. Only the program gets them: the Files stay close-on-exec
	// in this process, and the runner never closes them. Without Listeners
	// nothing of this applies and no shim is used. See listen.go.
	Listeners []Listener
	// Shim is the executable that starts a run with Listeners, as
	// "Shim ShimArg PROGRAM ARGV0 ARGS...": it sets LISTEN_PID to its own
	// pid and execs PROGRAM in place with ARGV0 ARGS..., keeping the pid (see package internal/shim;
	// every binary that links this package can serve). It should be an
	// absolute path. "" means the running binary (/proc/self/exe on Linux,
	// os.Executable elsewhere). Unused without Listeners.
	Shim string
}

// withDefaults validates o and returns a copy with defaults filled in.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Path == "" {
		errs = append(errs, errors.New("empty program path"))
	}
	p, err := ParsePolicy(string(o.Policy))
	if err != nil {
		errs = append(errs, err)
	}
	o.Policy = p
	if o.MaxRestarts < 0 {
		errs = append(errs, fmt.Errorf("negative max restarts %d", o.MaxRestarts))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"backoff initial", o.BackoffInitial}, {"backoff max", o.BackoffMax},
		{"backoff reset", o.BackoffReset}, {"stop timeout", o.StopTimeout},
		{"drain timeout", o.DrainTimeout},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("negative %s %v", d.name, d.v))
		}
	}
	if o.StopSignal < 0 {
		errs = append(errs, fmt.Errorf("invalid stop signal %d", int(o.StopSignal)))
	}
	if o.MaxLine < 0 {
		errs = append(errs, fmt.Errorf("negative max line %d", o.MaxLine))
	}
	if o.Format < FormatText || o.Format > FormatRaw {
		errs = append(errs, fmt.Errorf("unknown output format %d", int(o.Format)))
	}
	errs = append(errs, checkListeners(o.Listeners)...)
	if len(o.Listeners) > 0 && o.Shim == "" {
		if o.Shim, err = defaultShim(); err != nil {
			errs = append(errs, fmt.Errorf("listen shim: %w", err))
		}
	}
	if len(errs) > 0 {
		return o, fmt.Errorf("runner options: %w", errors.Join(errs...))
	}
	if o.Name == "" {
		o.Name = filepath.Base(o.Path)
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffReset == 0 {
		o.BackoffReset = DefaultBackoffReset
	}
	if o.StopSignal == 0 {
		o.StopSignal = syscall.SIGTERM
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.MaxLine == 0 {
		o.MaxLine = DefaultMaxLine
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	return o, nil
}

// Validate checks opts as New does, without making a Supervisor (an empty
// Path is allowed: it is often filled in later).
func Validate(opts Options) error {
	if opts.Path == "" {
		opts.Path = "unset"
	}
	_, err := opts.withDefaults()
	return err
}
