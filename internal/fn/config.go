package fn

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/runner"
)

// DefaultReadyTimeout bounds how long a run may take to become ready.
const DefaultReadyTimeout = 30 * time.Second

// Config is one function: what to run and how. A caller (the CLI, from its
// flags; later a file of functions) builds it once and passes it to New,
// which validates it before any work. Nothing below reads flags again.
type Config struct {
	// Source is what to fetch and build (fnrun run). Nil means Program is
	// run as it is (fnrun exec).
	Source  *fetch.Source
	Program string // with no Source: the executable's path (looked up already)

	CacheDir string // the cache root, existing (cache.Ensure)
	Update   bool   // resolve @latest, branches and unpinned URLs again
	Build    BuildConfig

	// Runner configures the supervision. Path is set by Run (Program, or
	// the built binary); Name defaults to the binary's base name.
	Runner runner.Options

	Ready   ReadyConfig
	Watch   *WatchConfig  // nil: no watching (Source must be local otherwise)
	Timeout time.Duration // stop after this long in all, across restarts; 0: none

	// Logger receives the fetcher's, builder's and runner's own log lines
	// (the runner's event lines, thinned); nil discards them.
	Logger *slog.Logger
	// OnEvent observes the function (see Event); it may be called from
	// several goroutines, so it must be safe for concurrent use, and it must
	// not block for long.
	OnEvent func(Event)
}

// BuildConfig is how a Source is built.
type BuildConfig struct {
	Tags    string
	Ldflags string
	Race    bool
	Flags   []string // extra `go build` arguments
	Env     []string // the go command's environment; nil means os.Environ()
}

// ReadyConfig says when a run is ready and whether this is a smoke test.
// A run is ready when every check given has passed.
type ReadyConfig struct {
	Log     *regexp.Regexp // a line of output matches
	URL     string         // an HTTP GET answers 2xx
	TCP     string         // HOST:PORT accepts a connection
	Timeout time.Duration  // per run; 0 means DefaultReadyTimeout
	// Smoke runs once: ready → graceful stop, pass; not ready in Timeout, or
	// exited before ready → fail. Without checks the program must finish by
	// itself within Timeout, with code 0 or one in Expect.
	Smoke  bool
	Expect map[int]bool // exit codes that count as success for Smoke
	// Names are how the caller's user wrote the checks, for messages
	// (--ready-url, ready.url); empty ones read "ready log" and so on.
	Names ReadyNames
}

// ReadyNames name the readiness checks in messages.
type ReadyNames struct{ Log, URL, TCP string }

func (c ReadyConfig) names() ReadyNames {
	n := c.Names
	if n.Log == "" {
		n.Log = "ready log"
	}
	if n.URL == "" {
		n.URL = "ready url"
	}
	if n.TCP == "" {
		n.TCP = "ready tcp"
	}
	return n
}

// Checks reports whether any readiness check is configured.
func (c ReadyConfig) Checks() bool { return c.Log != nil || c.URL != "" || c.TCP != "" }

// WatchConfig configures the dev loop (rebuild and restart on change).
type WatchConfig struct {
	Debounce time.Duration
	Ignore   []string // globs
}

// ConfigError is a Config that cannot run; nothing was done.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// validate checks what the callers cannot have checked one field at a time.
func (c *Config) validate() error {
	var errs []error
	if c.Source == nil && c.Program == "" {
		errs = append(errs, errors.New("nothing to run: no source and no program"))
	}
	if c.Source != nil && c.Program != "" {
		errs = append(errs, errors.New("both a source and a program given"))
	}
	if c.Source != nil && c.CacheDir == "" {
		errs = append(errs, errors.New("no cache directory"))
	}
	if c.Timeout < 0 || c.Ready.Timeout < 0 {
		errs = append(errs, errors.New("negative timeout"))
	}
	if c.Watch != nil {
		if c.Source == nil || c.Source.Kind != fetch.KindLocal {
			errs = append(errs, errors.New("watching needs a local source"))
		}
		if c.Ready.Smoke || c.Ready.Checks() {
			errs = append(errs, errors.New("readiness checks and smoke tests cannot be combined with watching"))
		}
		if c.Watch.Debounce < 0 {
			errs = append(errs, errors.New("negative debounce"))
		}
	}
	if c.Ready.Smoke && c.Runner.Policy != "" && c.Runner.Policy != runner.PolicyNever {
		errs = append(errs, fmt.Errorf("a smoke test runs once: it cannot be combined with policy %s", c.Runner.Policy))
	}
	if len(errs) > 0 {
		return &ConfigError{errors.Join(errs...)}
	}
	return nil
}
