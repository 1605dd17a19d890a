package fn

import (
	"strconv"
	"syscall"
	"time"

	"github.com/fnrun/fnrun/runner"
)

// EventKind says what happened to a function.
type EventKind int

// Event kinds. The comment lists the fields set besides Kind, Time and Name.
const (
	EventProgress      EventKind = iota // fetch or build at work: Msg ("building example.com/fn")
	EventProgressDone                   // the work Progress described is over
	EventWarning                        // something the user should know: Msg (Err when one caused it)
	EventBuilt                          // a binary is ready: Binary, Key, CacheHit, Took
	EventStarted                        // a run started: Run, PID
	EventReady                          // the run passed its readiness checks: Run, Took (since start)
	EventNotReady                       // the run did not pass in time: Run, Took (the timeout), Msg (what it waited on)
	EventExited                         // a run ended: Run, PID, Code or Signal, Took (uptime)
	EventBackoff                        // the next run starts at Next: Run (the next), Delay
	EventStopping                       // the run's group is being stopped: Run, PID, Signal (sent)
	EventGaveUp                         // restarts exhausted: Run, Code or Signal of the last run
	EventStartFailed                    // the program could not be started: Run, Err
	EventTimedOut                       // Config.Timeout expired: Took (the timeout); the run is stopped
	EventWatching                       // the dev loop watches: Dirs
	EventChangeIgnored                  // a change left the build key as it was: Files (how many paths)
	EventRebuilding                     // a change is being built: Msg (what changed)
	EventRebuildFailed                  // the build failed, the old run keeps going: Err, Running
	EventRebuilt                        // a new binary replaces the run: Binary, Key, Took, Msg (what changed)
	EventIdle                           // watch: the program ended and is not restarted before the next good build: Code
	EventHeld                           // Stop: the run is gone and none starts before Start: Run, PID (of the stopped run, if one ran)
	EventEnded                          // Run is over: nothing more runs (Status says how it ended)
)

var eventNames = [...]string{"progress", "progress done", "warning", "built", "started", "ready", "not ready",
	"exited", "backoff", "stopping", "gave up", "start failed", "timed out", "watching", "change ignored",
	"rebuilding", "rebuild failed", "rebuilt", "idle", "held", "ended"}

func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one step in the life of a function. Only the fields listed for
// its Kind are set.
type Event struct {
	Kind     EventKind
	Time     time.Time
	Name     string // the function's name (Config.Runner.Name)
	Run      int
	PID      int
	Code     int            // exit code; -1 when killed by a signal
	Signal   syscall.Signal // the signal that killed the run, or the one sent when stopping
	Took     time.Duration
	Delay    time.Duration
	Next     time.Time // when the next run starts
	Binary   string
	Key      string
	CacheHit bool
	Dirs     []string
	Files    int
	Running  bool // a run is alive
	Msg      string
	Err      error
}

// fromRunner translates a runner event.
func fromRunner(e runner.Event) (Event, bool) {
	ev := Event{Time: e.Time, Run: e.Run, PID: e.PID, Code: e.Code, Signal: e.Signal}
	switch e.Kind {
	case runner.EventStarted:
		ev.Kind = EventStarted
	case runner.EventExited:
		ev.Kind, ev.Took = EventExited, e.Uptime
	case runner.EventRestarting:
		ev.Kind, ev.Delay, ev.Next = EventBackoff, e.Delay, e.Time.Add(e.Delay)
	case runner.EventStopping:
		ev.Kind = EventStopping
	case runner.EventGaveUp:
		ev.Kind = EventGaveUp
	case runner.EventStartFailed:
		ev.Kind, ev.Err = EventStartFailed, e.Err
	case runner.EventHeld:
		ev.Kind = EventHeld
	default:
		return ev, false
	}
	return ev, true
}
