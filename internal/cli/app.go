package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// appEnv is what every command needs from Main: the streams, fnrun's event
// logger and the signal router.
type appEnv struct {
	trimOnce       sync.Once // memtrim after the first start (render)
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	sig            *sigRouter
	jsonLog        bool // --log-format json: fnrun's own output is JSON too
	verbose        bool // -v: every event, no summaries
	stdoutTTY      bool
	stdoutFile     *os.File // fnrun's stdout, when it is a file
	stderrTTY      bool
	detached       *detachChild // set when this fnrun is the background copy of a -d
	args           []string     // fnrun's command line, to quote flags as they were typed
	usageFailed    bool         // urfave printed a usage problem but returned no error
}

// Main runs fnrun with args (args[0] is the program name) and returns the
// exit code. It installs fnrun's signal handlers for its whole run.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	env := &appEnv{args: args, stdin: stdin, stdoutTTY: isTerminal(stdout), stderrTTY: isTerminal(stderr), detached: takeDetach()}
	env.stdoutFile, _ = stdout.(*os.File)
	stop := func(c *stopCause) { cancel(c) }
	outG := &outGuard{w: stdout, name: "stdout", tty: env.stdoutTTY, stop: stop, other: stderr}
	errG := &outGuard{w: stderr, name: "stderr", tty: env.stderrTTY, stop: stop, other: stdout}
	env.stdout, env.stderr = outG, errG
	env.log = newLogger(env.stderr, "text", false, false, false)
	env.sig = newSigRouter(cancel, func() *slog.Logger { return env.log }, attachedTerminal(stdin, stdout, stderr))
	go env.sig.run(ctx)
	defer env.sig.stop()

	app := newApp(env)
	err := app.RunContext(ctx, args)
	if err == nil && env.usageFailed {
		err = codeOnly(ExitUsage)
	}
	if sc := causeOf(ctx); sc == errBrokenPipe || sc == errHangup {
		return sc.code // nowhere to say more
	}
	if err != nil {
		if code := ctxExitCode(ctx); code >= 0 && !isExit(err) {
			// Interrupted before the program ran (fetch or build).
			fmt.Fprintf(stderr, "fnrun: %s\n", context.Cause(ctx))
			return code
		}
	}
	if env.jsonLog {
		return reportTo(env.stderr, env.log, err)
	}
	return report(env.stderr, err)
}

// isExit reports whether err only carries an exit code (the program ran).
func isExit(err error) bool {
	var c codeOnly
	var sc *stopCause
	return errors.As(err, &c) || errors.As(err, &sc)
}

func newApp(env *appEnv) *cli.App {
	useFnrunHelp()
	app := &cli.App{
		Name:      "fnrun",
		Usage:     "fetch, build and supervise a Go program in one command",
		UsageText: "fnrun run [flags] SOURCE [-- ARGS...]\nfnrun exec [flags] -- PROGRAM [ARGS...]\nfnrun up [-f FILE] [NAME...]",
		Description: `fnrun turns a source reference into a running, supervised program:

   fnrun run -r github.com/org/fn

SOURCE is a local directory (., ./fn, /abs/fn), a Go module or package path
(example.com/mod/cmd/fn@v1.2.3, @latest, @branch, @commit), or a go-getter URL
(git::https://host/repo.git//cmd/fn?ref=v1.2.0, https://host/fn.tar.gz//fn).
It is built once into a content-addressed cache; later starts cost a hash and an exec.`,
		Version: Version,
		// urfave adds -h only when it adds its own help command; fnrun has its own.
		Flags:           []cli.Flag{cli.HelpFlag},
		Reader:          env.stdin,
		Writer:          env.stdout,
		ErrWriter:       env.stderr,
		HideHelpCommand: false,
		// -e A=1,2 is one entry: values are never split on commas.
		DisableSliceFlagSeparator: true,
		EnableBashCompletion:      false,
		Suggest:                   true,
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError:              env.onUsageError,
		CommandNotFound: func(c *cli.Context, name string) {
			// urfave's own help subcommands (fnrun cache help nope) end here.
			fmt.Fprintf(env.stderr, "fnrun: %v\n", unknownCommand(c, name))
			env.usageFailed = true
		},
		Commands: []*cli.Command{
			runCommand(env),
			execCommand(env),
			upCommand(env),
			imageCommand(env),
			exportCommand(env),
			waitCommand(env),
			buildCommand(env),
			fetchCommand(env),
			psCommand(env),
			logsCommand(env),
			restartCommand(env),
			stopCommand(env),
			startCommand(env),
			downCommand(env),
			cacheCommand(env),
			completionCommand(env),
			versionCommand(env),
			helpCommand(),
		},
	}
	app.Action = func(c *cli.Context) error {
		if c.Args().Present() {
			return unknownCommand(c, c.Args().First())
		}
		cli.ShowAppHelp(c)
		return codeOnly(ExitUsage) // no command: a usage error, after the help
	}
	app.Before = func(c *cli.Context) error {
		if c.Args().Present() && c.Args().First() != "" && app.Command(c.Args().First()) == nil &&
			!strings.HasPrefix(c.Args().First(), "-") {
			return unknownCommand(c, c.Args().First())
		}
		return nil
	}
	var setUsage func([]*cli.Command)
	setUsage = func(cmds []*cli.Command) {
		for _, cmd := range cmds {
			cmd.OnUsageError = env.onUsageError
			setUsage(cmd.Subcommands)
		}
	}
	setUsage(app.Commands)
	trimFlags(app, env.args)
	fixNames(app.Commands)
	return app
}

