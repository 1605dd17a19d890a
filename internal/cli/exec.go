package cli

import (
	"errors"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/runner"
)

func execCommand(env *appEnv) *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run any program under supervision",
		ArgsUsage: "-- PROGRAM [ARGS...]",
		Description: `Runs PROGRAM (looked up in PATH when it has no slash) in its own process group,
streams its output line by line with a name prefix, and restarts it according to
the restart policy.

Examples:
   fnrun exec -- ./server --port 8080
   fnrun exec -r --max-restarts 5 -- ./worker
   fnrun exec --policy on-failure --backoff-initial 1s -e DEBUG=1 -- ./job
   fnrun exec --timeout 30s --no-prefix -- make check`,
		Flags: append(append(superviseFlags(), readyFlags()...), commonFlags()...),
		Action: func(c *cli.Context) error {
			st := &reportState{}
			return env.finishReport(c, st, env.execAction(c, st))
		},
	}
}

func (env *appEnv) execAction(c *cli.Context, st *reportState) error {
	env.setupLogger(c)
	if err := checkReportPath(c); err != nil {
		return err
	}
	args := c.Args().Slice()
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return usageError("exec: no program given (usage: fnrun exec [flags] -- PROGRAM [ARGS...])")
	}
	cfg, err := env.functionConfig(c)
	if err != nil {
		return err
	}
	st.source = args[0]
	path, err := lookProgram(args[0], cfg.Runner.Env)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return withCode(ExitNoStart, err)
	}
	cfg.Program = path
	cfg.Runner.Args = args[1:]
	if cfg.Runner.Name == "" {
		cfg.Runner.Name = filepath.Base(args[0])
	}
	return env.runFunction(c, cfg, st)
}

// lookProgram is fn.LookProgram with fnrun's usage error for "".
func lookProgram(name string, environ []string) (string, error) {
	p, err := fn.LookProgram(name, environ)
	if errors.Is(err, fn.ErrEmptyProgram) {
		return "", usageError("exec: empty program name")
	}
	return p, err
}

// outputOptions fills the runner's output streams and logger.
func (env *appEnv) outputOptions(o *runner.Options) {
	o.Stdout = env.stdout
	o.Stderr = env.stderr
	o.Stdin = nil
	o.Logger = env.log
	o.LogEveryEvent = env.verbose
	o.Color = colorOK(env.stdoutTTY)
	o.ColorStderr = colorOK(env.stderrTTY)
}
