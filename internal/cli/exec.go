package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

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

// lookProgram resolves name like a shell would, without a shell: a name with a
// slash is a path; otherwise it is looked up in PATH (the program's PATH when
// --env sets one).
func lookProgram(name string, environ []string) (string, error) {
	if name == "" {
		return "", usageError("exec: empty program name")
	}
	if filepath.Base(name) != name {
		fi, err := os.Stat(name)
		if err != nil {
			return "", fmt.Errorf("exec %s: %w", name, errors.Unwrap(err))
		}
		if fi.IsDir() {
			return "", fmt.Errorf("exec %s: is a directory", name)
		}
		if fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("exec %s: permission denied", name)
		}
		return filepath.Abs(name)
	}
	pathList := os.Getenv("PATH")
	for _, kv := range environ {
		if strings.HasPrefix(kv, "PATH=") {
			pathList = kv[len("PATH="):]
		}
	}
	for _, dir := range filepath.SplitList(pathList) {
		if !filepath.IsAbs(dir) {
			// An empty or relative PATH entry would run a program from
			// the current directory (exec.LookPath refuses it too: ErrDot).
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("exec %s: not found in PATH", name)
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