// trimFlags drops the flags of every command but the one args run: urfave
// sets every command's flags up before it runs one (per flag a dynamic
// interface check and a map entry, on memory touched for the first time:
// 0.3 ms of each start for fnrun's 250 flags). help and completion list
// the flags of every command; a word that is no command keeps them all too.
func trimFlags(app *cli.App, args []string) {
	if len(args) < 2 {
		return
	}
	run := app.Command(args[1])
	if run == nil || run.Name == "help" || run.Name == "completion" {
		return
	}
	for _, c := range app.Commands {
		if c != run {
			c.Flags = nil
		}
	}
}

// setupLogger re-creates the event logger once a command's flags are known.
func (env *appEnv) setupLogger(c *cli.Context) {
	format := logFormat(c, env.stderrTTY)
	env.jsonLog = format == "json"
	env.verbose = hasFlag(c, "verbose") && c.Bool("verbose")
	env.log = newLogger(env.stderr, format, c.Bool("quiet"), c.Bool("verbose"), hasFlag(c, "timestamps") && c.Bool("timestamps"))
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
		Name:   "version",
		Usage:  "print fnrun's version",
		Before: noArgs,
		Action: func(c *cli.Context) error {
			fmt.Fprintf(env.stdout, "fnrun %s\n", Version)
			return nil
		},
	}
}

// isStdout reports whether path names the file fnrun's stdout writes to.
func (env *appEnv) isStdout(path string) bool {
	if env.stdoutFile == nil {
		return false
	}
	a, err1 := os.Stat(path)
	b, err2 := env.stdoutFile.Stat()
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// attachedTerminal returns the first of fnrun's standard streams that is a
// terminal, or nil when fnrun is not attached to one.
func attachedTerminal(streams ...any) *terminal {
	for _, s := range streams {
		if f, ok := s.(*os.File); ok && isTerminalFile(f) {
			return &terminal{f: f}
		}
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isTerminalFile(f)
}

var (
	invalidValue = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^invalid value "(.*)" for flag -([\w-]+): `) })
	invalidEnv   = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^could not parse "(.*)" as \w+ value from environment variable "(\w+)" for flag ([\w-]+)`)
	})
)

// unknownCommand is the usage error for `fnrun NAME` when no command is
// called NAME: a SOURCE typed without `run` gets the command to type, a
// typo the nearest command.
func unknownCommand(c *cli.Context, name string) error {
	cmds, path := c.App.Commands, "fnrun"
	if c.Command != nil && c.Command.Name != "" {
		cmds, path = c.Command.Subcommands, c.Command.HelpName
	}
	if path == "fnrun" && looksLikeSource(name) {
		line := []string{"fnrun", "run"}
		for _, a := range c.Args().Slice() {
			line = append(line, shellQuote(a))
		}
		return usageError("unknown command %q: to run it, type: %s", name, strings.Join(line, " "))
	}
	hint := ""
	if s := closestCommand(cmds, name); s != "" {
		hint = "did you mean " + path + " " + s + "? "
	}
	return usageError("unknown command %q (%ssee %s --help)", name, hint, path)
}

