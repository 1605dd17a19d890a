// Package runner starts, stops and restarts one executable and streams its
// output line by line.
//
// A Supervisor owns one program: it runs it in its own process group,
// restarts it according to a Policy with capped exponential backoff, stops
// the whole group with a signal, a grace period and SIGKILL, and waits until
// the group is gone before the next run starts. Hold stops it the same way
// and starts nothing until Resume. Each line the program writes to stdout or
// stderr is written, whole and with one Write call, to Options.Stdout or
// Options.Stderr, as text ("name | line"), JSON lines, or raw bytes. A line
// longer than Options.MaxLine bytes (1 MiB by default) is written in pieces
// of at most that size, each as soon as it is complete, so the memory held
// stays bounded whatever the program writes. If Options.LogFile is set,
// every line is written there once more as a record with its time, run
// number and stream (see Options.LogFile for the format). The supervisor's
// own events (started, exited, restarting, gave up, stopping, held, start
// failed) are delivered to Options.OnEvent and logged, without flooding, to
// Options.Logger.
//
// The package knows nothing of fetching or building: it runs any executable.
// It never prints to the process's stdout or stderr and never exits.
//
// Concurrency contract: Run is called from one goroutine at a time and
// blocks until the supervision ends. Restart, Replace, Hold, Resume, Held,
// Kill, Signal and SetStopSignal are safe to call from any goroutine, at any
// time, also while Run is not running. BeforeStart is called from the goroutine running Run.
//
// Containment: on Linux a run's processes that leave its process group
// (setsid, self-daemonising programs) are stopped with it: each run gets a
// cgroup v2 of its own where one is writable and delegated, else the
// supervising process is a child subreaper that adopts, tracks and reaps
// them (see contain_linux.go).
//
// Socket activation: Options.Listeners, listening sockets the caller binds
// once, are passed to every run with the systemd protocol (fds 3, 4, ...,
// LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID), so connections wait in the
// kernel's backlog while no run is alive. A run with listeners is started
// through a shim that execs the program in place (same pid); every binary
// that links this package contains it (package internal/shim), so by
// default the running binary is the shim (see listen.go).
// OnEvent is called synchronously from the goroutine running Run. OnLine and
// the writes to Stdout, Stderr and LogFile are made from per-stream reader
// goroutines, serialised by one mutex, so they are never concurrent with
// each other, even when Stdout and Stderr are different writers.
//
// The package builds for Unix systems only (process groups and signals): its
// files carry a `unix` build constraint, and a build for any other system
// fails with one error that names the cause (see internal/unixonly).
package runner
