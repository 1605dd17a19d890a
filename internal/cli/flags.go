package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/runner"
)

// Every flag can also be set from an FNRUN_<NAME> environment variable.
func envVar(name string) []string { return []string{"FNRUN_" + name} }

const (
	catSupervise = "Supervision"
	catOutput    = "Output"
)

// superviseFlags are shared by `exec` and `run`.
func superviseFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.BoolFlag{DisableDefaultText: true, Name: "restart", Aliases: []string{"r"}, Category: catCommon, EnvVars: envVar("RESTART"),
			Usage: "restart the program whenever it exits (the same as --policy always)"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Category: catCommon, EnvVars: envVar("ENV"),
			Usage: "set `KEY=VALUE` in the program's environment (repeatable)"},
		&cli.StringFlag{Name: "policy", Value: string(runner.PolicyNever), Category: catSupervise, EnvVars: envVar("POLICY"),
			Usage: "restart the program when it exits according to `POLICY`: never, on-failure or always"},
		&cli.IntFlag{DefaultText: "unlimited", Name: "max-restarts", Category: catSupervise, EnvVars: envVar("MAX_RESTARTS"),
			Usage: "give up after `N` restarts"},
		&cli.DurationFlag{Name: "backoff-initial", Value: runner.DefaultBackoffInitial, Category: catSupervise, EnvVars: envVar("BACKOFF_INITIAL"),
			Usage: "wait `DURATION` after the first failure, twice as long after each further one (0: no wait)"},
		&cli.DurationFlag{Name: "backoff-max", Value: runner.DefaultBackoffMax, Category: catSupervise, EnvVars: envVar("BACKOFF_MAX"),
			Usage: "never wait longer than `DURATION` between restarts"},
		&cli.DurationFlag{Name: "backoff-reset", Value: runner.DefaultBackoffReset, Category: catSupervise, EnvVars: envVar("BACKOFF_RESET"),
			Usage: "forget earlier failures after a run that lasted `DURATION`"},
		&cli.StringFlag{Name: "stop-signal", Value: "TERM", Category: catSupervise, EnvVars: envVar("STOP_SIGNAL"),
			Usage: "stop the program by sending `SIGNAL` to its process group: TERM, INT, HUP, QUIT, KILL, USR1, USR2 or a number"},
		&cli.DurationFlag{Name: "stop-timeout", Value: runner.DefaultStopTimeout, Category: catSupervise, EnvVars: envVar("STOP_TIMEOUT"),
			Usage: "wait `DURATION` after the stop signal, then kill the process group (SIGKILL)"},
		&cli.DurationFlag{DefaultText: "no limit", Name: "timeout", Category: catSupervise, EnvVars: envVar("TIMEOUT"),
			Usage: "stop the program after `DURATION` in all, across restarts, and exit 124"},
		&cli.StringFlag{Name: "env-file", Category: catEnv, EnvVars: envVar("ENV_FILE"),
			Usage: "read KEY=VALUE lines from `FILE` into the program's environment (# comments and blank lines are ignored)"},
		&cli.StringFlag{Name: "dir", Aliases: []string{"C"}, Category: catEnv, EnvVars: envVar("DIR"),
			Usage: "run the program in `DIR`"},
		&cli.StringFlag{Name: "name", Category: catOutput, EnvVars: envVar("NAME"),
			Usage: "prefix the program's output lines with `NAME` (default: the program's name)"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "init", Category: catSupervise, EnvVars: envVar("INIT"),
			Usage: "run as a container's process 1 (the default when fnrun is process 1): reap every orphan, and log JSON when stderr is not a terminal"},
	}, append(listenFlags(), outputFlags()...)...)
}

// initMode reports whether fnrun runs as a container's init: --init, or
// fnrun is process 1. Orphans are reaped in every mode (fnrun is a child
// subreaper); what --init changes is the default log format.
func initMode(c *cli.Context) bool {
	return c.Bool("init") || os.Getpid() == 1
}

