// Command crasher prints a few lines and then fails after a moment: it shows
// fnrun's restart policy and backoff at work.
//
//	crasher -after 300ms -code 3     # exit 3 after 300 ms
//	crasher -panic                    # panic instead (exit 2, stack on stderr)
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	after := flag.Duration("after", 500*time.Millisecond, "how long to run before failing")
	code := flag.Int("code", 1, "exit code to fail with")
	doPanic := flag.Bool("panic", false, "panic instead of exiting")
	flag.Parse()

	fmt.Printf("crasher %d: working for %s\n", os.Getpid(), *after)
	time.Sleep(*after)
	fmt.Fprintf(os.Stderr, "crasher %d: something went wrong\n", os.Getpid())
	if *doPanic {
		panic("crasher: deliberate panic")
	}
	os.Exit(*code)
}
