package cli

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/system"
)

func runCommand(env *appEnv) *cli.Command {
	flags := append(superviseFlags(), buildFlags()...)
	flags = append(flags, sourceFlags()...)
	flags = append(flags, watchFlags()...)
	flags = append(flags, readyFlags()...)
	flags = append(flags, commonFlags()...)
	return &cli.Command{
		Name:      "run",
		Usage:     "fetch and build SOURCE once, then run it under supervision",
		ArgsUsage: "SOURCE [-- ARGS...]",
		Description: `Fetches SOURCE, builds it once into the cache (later starts reuse the binary:
no go command, no network) and runs it like ` + "`fnrun exec`" + `. ARGS go to the program.

Examples:
   fnrun run ./examples/greeter
   fnrun run -r ./examples/greeter -- -port 8080
   fnrun run -w .                                   # rebuild and restart on change
   fnrun run -r example.com/fn@v1.2.0
   fnrun run -u github.com/org/fn@main               # re-resolve the branch
   fnrun run 'git::https://host/repo.git//cmd/fn?ref=v1.2.0'
   fnrun run --timeout 1m --policy never ./cmd/job   # CI: exit code passes through`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			st := &reportState{}
			return env.finishReport(c, st, env.runAction(c, st))
		},
	}
}

func (env *appEnv) runAction(c *cli.Context, st *reportState) error {
	env.setupLogger(c)
	if err := checkReportPath(c); err != nil {
		return err
	}
	source, args, err := sourceAndArgs(c)
	if err != nil {
		return err
	}
	cfg, err := env.functionConfig(c)
	if err != nil {
		return err
	}
	src, err := parseSource(source)
	if err != nil {
		return err
	}
	st.source = src.Redacted()
	// Every flag is checked before any network or build work.
	if cfg.Watch, err = watchConfig(c); err != nil {
		return err
	}
	if cfg.Watch != nil {
		if src.Kind != fetch.KindLocal {
			return usageError("--watch needs a local directory, not %s", source)
		}
		for _, f := range []string{"smoke", "report", "ready-log", "ready-url", "ready-tcp", "expect-exit"} {
			if c.IsSet(f) {
				return usageError("--%s cannot be combined with --watch", f)
			}
		}
	}
	if cfg.Build, err = buildConfig(c); err != nil {
		return err
	}
	cfg.Source = &src
	cfg.Runner.Args = args
	cfg.Update = c.Bool("update")
	if cfg.CacheDir, err = cacheDir(c); err != nil {
		return err
	}
	// Said by the command, not again by its detached copy; a local source
	// is never a remembered resolution, and -u resolves again anyway.
	if env.detached == nil && !cfg.Update && src.Kind != fetch.KindLocal {
		env.noteReuse(src, cfg.CacheDir)
	}
	return env.runFunction(c, cfg, st)
}