// logFormat is --log-format's value; under --init, when the flag is not
// given, stderr is not a terminal and --no-prefix is not asked for, json:
// a container engine collects the lines, and a log collector reads JSON.
func logFormat(c *cli.Context, stderrTTY bool) string {
	switch {
	case c.IsSet("log-format"):
		return c.String("log-format")
	case !stderrTTY && initMode(c) && !c.Bool("no-prefix") && slices.ContainsFunc(flagsOf(c), func(f cli.Flag) bool {
		return slices.Contains(f.Names(), "log-format")
	}):
		return "json"
	}
	return "text"
}

// outputFlags are how the program's output is written (run, exec, up).
func outputFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "log-format", Value: "text", Category: catOutput, EnvVars: envVar("LOG_FORMAT"),
			Usage: "write output in `FORMAT`: text (name | line) or json (one object per line)"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "timestamps", Category: catOutput, EnvVars: envVar("TIMESTAMPS"),
			Usage: "prefix every line with a timestamp"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "no-prefix", Category: catOutput, EnvVars: envVar("NO_PREFIX"),
			Usage: "pass the program's output through unchanged"},
		&cli.IntFlag{Name: "max-line", Value: runner.DefaultMaxLine, Category: catOutput, EnvVars: envVar("MAX_LINE"),
			Usage: "deliver lines longer than `N` bytes in pieces, to bound memory"},
		instanceFlag(),
		detachFlag(),
	}, logFileFlags()...)
}

// commonFlags are accepted by every command.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{DisableDefaultText: true, Name: "quiet", Aliases: []string{"q"}, EnvVars: envVar("QUIET"), Usage: "print none of fnrun's events or progress"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "verbose", Aliases: []string{"v"}, EnvVars: envVar("VERBOSE"), Usage: "print every event and the tools' output"},
	}
}

// superviseOptions turns the supervision flags into runner options (without
// Path, Args, output writers and logger) and validates them.
func (env *appEnv) superviseOptions(c *cli.Context) (runner.Options, error) {
	var o runner.Options
	policy := c.String("policy")
	if c.Bool("restart") {
		if c.IsSet("policy") && policy != string(runner.PolicyAlways) {
			return o, usageError("--restart conflicts with --policy %s", policy)
		}
		policy = string(runner.PolicyAlways)
	}
	p, err := runner.ParsePolicy(policy)
	if err != nil {
		return o, usageError("--policy: %v", err)
	}
	o.Policy = p
	if c.Bool("quiet") && c.Bool("verbose") {
		return o, usageError("--quiet and --verbose contradict each other")
	}
	if c.Bool("smoke") && (c.Bool("restart") || c.IsSet("policy") && p != runner.PolicyNever) {
		return o, usageError("--smoke runs the program once: it cannot be combined with --restart or --policy %s", p)
	}
	o.MaxRestarts = c.Int("max-restarts")
	if o.MaxRestarts < 0 {
		return o, usageError("--max-restarts must not be negative")
	}
	if o.MaxRestarts > 0 && p == runner.PolicyNever && !c.Bool("smoke") {
		fmt.Fprintf(c.App.ErrWriter, "fnrun: note: --max-restarts has no effect with --policy never (add -r or --policy on-failure)\n")
	}
	if c.IsSet("stop-timeout") && c.Duration("stop-timeout") == 0 {
		return o, usageError("--stop-timeout must be positive (for an immediate kill use --stop-signal KILL)")
	}
	for _, name := range []string{"backoff-initial", "backoff-max", "backoff-reset", "stop-timeout", "timeout"} {
		if c.Duration(name) < 0 {
			return o, usageError("--%s must not be negative", name)
		}
	}
	o.BackoffInitial = c.Duration("backoff-initial")
	o.BackoffMax = c.Duration("backoff-max")
	o.BackoffReset = c.Duration("backoff-reset")
	o.StopTimeout = c.Duration("stop-timeout")
	if o.BackoffMax < o.BackoffInitial {
		return o, usageError("--backoff-max (%s) is shorter than --backoff-initial (%s)", fmtDuration(o.BackoffMax), fmtDuration(o.BackoffInitial))
	}
	sig, err := parseSignal(c.String("stop-signal"))
	if err != nil {
		return o, usageError("--stop-signal: %v", err)
	}
	o.StopSignal = sig
	o.Env, err = programEnv(c.String("env-file"), c.StringSlice("env"))
	if err != nil {
		return o, err
	}
	if dir := c.String("dir"); dir != "" {
		fi, err := os.Stat(dir)
		if err != nil {
			return o, usageError("--dir %s: no such directory", dir)
		}
		if !fi.IsDir() {
			return o, usageError("--dir %s: not a directory", dir)
		}
		o.Dir = dir
	}
	o.Name = c.String("name")
	if strings.ContainsAny(o.Name, "\n\r") {
		return o, usageError("--name must be one line")
	}
	if err := env.readOutput(c, &o); err != nil {
		return o, err
	}
	return o, nil
}

