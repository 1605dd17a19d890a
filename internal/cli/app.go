package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// appEnv is what every command needs from Main: the streams, fnrun's event
// logger and the signal router.
type appEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	sig            *sigRouter
	stdoutTTY      bool
	stderrTTY      bool
}

// Main runs fnrun with args (args[0] is the program name) and returns the
// exit code. It installs fnrun's signal handlers for its whole run.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	env := &appEnv{stdin: stdin, stdoutTTY: isTerminal(stdout), stderrTTY: isTerminal(stderr)}
	// A closed stdout or stderr (fnrun ... | head) stops the program
	// gracefully and ends fnrun with 141, as SIGPIPE would, but without
	// leaving the program's process group behind.
	brokenPipe := func() { cancel(errBrokenPipe) }
	env.stdout = &pipeGuard{w: stdout, broken: brokenPipe}
	env.stderr = &pipeGuard{w: stderr, broken: brokenPipe}
	env.log = newLogger(env.stderr, "text", false, false)
	env.sig = newSigRouter(cancel)
	go env.sig.run(ctx)
	defer env.sig.stop()

	app := newApp(env)
	err := app.RunContext(ctx, args)
	if errors.Is(context.Cause(ctx), errBrokenPipe) {
		return ExitBrokenPipe
	}
	if err != nil {
		if code := ctxExitCode(ctx); code >= 0 && !isExit(err) {
			// Interrupted before the program ran (fetch or build).
			fmt.Fprintf(stderr, "fnrun: %s\n", context.Cause(ctx))
			return code
		}
	}
	return report(stderr, err)
}

func isExit(err error) bool {
	var c codeOnly
	return errors.As(err, &c)
}

func newApp(env *appEnv) *cli.App {
	// The version flag has no -v: commands use -v for --verbose.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	app := &cli.App{
		Name:      "fnrun",
		Usage:     "fetch, build and supervise a Go program in one command",
		UsageText: "fnrun run [flags] SOURCE [-- ARGS...]\nfnrun exec [flags] -- PROGRAM [ARGS...]",
		Description: `fnrun turns a source reference into a running, supervised program:

   fnrun run -r github.com/org/fn

SOURCE is a local directory (., ./fn, /abs/fn), a Go module or package path
(example.com/mod/cmd/fn@v1.2.3, @latest, @branch, @commit), or a go-getter URL
(git::https://host/repo.git//cmd/fn?ref=v1.2.0, https://host/fn.tar.gz//fn).
It is built once into a content-addressed cache; later starts cost a hash and an exec.`,
		Version:         Version,
		Reader:          env.stdin,
		Writer:          env.stdout,
		ErrWriter:       env.stderr,
		HideHelpCommand: true,
		// -e A=1,2 is one entry: values are never split on commas.
		DisableSliceFlagSeparator: true,
		EnableBashCompletion:      false,
		Suggest:                   true,
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError("%v", err)
		},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(env.stderr, "fnrun: unknown command %q (see fnrun --help)\n", name)
		},
		Commands: []*cli.Command{
			runCommand(env),
			execCommand(env),
			buildCommand(env),
			fetchCommand(env),
			cacheCommand(env),
			versionCommand(env),
		},
	}
	app.Before = func(c *cli.Context) error {
		if c.Args().Present() && c.Args().First() != "" && app.Command(c.Args().First()) == nil &&
			!strings.HasPrefix(c.Args().First(), "-") {
			return usageError("unknown command %q (see fnrun --help)", c.Args().First())
		}
		return nil
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = app.OnUsageError
	}
	return app
}

// setupLogger re-creates the event logger once a command's flags are known.
func (env *appEnv) setupLogger(c *cli.Context) {
	format := "text"
	if c.IsSet("log-format") || hasFlag(c, "log-format") {
		format = c.String("log-format")
	}
	env.log = newLogger(env.stderr, format, c.Bool("quiet"), c.Bool("verbose"))
}

func hasFlag(c *cli.Context, name string) bool {
	for _, n := range c.FlagNames() {
		if n == name {
			return true
		}
	}
	return false
}

func versionCommand(env *appEnv) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print fnrun's version",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(env.stdout, "fnrun %s\n", Version)
			return nil
		},
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isTerminalFile(f)
}
