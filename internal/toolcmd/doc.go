// Package toolcmd is the one way fnrun starts the tools it runs on the
// user's behalf: the go command (`go build`, `go env`, `go list`, `go mod
// download`) and git. It owns how such a tool is contained and stopped;
// the callers (build, fetch) own the arguments, directory, environment and
// output.
//
// A command from [Command] runs in its own session and process group, with
// no controlling terminal. Cancelling its context interrupts the whole group
// (SIGINT, as Ctrl-C in a terminal would), so that nothing the tool started
// (compile, link, git's remote helpers, the go command's git) outlives it;
// whatever is still in the group [DefaultWaitDelay] later is killed (SIGKILL
// to the group). On Linux the tool also gets a parent-death signal, so that
// a killed fnrun does not leave it running. The package builds on Unix
// systems only.
//
// The package holds no state: Command may be called from any goroutine
// (but see the parent-death caveat on Command).
package toolcmd