// readOutput reads the output flags into o.
func (env *appEnv) readOutput(c *cli.Context, o *runner.Options) error {
	switch logFormat(c, env.stderrTTY) {
	case "text":
		o.Format = runner.FormatText
	case "json":
		o.Format = runner.FormatJSON
	default:
		return usageError("--log-format %q: want text or json", c.String("log-format"))
	}
	if c.Bool("no-prefix") {
		if c.String("log-format") == "json" {
			return usageError("--no-prefix conflicts with --log-format json")
		}
		o.Format = runner.FormatRaw
		if c.Bool("timestamps") {
			return usageError("--timestamps cannot be combined with --no-prefix (output passes through unchanged)")
		}
	}
	o.Timestamps = c.Bool("timestamps")
	if o.MaxLine = c.Int("max-line"); o.MaxLine < 1 {
		return usageError("--max-line must be positive")
	}
	return nil
}

// functionConfig reads the flags `run` and `exec` share into a function's
// Config: supervision, output, readiness and --timeout, plus fnrun's
// event logger and the observer that prints events. Source, Program and
// the program's arguments are the caller's.
func (env *appEnv) functionConfig(c *cli.Context) (fn.Config, error) {
	var cfg fn.Config
	var err error
	if cfg.Runner, err = env.superviseOptions(c); err != nil {
		return cfg, err
	}
	if cfg.Ready, err = readyConfig(c); err != nil {
		return cfg, err
	}
	cfg.Timeout = c.Duration("timeout")
	env.outputOptions(&cfg.Runner)
	cfg.Logger = env.log
	cfg.OnEvent = env.onEvent(c)
	return cfg, nil
}

// parseSignal reads --stop-signal: TERM, SIGTERM, term or a number, of a
// signal that can end a program (not STOP, CONT, CHLD…).
func parseSignal(s string) (syscall.Signal, error) {
	sig, err := runner.ParseSignal(s)
	if err != nil {
		return 0, fmt.Errorf("unknown signal %q (want TERM, INT, HUP, QUIT, KILL, USR1, USR2 or a number)", s)
	}
	if !runner.CanStop(sig) {
		return 0, fmt.Errorf("%s cannot stop a program (want TERM, INT, HUP, QUIT, KILL, USR1, USR2 or a number)", runner.SignalName(sig))
	}
	return sig, nil
}

// programEnv is fnrun's environment plus --env-file, then --env, later
// entries overriding earlier ones.
func programEnv(file string, kvs []string) ([]string, error) {
	var extra []string
	if file != "" {
		lines, err := fn.ReadEnvFile(file)
		var fe *fn.EnvFileError
		switch {
		case errors.As(err, &fe):
			return nil, usageError("--env-file %v", err)
		case err != nil:
			return nil, usageError("--env-file: %v", err)
		}
		extra = append(extra, lines...)
	}
	for _, kv := range kvs {
		if err := fn.CheckKV(kv); err != nil {
			return nil, usageError("--env %q: %v", kv, err)
		}
		extra = append(extra, kv)
	}
	if len(extra) == 0 {
		return nil, nil
	}
	return fn.MergeEnv(os.Environ(), extra), nil
}
