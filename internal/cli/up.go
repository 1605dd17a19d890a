package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/system"
	"github.com/fnrun/fnrun/runner"
)

// DefaultUpFile is the file `fnrun up` reads when -f is not given.
const DefaultUpFile = "fnrun.yaml"

// upColors are the entries' name colours on a terminal, one per entry in turn.
var upColors = []string{"\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m", "\x1b[34m", "\x1b[91m", "\x1b[96m", "\x1b[93m"}

func upCommand(env *appEnv) *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Value: DefaultUpFile, EnvVars: envVar("FILE"),
			Usage: "the system's `FILE`: fnrun.yaml, or a Procfile"},
	}
	flags = append(flags, outputFlags()...)
	flags = append(flags,
		&cli.BoolFlag{DisableDefaultText: true, Name: "smoke", EnvVars: envVar("SMOKE"), Category: catReady,
			Usage: "the whole system must become ready within --ready-timeout, then it is stopped: exit 0, else 1"},
		&cli.DurationFlag{Name: "ready-timeout", Value: fn.DefaultReadyTimeout, EnvVars: envVar("READY_TIMEOUT"), Category: catReady,
			Usage: "--smoke: give the system up to `D` to become ready"},
		&cli.StringFlag{Name: "report", EnvVars: envVar("REPORT"), Category: catReady,
			Usage: "write a JSON summary to `FILE` at the end (- for stdout)"},
	)
	flags = append(flags, watchFlags()...)
	flags = append(flags, sourceFlags()...)
	flags = append(flags, commonFlags()...)
	return &cli.Command{
		Name:      "up",
		Usage:     "run a whole system of functions from one file",
		ArgsUsage: "[NAME...]",
		Description: `Reads fnrun.yaml (or -f FILE, a Procfile too), fetches and builds every entry,
then starts the named entries and what they depend on (all when none are
named) in dependency order, and supervises them until Ctrl-C, which stops
them in reverse order. See README.md for the file format.

Examples:
   fnrun up
   fnrun up api                 # api and what it depends on
   fnrun up -f Procfile
   fnrun up --smoke --report up.json
   fnrun up -w                  # rebuild entries whose sources change`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			st := &upReport{}
			return env.finishUpReport(c, st, env.upAction(c, st))
		},
	}
}

// upReport is what `up --report` needs.
type upReport struct {
	file string
	res  *system.Result
}

