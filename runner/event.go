//go:build unix

package runner

import (
	"strconv"
	"syscall"
	"time"
)

// Stream identifies one of the program's output streams.
type Stream int

// Output streams.
const (
	StreamStdout Stream = iota
	StreamStderr
)

func (s Stream) String() string {
	if s == StreamStderr {
		return "stderr"
	}
	return "stdout"
}

// EventKind says what happened to the supervised program.
type EventKind int

// Event kinds.
const (
	EventStarted     EventKind = iota // a run started: Run, PID
	EventExited                       // a run ended: Run, PID, Code or Signal, Uptime
	EventRestarting                   // the next run starts after Delay: Run is the next run's number
	EventGaveUp                       // MaxRestarts reached: Run, Code or Signal of the last run
	EventStopping                     // the group is being stopped: Run, PID, Signal sent
	EventStartFailed                  // the program could not be started: Run, Err
	EventHeld                         // held (Supervisor.Hold): Run, PID of the stopped run; during a backoff wait Run is the next run's number, PID 0
)

var eventNames = [...]string{"started", "exited", "restarting", "gave up", "stopping", "start failed", "held"}

func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one step in the life of the supervised program. Only the fields
// listed for its Kind are set.
type Event struct {
	Kind   EventKind
	Time   time.Time
	Run    int            // 1-based run number
	PID    int            // process id of the run (also its process group id)
	Code   int            // exit code; -1 when killed by a signal
	Signal syscall.Signal // the signal that killed the run, or the one sent when stopping
	Uptime time.Duration  // how long the run lasted
	Delay  time.Duration  // wait before the next run
	Err    error          // the start error
}

// failed reports whether an EventExited or EventGaveUp describes a failure.
func (e Event) failed() bool { return e.Code != 0 || e.Signal != 0 }

// Status describes the last run when Run returns.
type Status struct {
	Code     int            // exit code; -1 when killed by a signal
	Signal   syscall.Signal // the signal that killed the last run, or 0
	Runs     int            // how many runs were started
	StartErr error          // set when the last start failed
}

// ExitCode returns the exit code a command-line tool should pass on: the
// program's own code, 128+N when it was killed by signal N, or 126 when it
// could not be started.
func (s Status) ExitCode() int {
	switch {
	case s.StartErr != nil:
		return 126
	case s.Signal != 0:
		return 128 + int(s.Signal)
	}
	return s.Code
}
