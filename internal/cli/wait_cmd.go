package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/fn"
)

// waitCommand waits for addresses and URLs, as readiness checks do: what
// an init container runs before its program (export kubernetes), or a
// script before it talks to a function.
func waitCommand(env *appEnv) *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "wait until addresses accept connections and URLs answer",
		UsageText: "fnrun wait [--tcp HOST:PORT]... [--url URL]... [--timeout D]",
		Description: `Polls every check the way readiness checks are polled (10 ms, doubling to
500 ms) and exits 0 once all pass, or 1 at --timeout naming the check that did
not pass and what it last got.

Examples:
   fnrun wait --tcp db:5432 --timeout 1m       # an init container
   fnrun wait --url http://127.0.0.1:8080/healthz && curl ...`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "tcp", Usage: "wait until `HOST:PORT` accepts a connection (repeatable)"},
			&cli.StringSliceFlag{Name: "url", Usage: "wait until a GET of `URL` answers 2xx (repeatable)"},
			&cli.DurationFlag{Name: "timeout", Value: fn.DefaultReadyTimeout, Usage: "give up after `DURATION` (exit 1)"},
		},
		Before: noArgs,
		Action: func(c *cli.Context) error {
			tcp, urls := c.StringSlice("tcp"), c.StringSlice("url")
			if len(tcp)+len(urls) == 0 {
				return usageError("wait: nothing to wait for (give --tcp HOST:PORT or --url URL)")
			}
			for _, a := range tcp {
				if err := checkTCP("tcp", a); err != nil {
					return err
				}
			}
			for _, u := range urls {
				if err := checkURL("url", u); err != nil {
					return err
				}
			}
			d := c.Duration("timeout")
			if d <= 0 {
				return usageError("--timeout must be positive")
			}
			ctx, cancel := context.WithTimeout(c.Context, d)
			defer cancel()
			err := fn.Wait(ctx, tcp, urls)
			switch {
			case err == nil:
				return nil
			case c.Context.Err() != nil: // interrupted: Main reports the signal
				return c.Context.Err()
			case errors.Is(ctx.Err(), context.DeadlineExceeded):
				return withCode(ExitSmokeFail, fmt.Errorf("not ready after %s: %w", roundDuration(d), err))
			}
			return withCode(ExitSmokeFail, err)
		},
	}
}
