package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/fetch"
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
	opts, err := superviseOptions(c)
	if err != nil {
		return err
	}
	src, err := parseSource(source)
	if err != nil {
		return err
	}
	st.meta.Source = src.Redacted()
	// Every flag is checked before any network or build work.
	rd, err := newReadiness(c)
	if err != nil {
		return err
	}
	if err := checkWatchFlags(c); err != nil {
		return err
	}
	if c.Bool("watch") {
		if src.Kind != fetch.KindLocal {
			return usageError("--watch needs a local directory, not %s", source)
		}
		for _, f := range []string{"smoke", "report", "ready-log", "ready-url", "ready-tcp", "expect-exit"} {
			if c.IsSet(f) {
				return usageError("--%s cannot be combined with --watch", f)
			}
		}
	}
	root, err := cacheDir(c)
	if err != nil {
		return err
	}
	co, err := env.fetchSource(c, root, src)
	if err != nil {
		return err
	}
	st.meta.Identity = co.Identity
	res, release, err := env.pinBuild(c, root, co)
	if err != nil {
		return err
	}
	st.meta.Binary, st.meta.Key = res.Path, res.Key
	st.meta.Build = &BuildReport{CacheHit: res.CacheHit, DurationMS: ms(res.Duration)}
	opts.Path = res.Path
	opts.Args = args
	if opts.Name == "" {
		opts.Name = filepath.Base(res.Path)
	}
	env.outputOptions(&opts)
	if c.Bool("watch") {
		return env.watchLoop(c, root, co, res, release, opts) // it owns the pins of its builds
	}
	pin := &pinned{release: release}
	defer pin.swap(nil)
	opts.BeforeStart = env.checkBinary(c, root, src, co, pin)
	return env.supervise(c, rd, opts, st)
}

// pinned holds the release of the supervised binary's pin.
type pinned struct {
	mu      sync.Mutex
	release func()
}

// swap releases the current pin and keeps r instead.
func (p *pinned) swap(r func()) {
	p.mu.Lock()
	old := p.release
	p.release = r
	p.mu.Unlock()
	if old != nil {
		old()
	}
}

// checkBinary returns the supervisor's BeforeStart hook: before every
// restart the cached binary is checked against its entry (build.Verify: a
// stat and the entry's metadata; the content is hashed only when they
// differ). A binary that is gone (a tmp cleaner removed the cache) or
// changed (overwritten, truncated) is rebuilt once, re-fetching a remote
// source whose checkout went too, with a warning; if that fails the run
// cannot start (exit 126).
func (env *appEnv) checkBinary(c *cli.Context, root string, src fetch.Source, co fetch.Checkout, pin *pinned) func(context.Context, int, string) (string, error) {
	return func(ctx context.Context, run int, path string) (string, error) {
		if run == 1 {
			return path, nil // just built (or verified by the cache hit)
		}
		err := build.Verify(path)
		if err == nil {
			return path, nil
		}
		if !errors.Is(err, build.ErrEntryDamaged) && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		env.log.Warn(fmt.Sprintf("cached binary unusable (%v); rebuilding", err))
		if _, statErr := os.Stat(co.ModuleDir); statErr != nil {
			if co, err = env.fetchSource(c, root, src); err != nil {
				return "", err
			}
		}
		res, release, err := env.pinBuild(c, root, co)
		if err != nil {
			return "", err
		}
		pin.swap(release)
		return res.Path, nil
	}
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
	rest := args[1:]
	if len(rest) > 0 && rest[0] == "--" {
		return args[0], rest[1:], nil
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
	}
	return args[0], rest, nil
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
			root, co, err := env.fetchOnly(c)
			if err != nil {
				return err
			}
			res, err := env.buildCheckout(c, root, co)
			if err != nil {
				return err
			}
			if out := c.String("output"); out != "" {
				if fi, err := os.Stat(out); err == nil && fi.IsDir() {
					out = filepath.Join(out, filepath.Base(res.Path))
				} else if fi, err := os.Stat(filepath.Dir(out)); err != nil || !fi.IsDir() {
					return usageError("-o %s: no such directory %s", out, filepath.Dir(out))
				}
				if err := copyExecutable(res.Path, out); err != nil {
					return withCode(ExitFnrun, err)
				}
				fmt.Fprintln(env.stdout, out)
				return nil
			}
			fmt.Fprintln(env.stdout, res.Path)
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
			_, co, err := env.fetchOnly(c)
			if err != nil {
				return err
			}
			fmt.Fprintln(env.stdout, co.PackageDir)
			return nil
		},
	}
}

// fetchOnly is the common part of `build` and `fetch`: exactly one SOURCE,
// parsed and fetched into the cache.
func (env *appEnv) fetchOnly(c *cli.Context) (root string, co fetch.Checkout, err error) {
	env.setupLogger(c)
	source, extra, err := sourceAndArgs(c)
	if err != nil {
		return "", co, err
	}
	if len(extra) > 0 {
		return "", co, usageError("%s: unexpected arguments after SOURCE: %s", c.Command.Name, strings.Join(extra, " "))
	}
	src, err := parseSource(source)
	if err != nil {
		return "", co, err
	}
	if root, err = cacheDir(c); err != nil {
		return "", co, err
	}
	co, err = env.fetchSource(c, root, src)
	return root, co, err
}
