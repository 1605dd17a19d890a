// Package cli is fnrun's command-line application, and only translates:
// commands and flags (urfave/cli/v2) → an internal/fn Config, parsed and
// validated once before any work; the function's events → lines on the
// terminal (render.go, events.go); its Result → fnrun's exit code
// (result.go) and the --report file. It also owns what belongs to the
// terminal: signals (signals.go), write errors on stdout and stderr
// (pipe.go), colours and the status line. It is the only package that
// prints; Main returns an exit code and never calls os.Exit.
package cli
