// Package fn runs one function end to end: a Config built once → fetch →
// build → supervise, or watch (rebuild and restart on change), with
// readiness checks, smoke tests and run records. It is the engine under
// `fnrun run` and `fnrun exec` (and the pieces under `fnrun build` and
// `fnrun fetch`), built so that several functions can run in one process
// and be observed from outside.
//
// A Function reports what happens through one observer hook,
// Config.OnEvent: fetch and build progress, built, started, ready, not
// ready, exited, backoff with the next start time, stopping, gave up,
// rebuild started/failed/succeeded, warnings. The runner's own concise
// event lines still go to Config.Logger. Run returns a Result that says how
// the function ended; it never prints and never exits the process.
//
// Files, one job each: config.go (what a function is), event.go (the event
// stream), function.go (Run: the phases, steering), source.go (fetch,
// build, pin, verify before restart), supervise.go (one supervision with
// timeout and smoke verdict), ready.go (per-run readiness checks),
// records.go (bounded run records), tail.go (the last lines of output),
// devloop.go (the watch loop, on two small interfaces), report.go (the
// --report document).
//
// Concurrency contract: New does no I/O; Run is called once and blocks
// until the function ends. Restart, Kill, Signal and SetStopSignal are
// safe from any goroutine at any time (before the first run they are
// remembered or do nothing). OnEvent is called from Run's goroutines (the
// supervisor's, the readiness checks', the dev loop's, the fetcher's), so
// it must be safe for concurrent use.
package fn
