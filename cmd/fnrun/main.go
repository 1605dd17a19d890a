// Command fnrun turns a source reference into a running, supervised program.
package main

import (
	"os"

	"github.com/fnrun/fnrun/internal/cli"
	"github.com/fnrun/fnrun/internal/shim"
)

func main() {
	// Started as the socket-activation shim ("fnrun __fnrun-listen-shim
	// PROGRAM ARGS..."), fnrun execs PROGRAM: the shim's init has done so
	// before most packages are initialised; this is the second line of
	// defence and otherwise returns at once.
	shim.Main()
	os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
