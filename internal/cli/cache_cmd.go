package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/internal/cache"
)

func cacheCommand(env *appEnv) *cli.Command {
	dirFlag := &cli.StringFlag{Name: "cache-dir", EnvVars: envVar("CACHE_DIR"), Usage: "cache `DIR`"}
	return &cli.Command{
		Name:  "cache",
		Usage: "inspect and trim the build cache",
		Description: `Examples:
   fnrun cache dir
   fnrun cache ls
   fnrun cache prune --older-than 720h --keep 10
   fnrun cache clean`,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageError("cache: unknown command %q (want dir, ls, prune or clean)", c.Args().First())
			}
			cli.ShowSubcommandHelp(c)
			return codeOnly(ExitUsage) // no subcommand: a usage error, after the help
		},
		Subcommands: []*cli.Command{
			{
				Name: "dir", Usage: "print the cache directory", Flags: []cli.Flag{dirFlag},
				Before: noArgs,
				Action: func(c *cli.Context) error {
					root, err := cacheDir(c)
					if err != nil {
						return err
					}
					fmt.Fprintln(env.stdout, root)
					return nil
				},
			},
			{
				Name: "ls", Usage: "list cached binaries: source, size, last used", Flags: []cli.Flag{dirFlag},
				Before: noArgs,
				Action: func(c *cli.Context) error {
					root, err := cacheDir(c)
					if err != nil {
						return err
					}
					entries, err := build.List(root)
					if err != nil {
						return withCode(ExitFnrun, err)
					}
					if len(entries) == 0 {
						fmt.Fprintf(env.stdout, "no binaries in %s\n", root)
						return nil
					}
					printEntries(env.stdout, entries)
					return nil
				},
			},
			{
				Name: "prune", Usage: "remove binaries not used recently", Before: noArgs,
				Flags: []cli.Flag{dirFlag,
					&cli.DurationFlag{Name: "older-than", Value: 30 * 24 * time.Hour, EnvVars: envVar("PRUNE_OLDER_THAN"),
						Usage: "remove entries last used longer ago than this (0 = any age)"},
					&cli.IntFlag{Name: "keep", EnvVars: envVar("PRUNE_KEEP"), Usage: "always keep the `N` most recently used entries"},
				},
				Action: func(c *cli.Context) error {
					if c.Duration("older-than") < 0 || c.Int("keep") < 0 {
						return usageError("prune: --older-than and --keep must not be negative")
					}
					root, err := cacheDir(c)
					if err != nil {
						return err
					}
					removed, err := build.Prune(root, c.Duration("older-than"), c.Int("keep"))
					if err != nil {
						return withCode(ExitFnrun, err)
					}
					var size int64
					for _, e := range removed {
						size += e.Size
					}
					fmt.Fprintf(env.stdout, "removed %s (%s)\n", plural(len(removed), "binary", "binaries"), humanSize(size))
					return nil
				},
			},
			{
				Name: "clean", Usage: "remove every cached binary", Flags: []cli.Flag{dirFlag}, Before: noArgs,
				Action: func(c *cli.Context) error {
					root, err := cacheDir(c)
					if err != nil {
						return err
					}
					removed, skipped, err := build.CleanEntries(root)
					if err != nil {
						return withCode(ExitFnrun, err)
					}
					fmt.Fprintf(env.stdout, "removed %s", plural(removed, "binary", "binaries"))
					if skipped > 0 {
						fmt.Fprintf(env.stdout, "; kept %d in use by a running fnrun", skipped)
					}
					fmt.Fprintln(env.stdout)
					return nil
				},
			},
		},
	}
}

func printEntries(w io.Writer, entries []build.Entry) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tPACKAGE\tSIZE\tLAST USED\tKEY\tIN USE")
	for _, e := range entries {
		inUse := ""
		if e.InUse {
			inUse = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.12s\t%s\n", e.Source, e.Package, humanSize(e.Size),
			e.LastUsed.Local().Format("2006-01-02 15:04"), e.Key, inUse)
	}
	tw.Flush()
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// copyExecutable copies the cached binary to dst (see cache.WriteOutput): a
// regular file or a new path is replaced atomically by an executable (0755);
// a symlink is followed; a device, FIFO or /dev/stdout is written in place
// and keeps its type and mode (`build -o /dev/null` only builds).
func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy binary: %w", err)
	}
	defer in.Close()
	if err := cache.WriteOutput(dst, in, 0o755); err != nil {
		return fmt.Errorf("copy binary: %w", err)
	}
	return nil
}

// isCI reports whether fnrun runs on a CI runner (CI set, and not "false" or "0").
func isCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// colorOK reports whether output to a stream may be coloured: the stream is
// a terminal, NO_COLOR is unset and this is not a CI runner.
func colorOK(tty bool) bool {
	return tty && os.Getenv("NO_COLOR") == "" && !isCI()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// noArgs refuses positional arguments for commands that take none.
func noArgs(c *cli.Context) error {
	if c.Args().Present() {
		return usageError("%s: unexpected argument %q", strings.TrimPrefix(c.Command.HelpName, "fnrun "), c.Args().First())
	}
	return nil
}
