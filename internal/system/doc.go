// Package system runs a whole system of functions from one file (`fnrun
// up`): fnrun.yaml or a Procfile (parse.go, procfile.go, validate.go: every
// mistake is a FILE:LINE error before any work), the entries to run and
// their start order (order.go), each entry's fn.Config (config.go: the
// keys of `fnrun run`'s flags, paths relative to the file), and the
// runtime (system.go): build everything first, start in dependency order
// (started, ready, completed), supervise each entry independently, stop in
// reverse order, and the system smoke test and report (report.go).
//
// It knows nothing of flags or terminals: the CLI gives it Options (output
// writers, colours, an event observer) and maps its Result to an exit code.
// A System's Restart, Kill, Signal and SetStopSignal are safe from any
// goroutine; Options.OnEvent must be safe for concurrent use.
package system
