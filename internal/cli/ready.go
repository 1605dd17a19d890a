package cli

import (
	"net"
	"net/url"
	"regexp"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/fn"
)

const catReady = "Readiness and CI"

func readyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "ready-log", EnvVars: envVar("READY_LOG"), Category: catReady,
			Usage: "ready when a line of output matches `REGEX`"},
		&cli.StringFlag{Name: "ready-url", EnvVars: envVar("READY_URL"), Category: catReady,
			Usage: "ready when an HTTP GET of `URL` answers 2xx"},
		&cli.StringFlag{Name: "ready-tcp", EnvVars: envVar("READY_TCP"), Category: catReady,
			Usage: "ready when `HOST:PORT` accepts a connection"},
		&cli.DurationFlag{Name: "ready-timeout", Value: fn.DefaultReadyTimeout, EnvVars: envVar("READY_TIMEOUT"), Category: catReady,
			Usage: "give each run up to `DURATION` to become ready"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "smoke", EnvVars: envVar("SMOKE"), Category: catReady,
			Usage: "run once: when the program becomes ready, stop it and exit 0; exit 1 if it never does or exits first"},
		&cli.IntSliceFlag{Name: "expect-exit", EnvVars: envVar("EXPECT_EXIT"), Category: catReady,
			Usage: "count exit code `N` as success (repeatable)"},
		&cli.StringFlag{Name: "report", EnvVars: envVar("REPORT"), Category: catReady,
			Usage: "write a JSON summary to `FILE` at the end (- for stdout)"},
	}
}

// readyConfig reads and validates the readiness, smoke and expect-exit flags.
func readyConfig(c *cli.Context) (fn.ReadyConfig, error) {
	r := fn.ReadyConfig{
		URL: c.String("ready-url"), TCP: c.String("ready-tcp"),
		Timeout: c.Duration("ready-timeout"), Smoke: c.Bool("smoke"),
		Expect: map[int]bool{},
		Names:  fn.ReadyNames{Log: "--ready-log", URL: "--ready-url", TCP: "--ready-tcp"},
	}
	if re := c.String("ready-log"); re != "" {
		var err error
		if r.Log, err = regexp.Compile(re); err != nil {
			return r, usageError("--ready-log: %v", err)
		}
	}
	if r.URL != "" {
		if err := checkURL("ready-url", r.URL); err != nil {
			return r, err
		}
	}
	if r.TCP != "" {
		if err := checkTCP("ready-tcp", r.TCP); err != nil {
			return r, err
		}
	}
	if r.Timeout <= 0 {
		return r, usageError("--ready-timeout must be positive")
	}
	for _, n := range c.IntSlice("expect-exit") {
		if n < 0 || n > 255 {
			return r, usageError("--expect-exit %d: want 0-255", n)
		}
		r.Expect[n] = true
	}
	return r, nil
}

// checkURL refuses a --FLAG value that is not an http:// or https:// URL.
func checkURL(flag, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError("--%s %q: want an http:// or https:// URL", flag, v)
	}
	return nil
}

// checkTCP refuses a --FLAG value that is not HOST:PORT.
func checkTCP(flag, v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" {
		return usageError("--%s %q: want HOST:PORT", flag, v)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return usageError("--%s %q: bad port", flag, v)
	}
	return nil
}
