package fn

import (
	"errors"
	"time"

	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/runner"
)

// Result says how a function ended. Exactly one of these describes the
// end: Err (it could not run, or supervision failed), Smoke (a smoke test's
// verdict), TimedOut (Config.Timeout expired), Stopped (the context was
// done: the caller knows why), or none of them: the program ended by itself
// and was not restarted (Status is its last run).
type Result struct {
	Err      error
	Smoke    *SmokeResult
	TimedOut bool
	Stopped  bool
	Status   runner.Status // the last run

	// What ran.
	Source   string         // the SOURCE (credentials redacted) or the program
	Checkout fetch.Checkout // zero for a program
	Binary   string
	Build    *BuildInfo // nil for a program, or when the build failed

	Runs   []RunRecord // the first and last runs (see records.go)
	Elided int         // runs left out between them
}

// BuildInfo is how the binary was obtained.
type BuildInfo struct {
	Key      string
	CacheHit bool
	Took     time.Duration
}

// SmokeResult is a smoke test's verdict.
type SmokeResult struct {
	Passed bool
	Why    string // why it failed
	Tail   string // the last lines of output, when it failed
}

// Phase is the part of the work that failed.
type Phase string

// Phases.
const (
	PhaseFetch     Phase = "fetch"
	PhaseBuild     Phase = "build"
	PhaseStart     Phase = "start"     // the program could not be started
	PhaseWatch     Phase = "watch"     // the watcher could not start or failed
	PhaseSupervise Phase = "supervise" // anything else while supervising
)

// Error is a failure in one phase; Unwrap gives the cause (a *fetch.Error,
// *build.Error, *build.NotMainError, *runner.StartError, *watch.LimitError…).
type Error struct {
	Phase Phase
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// PhaseOf returns the phase of a Result's Err, or "".
func PhaseOf(err error) Phase {
	var e *Error
	if errors.As(err, &e) {
		return e.Phase
	}
	return ""
}

func startError(err error) error {
	var se *runner.StartError
	if errors.As(err, &se) {
		return &Error{Phase: PhaseStart, Err: err}
	}
	return &Error{Phase: PhaseSupervise, Err: err}
}