// runFunction runs one function to its end and maps the result.
func (env *appEnv) runFunction(c *cli.Context, cfg fn.Config, st *reportState) error {
	def := cfg.Runner.Name
	switch {
	case def != "":
	case cfg.Source != nil:
		def = sourceName(*cfg.Source)
	default:
		def = filepath.Base(cfg.Program)
	}
	name, chosen, err := instanceName(c, def)
	if err != nil {
		return err
	}
	if err := env.checkDetach(c); err != nil {
		return err
	}
	// Checked before the socket exists: a bad flag leaves nothing behind.
	logsOn, err := env.logFilesFor(c, name, env.detached != nil)
	if err != nil {
		return err
	}
	replicas := c.Int("replicas")
	if replicas < 1 {
		return usageError("--replicas must be at least 1")
	}
	if replicas > 1 {
		for _, f := range []string{"smoke", "report", "watch"} {
			if hasFlag(c, f) && c.IsSet(f) {
				return usageError("--replicas cannot be combined with --%s", f)
			}
		}
	}
	if c.Bool("detach") && env.detached == nil {
		return env.detach(c, name)
	}
	hd, err := env.hold(c.StringSlice("listen"), c.StringSlice("proxy"), c.Int("backlog"))
	if err != nil {
		env.detached.fail(err)
		return err
	}
	defer hd.close()
	cfg.Runner.Listeners = hd.set.Listeners()
	if replicas > 1 {
		return env.runReplicas(c, cfg, def, name, chosen, replicas, hd.addrs())
	}
	h := &fnHandler{env: env, cmd: c.Command.Name, listen: hd.addrs()}
	var ctlReady func() // waits until the control socket is served
	if cfg.Source != nil && !chosen && logsOn == nil && env.detached == nil {
		// Nothing below needs the instance's final name, and serving
		// cannot fail (a name in use gets a suffix): the socket comes up
		// while the binary is looked up (0.3 ms of a warm start), and the
		// program starts after it (EventBuilt waits), so that whoever
		// sees the program can find the instance.
		served := make(chan struct{})
		var closeCtl func()
		go func() {
			var err error
			if _, closeCtl, err = env.serve(c, name, chosen, true, h); err != nil {
				env.log.Warn("no control socket: fnrun ps and friends will not see this instance", "err", err.Error())
			}
			close(served)
		}()
		ctlReady = func() { <-served }
		defer func() {
			<-served
			if closeCtl != nil {
				closeCtl()
			}
		}()
	} else {
		var closeCtl func()
		name, closeCtl, err = env.serve(c, name, chosen, true, h)
		if err != nil {
			env.detached.fail(err)
			return err
		}
		defer closeCtl()
	}
	logs, _ := env.logFilesFor(c, name, env.detached != nil)
	defer logs.close()
	fname := sanitizeInstance(def)
	if logs != nil {
		cfg.Runner.LogFile = logs.writer(fname)
		env.detached.named(name, logs.dir)
	}
	env.detached.discard(&cfg.Runner)
	onEvent := cfg.OnEvent
	cfg.OnEvent = func(e fn.Event) {
		if e.Kind == fn.EventBuilt && ctlReady != nil {
			ctlReady()
		}
		if logs != nil {
			ev := e
			ev.Name = fname
			logs.event(ev)
		}
		if onEvent != nil {
			onEvent(e)
		}
		if f := h.f.Load(); f != nil && env.detached != nil {
			env.detached.check([]fn.Status{f.Status()}, []string{fname})
		}
	}
	f, err := fn.New(cfg)
	if err != nil {
		env.detached.fail(err)
		return usageError("%v", err)
	}
	h.f.Store(f)
	env.sig.attach(f)
	res := f.Run(c.Context)
	st.res = &res
	err = env.resultError(c.Context, cfg, res)
	env.detached.fail(err)
	return err
}

// runReplicas runs cfg as replicas copies, as `up` runs an entry with
// replicas: NAME.1 ... NAME.N, one build, each supervised on its own.
func (env *appEnv) runReplicas(c *cli.Context, cfg fn.Config, def, name string, chosen bool, replicas int, listen []string) error {
	h := &sysHandler{env: env, listen: map[string][]string{sanitizeInstance(def): listen}}
	name, closeCtl, err := env.serve(c, name, chosen, true, h)
	if err != nil {
		env.detached.fail(err)
		return err
	}
	defer closeCtl()
	logs, _ := env.logFilesFor(c, name, env.detached != nil)
	defer logs.close()
	opts := system.Options{Logger: env.log, ReadyTimeout: c.Duration("ready-timeout")}
	if logs != nil {
		opts.LogFile = logs.writer
		env.detached.named(name, logs.dir)
	}
	env.detached.discard(&cfg.Runner)
	render := env.render(env.progress(c))
	cfg.OnEvent = nil // the system's observer takes over
	opts.OnEvent = func(e system.Event) {
		if e.System == 0 {
			logs.event(e.Event)
			render(e.Event)
		} else {
			env.log.Info(e.Msg)
		}
		env.detached.checkSystem(h.sys.Load())
	}
	sys, err := system.NewFunction(sanitizeInstance(def), cfg, replicas, opts)
	if err != nil {
		env.detached.fail(err)
		return usageError("%v", err)
	}
	h.sys.Store(sys)
	env.sig.attach(sys)
	res := sys.Run(c.Context)
	err = env.upResult(c, res)
	env.detached.fail(err)
	return err
}

// sourceAndArgs splits `SOURCE [-- ARGS...]`.
func sourceAndArgs(c *cli.Context) (string, []string, error) {
	args := c.Args().Slice()
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return "", nil, usageError("%s: no SOURCE given (usage: fnrun %s [flags] SOURCE)", c.Command.Name, c.Command.Name)
	}
	source, err := localSource(c, args[0])
	if err != nil {
		return "", nil, err
	}
	rest := args[1:]
	if len(rest) > 0 && rest[0] == "--" {
		return source, rest[1:], nil
	}
	if c.Command.Name == "run" {
		// fnrun's flags end at SOURCE: `fnrun run ./fn -r` hands -r to the
		// program. Say so when it looks like a mistake.
		for _, a := range rest {
			if name, ok := fnrunFlag(c, a); ok {
				fmt.Fprintf(c.App.ErrWriter, "fnrun: note: %s after SOURCE is passed to the program; put fnrun's flags before SOURCE (or write -- before the program's arguments to silence this)\n", name)
				break
			}
		}
		// `fnrun run ./a ./b` runs ./a with the argument ./b: say so when
		// ./b looks like a second function.
		for _, a := range rest {
			if isMainDir(a) {
				fmt.Fprintf(c.App.ErrWriter, "fnrun: note: %s is passed to the program as an argument; to run several functions use fnrun up (a fnrun.yaml)\n", a)
				break
			}
		}
	}
	return source, rest, nil
}

