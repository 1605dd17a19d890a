// Command fnrun turns a source reference into a running, supervised program.
package main

import (
	"os"

	"github.com/fnrun/fnrun/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