func (env *appEnv) upAction(c *cli.Context, st *upReport) error {
	env.setupLogger(c)
	if err := checkReportPath(c); err != nil {
		return err
	}
	opts := system.Options{Update: c.Bool("update"), Smoke: c.Bool("smoke"), ReadyTimeout: c.Duration("ready-timeout"), Logger: env.log}
	if opts.ReadyTimeout <= 0 {
		return usageError("--ready-timeout must be positive")
	}
	if c.Bool("quiet") && c.Bool("verbose") {
		return usageError("--quiet and --verbose contradict each other")
	}
	var err error
	if err = env.readOutput(c, &opts.Runner); err != nil {
		return err
	}
	env.outputOptions(&opts.Runner)
	wc, err := watchConfig(c)
	if err != nil {
		return err
	}
	if wc != nil {
		if opts.Smoke || c.IsSet("report") {
			return usageError("--smoke and --report cannot be combined with --watch")
		}
		opts.Watch = true
	}
	opts.Debounce, opts.Ignore = c.Duration("debounce"), c.StringSlice("ignore")
	if env.stdoutTTY && colorOK(true) {
		opts.Colors = upColors
	}
	path := c.String("file")
	st.file = path
	file, err := system.Load(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !c.IsSet("file") {
			return usageError("no %s here (write one, see README.md, or name a file with -f)", DefaultUpFile)
		}
		return usageError("%v", err)
	}
	if opts.CacheDir, err = cacheDir(c); err != nil {
		return err
	}
	prog := env.progress(c)
	prog.multi = true // a status line per entry being fetched or built
	render := env.render(prog)
	opts.OnEvent = func(e system.Event) {
		switch e.System {
		case system.StepWaiting:
			env.log.Info("waiting for "+e.Msg, "name", e.Entry)
		case system.StepStopping:
			env.log.Info(e.Msg)
		default:
			render(e.Event)
		}
	}
	def := "fnrun"
	if abs, err := filepath.Abs(path); err == nil {
		def = filepath.Base(filepath.Dir(abs))
	}
	name, chosen, err := instanceName(c, def)
	if err != nil {
		return err
	}
	if err := env.checkDetach(c); err != nil {
		return err
	}
	logs, err := env.logFilesFor(c, name, true)
	if err != nil {
		return err
	}
	if c.Bool("detach") && env.detached == nil {
		if _, err := system.New(file, c.Args().Slice(), opts); err != nil {
			return usageError("%v", err) // said here, not in the background
		}
		return env.detach(c, name)
	}
	entries, err := file.Select(c.Args().Slice())
	if err != nil {
		return usageError("%v", err)
	}
	listenAddrs := map[string][]string{}
	for _, e := range entries {
		if len(e.Listen) == 0 && len(e.Proxy) == 0 {
			continue
		}
		hd, err := env.hold(e.Listen, e.Proxy, e.Backlog)
		if err != nil {
			env.detached.fail(err)
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		defer hd.close()
		if opts.Listeners == nil {
			opts.Listeners = map[string][]runner.Listener{}
		}
		opts.Listeners[e.Name] = hd.set.Listeners()
		listenAddrs[e.Name] = hd.addrs()
	}
	h := &sysHandler{env: env, listen: listenAddrs}
	name, closeCtl, err := env.serve(c, name, chosen, false, h)
	if err != nil {
		env.detached.fail(err)
		return err
	}
	defer closeCtl()
	defer logs.close()
	if logs != nil {
		opts.LogFile = logs.writer
		env.detached.named(name, logs.dir)
	}
	env.detached.discard(&opts.Runner)
	onEvent := opts.OnEvent
	opts.OnEvent = func(e system.Event) {
		if e.System == 0 {
			logs.event(e.Event)
		}
		onEvent(e)
		env.detached.checkSystem(h.sys.Load())
	}
	sys, err := system.New(file, c.Args().Slice(), opts)
	if err != nil {
		env.detached.fail(err)
		return usageError("%v", err)
	}
	h.sys.Store(sys)
	env.sig.attach(sys)
	res := sys.Run(c.Context)
	st.res = &res
	err = env.upResult(c, res)
	env.detached.fail(err)
	return err
}

// upResult maps how a system ended to fnrun's result.
func (env *appEnv) upResult(c *cli.Context, res system.Result) error {
	verbose := env.verbose
	var ee *system.EntryError
	switch {
	case errors.As(res.Err, &ee):
		err := errorOf(verbose, fn.Result{Err: ee.Err})
		var xe *exitError
		if errors.As(err, &xe) {
			xe.err = fmt.Errorf("%s: %w", ee.Entry, xe.err)
		}
		return err
	case res.Err != nil:
		return withCode(ExitFnrun, res.Err)
	case res.Smoke != nil:
		if res.Smoke.Passed {
			env.log.Info("smoke test passed: " + systemSmokeTook(res))
			return codeOnly(ExitOK)
		}
		return smokeFailure(res.Smoke)
	case res.Stopped:
		if sc := causeOf(c.Context); sc != nil {
			return sc
		}
	case res.Failed != "":
		return withCode(res.Code, errors.New(res.Why)) // stop-all, or a dependency that failed
	}
	return codeOnly(res.Code)
}

func (env *appEnv) finishUpReport(c *cli.Context, st *upReport, result error) error {
	path := c.String("report")
	if path == "" {
		return result
	}
	var ee *exitError
	if errors.As(result, &ee) && ee.code == ExitUsage {
		return result
	}
	var res system.Result
	if st.res != nil {
		res = *st.res
	}
	file := st.file
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	rep := res.Report(file, exitCodeOf(result), reasonOf(result))
	if err := writeJSON(path, env, rep); err != nil {
		fmt.Fprintf(env.stderr, "fnrun: %v\n", err)
		if exitCodeOf(result) == 0 {
			return codeOnly(ExitFnrun)
		}
	}
	return result
}