/*
localSource meets `go run` habits. fnrun builds packages, not files:
`fnrun run ./fn/main.go` runs the package in ./fn, with a note, when that
file is the package's only Go file in the build, so the program is the one
`go run ./fn/main.go` would build. When the package has other files, the
build would differ (go run compiles the named files only), so fnrun
refuses and says what to type, rather than guess. A local directory that
does not exist is a usage error naming it (exit 2, like --dir and -o),
before any fetch.
*/
func localSource(c *cli.Context, source string) (string, error) {
	if strings.HasSuffix(source, ".go") {
		if fi, err := os.Stat(source); err == nil && fi.Mode().IsRegular() {
			return goFileSource(c, source)
		}
	}
	src, err := fetch.Parse(source)
	if err != nil || src.Kind != fetch.KindLocal {
		return source, nil // parseSource reports it
	}
	if _, err := parseSource(source); err != nil {
		return "", err
	}
	fi, err := os.Stat(src.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", usageError("no such directory: %s", source)
	case err != nil:
		return source, nil // the fetch says why
	case !fi.IsDir():
		return "", usageError("not a directory: %s (SOURCE is a package directory, e.g. %s)", source, dirSource(filepath.Dir(source)))
	}
	return source, nil
}

// goFileSource turns SOURCE naming one .go file into its directory, or says
// why it cannot.
func goFileSource(c *cli.Context, file string) (string, error) {
	dir := dirSource(filepath.Dir(file))
	tags := ""
	if hasFlag(c, "tags") {
		tags = c.String("tags")
	}
	name, files, err := build.PackageFiles(filepath.Dir(file), os.Environ(), tags)
	if err != nil {
		return "", usageError("%s: fnrun builds packages, not files, and %s is no package it can build (%v)", file, dir, err)
	}
	base := filepath.Base(file)
	if name != "main" {
		return "", usageError("%s: package %s is not a main package (fnrun runs main packages)", file, name)
	}
	if !slices.Contains(files, base) {
		return "", usageError("%s: fnrun builds packages, not files, and this file is not part of the package in %s (a _test.go file, or left out by build constraints)", file, dir)
	}
	others := slices.DeleteFunc(files, func(f string) bool { return f == base })
	if len(others) > 0 {
		return "", usageError("%s: fnrun builds packages, not files, and the package in %s also has %s, which go run %s leaves out; to run the package, type: fnrun %s %s",
			file, dir, strings.Join(others, ", "), file, c.Command.Name, dir)
	}
	fmt.Fprintf(c.App.ErrWriter, "fnrun: note: running the package in %s (fnrun builds packages, not files)\n", dir)
	return dir, nil
}

// dirSource writes a relative directory the way SOURCE needs it: ./fn, not fn.
func dirSource(dir string) string {
	if filepath.IsAbs(dir) || dir == "." || dir == ".." || strings.HasPrefix(dir, "."+string(filepath.Separator)) || strings.HasPrefix(dir, ".."+string(filepath.Separator)) {
		return dir
	}
	return "." + string(filepath.Separator) + dir
}

// isMainDir reports whether arg names a directory holding a main package
// (a .go file other than a test whose package clause says main).
func isMainDir(arg string) bool {
	if strings.HasPrefix(arg, "-") {
		return false
	}
	if fi, err := os.Stat(arg); err != nil || !fi.IsDir() {
		return false
	}
	files, _ := filepath.Glob(filepath.Join(arg, "*.go"))
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		if f, err := parser.ParseFile(fset, file, nil, parser.PackageClauseOnly); err == nil {
			return f.Name.Name == "main"
		}
	}
	return false
}

// noteReuse says, once per remembered resolution of a moving reference
// (@latest, a branch, a getter URL without a fixed ref), which version a
// warm start runs and how old that resolution is: fetch reuses it without
// asking the network until -u. The first warm start after each resolution
// says it (fetch marks the record); later ones are silent.
func (env *appEnv) noteReuse(src fetch.Source, cacheDir string) {
	f, err := fetch.New(fetch.Options{CacheDir: cacheDir, Logger: env.log})
	if err != nil {
		return
	}
	r, ok := f.FirstReuse(src)
	if !ok {
		return
	}
	what, name := "the remembered copy", src.Redacted()
	if r.Version != "" {
		what = r.Version
	}
	if src.Kind == fetch.KindModule {
		name = src.Path
	}
	env.log.Info(fmt.Sprintf("note: using %s of %s, resolved %s (-u to update)", what, name, agoLong(time.Since(r.Resolved))))
}