// looksLikeSource reports whether arg reads as a SOURCE rather than a
// command name: a path, a module path, a URL, a .go file.
func looksLikeSource(arg string) bool {
	if strings.ContainsAny(arg, "./@:~") {
		return true
	}
	_, err := os.Stat(arg)
	return err == nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// typedFlag is the flag name as it was typed on the command line (-r,
// --restart, -restart), or --name when it cannot be found.
func (env *appEnv) typedFlag(name string) string {
	for _, a := range env.args[min(1, len(env.args)):] {
		if a == "--" {
			break
		}
		n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if n == name && strings.HasPrefix(a, "-") {
			return a[:len(a)-len(strings.TrimLeft(a, "-"))] + name
		}
	}
	return "--" + name
}

// onUsageError turns the flag parser's errors (Go's flag package wording:
// "flag provided but not defined: -restrat") into fnrun's: one line naming
// the command, the flag as typed, and what to do.
func (env *appEnv) onUsageError(c *cli.Context, err error, _ bool) error {
	cmd := "fnrun"
	if c.Command != nil && c.Command.HelpName != "" {
		cmd = c.Command.HelpName // "fnrun cache prune"
	}
	what := strings.TrimPrefix(strings.TrimPrefix(cmd, "fnrun"), " ")
	if what != "" {
		what += ": "
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		typed := env.typedFlag(name)
		if what == "" {
			// fnrun -r x: the flag belongs after a command.
			if sub := commandWithFlag(c.App.Commands, name); sub != "" {
				line := append([]string{"fnrun", sub}, quoteAll(env.args[min(1, len(env.args)):])...)
				return usageError("unknown flag %s: flags go after the command, e.g. %s", typed, strings.Join(line, " "))
			}
		}
		hint := ""
		if s := closestFlag(flagsOf(c), name); s != "" {
			hint = "did you mean --" + s + "? "
		}
		return usageError("%sunknown flag %s (%ssee %s --help)", what, typed, hint, cmd)
	}
	if m := invalidValue().FindStringSubmatch(msg); m != nil {
		return usageError("%s--%s %q: %s", what, m[2], m[1], wantFor(flagsOf(c), m[2]))
	}
	if m := invalidEnv().FindStringSubmatch(msg); m != nil {
		return usageError("%s%s=%q: %s (flag --%s)", what, m[2], m[1], wantFor(flagsOf(c), m[3]), m[3])
	}
	return usageError("%s%v", what, err)
}

// onUsageError is appEnv.onUsageError without the command line: flags are
// quoted with two dashes.
func onUsageError(c *cli.Context, err error, sub bool) error {
	return (&appEnv{}).onUsageError(c, err, sub)
}

// commandWithFlag is the first command that has a flag called name.
func commandWithFlag(cmds []*cli.Command, name string) string {
	for _, cmd := range cmds {
		for _, f := range cmd.Flags {
			if slices.Contains(f.Names(), name) {
				return cmd.Name
			}
		}
	}
	return ""
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return out
}

func flagsOf(c *cli.Context) []cli.Flag {
	if c.Command != nil && c.Command.Name != "" {
		return c.Command.Flags
	}
	return c.App.Flags
}

// wantFor says what kind of value the flag takes.
func wantFor(flags []cli.Flag, name string) string {
	for _, f := range flags {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		switch base(f).(type) {
		case *cli.DurationFlag:
			return "not a duration (e.g. 500ms, 10s, 2m)"
		case *cli.IntFlag, *cli.IntSliceFlag:
			return "not a whole number"
		case *cli.BoolFlag:
			return "want true or false"
		}
	}
	return "invalid value"
}

// closestFlag returns the flag name nearest to name (edit distance ≤ 2), or "".
func closestFlag(flags []cli.Flag, name string) string {
	best, bestD := "", 3
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) < 2 || n == "help" {
				continue
			}
			if d := editDistance(n, name); d < bestD {
				best, bestD = n, d
			}
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
