// Command bench measures fnrun against what a user would otherwise do: a
// shell restart loop, a plain pipe, `go run`, `go build`. It is what
// `make bench` runs:
//
//	go run ./internal/bench -fnrun bin/fnrun [-quick] [-only NAME]
//
// Every measurement runs fnrun and its reference side by side, interleaved
// over several rounds (the machines are shared and noisy), and quotes
// medians. For each one it prints the fnrun figure, the reference figure,
// their ratio and the target; a summary table closes the run.
//
// Exit status: 0 when every benchmark ran, even if a target was MISSED or
// fnrun was unavailable (then only the reference sides run); 1 when a
// benchmark FAILed (fnrun misbehaved, e.g. lost log lines, or the harness
// could not run it); 2 for a bad command line.
//
// The bench needs only Go and git (plus sh for the restart reference). It
// builds its helper programs into a temporary directory, gives fnrun a
// private FNRUN_CACHE_DIR there, starts every process in its own process
// group and kills what is left when it ends, even on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.fnrun, "fnrun", "bin/fnrun", "the fnrun `binary` to measure")
	fs.BoolVar(&cfg.quick, "quick", false, "shorter windows and fewer rounds (a smoke run)")
	fs.StringVar(&cfg.only, "only", "", "run only the benchmark `NAME` ("+benchNames()+")")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (for debugging)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	list := benchmarks
	if cfg.only != "" {
		list = nil
		for _, bm := range benchmarks {
			if bm.name == cfg.only {
				list = append(list, bm)
			}
		}
		if len(list) == 0 {
			fmt.Fprintf(os.Stderr, "bench: -only %s: unknown benchmark (want one of %s)\n", cfg.only, benchNames())
			return 2
		}
	}

	b, err := newBench(ctx, cfg, os.Stdout)
	if b != nil {
		defer b.close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	rows := b.runAll(ctx, list)
	printSummary(os.Stdout, rows)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "bench: interrupted")
		return 130
	}
	for _, r := range rows {
		if r.status == statusFail {
			return 1
		}
	}
	return 0
}