// agoLong says how long ago something happened: "just now", "1 minute
// ago", "5 hours ago", "3 days ago".
func agoLong(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, one)
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	default:
		return unit(int64(d/(24*time.Hour)), "day")
	}
}

// fnrunFlag reports whether arg names one of the command's own flags.
func fnrunFlag(c *cli.Context, arg string) (string, bool) {
	if !strings.HasPrefix(arg, "-") || arg == "-" {
		return "", false
	}
	name := strings.TrimLeft(arg, "-")
	name, _, _ = strings.Cut(name, "=")
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			if n == name {
				return arg, true
			}
		}
	}
	return "", false
}

func buildCommand(env *appEnv) *cli.Command {
	flags := append(buildFlags(), sourceFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, EnvVars: envVar("OUTPUT"),
			Usage: "copy the binary to `FILE` (or into it, when it is a directory)"})
	flags = append(flags, commonFlags()...)
	return &cli.Command{
		Name:      "build",
		Usage:     "fetch and build SOURCE into the cache and print the binary's path",
		ArgsUsage: "SOURCE",
		Description: `Examples:
   fnrun build ./examples/greeter
   fnrun build -o ./greeter --ldflags '-s -w' ./examples/greeter
   fnrun build example.com/fn@v1.2.0`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			cfg, err := env.sourceConfig(c)
			if err != nil {
				return err
			}
			if cfg.Build, err = buildConfig(c); err != nil {
				return err
			}
			// -o FILE, or -o DIR (the binary's name is added once it is known).
			out := c.String("output")
			if fi, err := os.Stat(out); out != "" && (err != nil || !fi.IsDir()) {
				if fi, err := os.Stat(filepath.Dir(out)); err != nil || !fi.IsDir() {
					return usageError("-o %s: no such directory %s", out, filepath.Dir(out))
				}
			}
			res, co, err := fn.Build(c.Context, cfg)
			if err != nil {
				return errorOf(env.verbose, fn.Result{Err: err, Checkout: co})
			}
			if out == "" {
				fmt.Fprintln(env.stdout, res.Path)
				return nil
			}
			if fi, err := os.Stat(out); err == nil && fi.IsDir() {
				out = filepath.Join(out, filepath.Base(res.Path))
			}
			if err := copyExecutable(res.Path, out); err != nil {
				return withCode(ExitFnrun, err)
			}
			if !env.isStdout(out) { // -o /dev/stdout: the binary is the output
				fmt.Fprintln(env.stdout, out)
			}
			return nil
		},
	}
}

func fetchCommand(env *appEnv) *cli.Command {
	flags := append(sourceFlags(), commonFlags()...)
	return &cli.Command{
		Name:      "fetch",
		Usage:     "fetch SOURCE into the cache and print the package directory",
		ArgsUsage: "SOURCE",
		Description: `Examples:
   fnrun fetch example.com/fn@latest
   fnrun fetch -u 'git::https://host/repo.git//cmd/fn?ref=main'`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			cfg, err := env.sourceConfig(c)
			if err != nil {
				return err
			}
			co, err := fn.Fetch(c.Context, cfg)
			if err != nil {
				return errorOf(env.verbose, fn.Result{Err: err, Checkout: co})
			}
			fmt.Fprintln(env.stdout, co.PackageDir)
			return nil
		},
	}
}

// sourceConfig is the common part of `build` and `fetch`: exactly one
// SOURCE, parsed, and the cache to fetch it into.
func (env *appEnv) sourceConfig(c *cli.Context) (fn.Config, error) {
	env.setupLogger(c)
	var cfg fn.Config
	source, extra, err := sourceAndArgs(c)
	if err != nil {
		return cfg, err
	}
	if len(extra) > 0 {
		return cfg, usageError("%s: unexpected arguments after SOURCE: %s", c.Command.Name, strings.Join(extra, " "))
	}
	src, err := parseSource(source)
	if err != nil {
		return cfg, err
	}
	cfg.Source = &src
	cfg.Update = c.Bool("update")
	cfg.Logger = env.log
	cfg.OnEvent = env.onEvent(c)
	if cfg.CacheDir, err = cacheDir(c); err != nil {
		return cfg, err
	}
	return cfg, nil
}
