package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/internal/cache"
)

// DefaultPruneAge is how long ago `cache prune` wants an entry last used
// before it removes it.
const DefaultPruneAge = "30d"

// CacheListVersion is the version of `cache ls --json`'s document. Fields
// are only ever added; bump it on any other change.
const CacheListVersion = 1

// cacheList is the document `cache ls --json` prints:
//
//	{"version": 1, "dir": DIR, "entries": [ENTRY...], "total_size": BYTES}
//
// entries are most recently used first; see cacheEntry for each.
type cacheList struct {
	Version   int          `json:"version"`
	Dir       string       `json:"dir"`
	Entries   []cacheEntry `json:"entries"`
	TotalSize int64        `json:"total_size"`
}

// cacheEntry is one binary in `cache ls --json`: its cache key, the SOURCE
// it was built from (the absolute directory of a local source), the package
// built, the binary's path and size in bytes, when it was built and last
// used (RFC 3339), whether a running fnrun uses it (prune and clean leave
// it), and whether a `run --watch` built it (one state of an edited tree).
type cacheEntry struct {
	Key      string    `json:"key"`
	Source   string    `json:"source"`
	Package  string    `json:"package"`
	Binary   string    `json:"binary"`
	Size     int64     `json:"size"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used"`
	InUse    bool      `json:"in_use"`
	Watch    bool      `json:"watch"`
}

func cacheCommand(env *appEnv) *cli.Command {
	dirFlag := &cli.StringFlag{Name: "cache-dir", EnvVars: envVar("CACHE_DIR"), Usage: "cache `DIR`"}
	dryRun := &cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, DisableDefaultText: true,
		Usage: "print what would be removed; remove nothing"}
	return &cli.Command{
		Name:  "cache",
		Usage: "inspect and trim the build cache",
		Description: `Examples:
   fnrun cache dir
   fnrun cache ls
   fnrun cache ls --json
   fnrun cache prune --older-than 30d --keep 10
   fnrun cache prune --older-than 2d12h --dry-run
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
				Name: "ls", Usage: "list cached binaries: source, size, last used",
				Description: `--json prints {"version":1,"dir":DIR,"entries":[...],"total_size":BYTES}, each entry
{"key","source","package","binary","size","created","last_used","in_use","watch"}:
sizes in bytes, times in RFC 3339, most recently used first. Fields are only ever added.`,
				Flags: []cli.Flag{dirFlag,
					&cli.BoolFlag{Name: "json", DisableDefaultText: true, Usage: "print JSON (see the description)"}},
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
					if c.Bool("json") {
						return printEntriesJSON(env.stdout, root, entries)
					}
					if len(entries) == 0 {
						fmt.Fprintf(env.stdout, "no binaries in %s\n", root)
						return nil
					}
					printEntries(env.stdout, entries, time.Now())
					return nil
				},
			},
			{
				Name: "prune", Usage: "remove binaries not used recently", Before: noArgs,
				Flags: []cli.Flag{dirFlag,
					&cli.StringFlag{Name: "older-than", Value: DefaultPruneAge, EnvVars: envVar("PRUNE_OLDER_THAN"),
						Usage: "remove entries last used longer ago than this: `AGE` in days and/or a Go duration (30d, 2d12h, 36h; 0 = any age)"},
					&cli.IntFlag{Name: "keep", EnvVars: envVar("PRUNE_KEEP"), Usage: "always keep the `N` most recently used entries"},
					dryRun,
				},
				Action: func(c *cli.Context) error {
					age, err := parseAge(c.String("older-than"))
					if err != nil {
						return usageError("prune: --older-than %s: %v", c.String("older-than"), err)
					}
					if c.Int("keep") < 0 {
						return usageError("prune: --keep must not be negative")
					}
					root, err := cacheDir(c)
					if err != nil {
						return err
					}
					if c.Bool("dry-run") {
						entries, err := build.List(root)
						if err != nil {
							return withCode(ExitFnrun, err)
						}
						printWouldRemove(env.stdout, pruneCandidates(entries, age, c.Int("keep"), time.Now()), time.Now())
						return nil
					}
					removed, err := build.Prune(root, age, c.Int("keep"))
					if err != nil {
						return withCode(ExitFnrun, err)
					}
					fmt.Fprintf(env.stdout, "removed %s (%s)\n", plural(len(removed), "binary", "binaries"), humanSize(totalSize(removed)))
					return nil
				},
			},
			{
				Name: "clean", Usage: "remove every cached binary", Flags: []cli.Flag{dirFlag, dryRun}, Before: noArgs,
				Action: func(c *cli.Context) error {
					root, err := cacheDir(c)
					if err != nil {
						return err
					}
					before, err := build.List(root)
					if err != nil {
						return withCode(ExitFnrun, err)
					}
					if c.Bool("dry-run") {
						printWouldRemove(env.stdout, before, time.Now())
						return nil
					}
					removed, skipped, err := build.CleanEntries(root)
					if err != nil {
						return withCode(ExitFnrun, err)
					}
					// The space freed: the entries listed before that are gone.
					after, _ := build.List(root)
					left := make(map[string]bool, len(after))
					for _, e := range after {
						left[e.Key] = true
					}
					var freed int64
					for _, e := range before {
						if !left[e.Key] {
							freed += e.Size
						}
					}
					fmt.Fprintf(env.stdout, "removed %s (%s)", plural(removed, "binary", "binaries"), humanSize(freed))
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

// parseAge parses --older-than: a number of days ("30d", "1.5d"), a Go
// duration ("36h", "90m"), or both ("2d12h"); "0" means any age.
func parseAge(s string) (time.Duration, error) {
	var d time.Duration
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, errors.New("want days and/or a duration, as in 30d, 2d12h or 36h")
	}
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		days, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || days < 0 || strings.ContainsAny(rest[:i], "+-eEinfINFxX_") {
			return 0, errors.New("want days and/or a duration, as in 30d, 2d12h or 36h")
		}
		d = time.Duration(days * 24 * float64(time.Hour))
		rest = rest[i+1:]
	}
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil || (d > 0 && strings.HasPrefix(rest, "-")) {
			return 0, errors.New("want days and/or a duration, as in 30d, 2d12h or 36h")
		}
		d += more
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}

// pruneCandidates is what build.Prune(root, olderThan, keep) would remove
// from entries (as build.List orders them): all but the keep most recently
// used, of those the ones last used before now-olderThan (olderThan 0: any
// age), never one in use.
func pruneCandidates(entries []build.Entry, olderThan time.Duration, keep int, now time.Time) []build.Entry {
	cutoff := now.Add(-olderThan)
	var out []build.Entry
	for i, e := range entries {
		if i < keep || (olderThan > 0 && !e.LastUsed.Before(cutoff)) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// printWouldRemove prints, for --dry-run, each entry not in use that would
// be removed and the total, and how many are kept because they are in use.
func printWouldRemove(w io.Writer, entries []build.Entry, now time.Time) {
	var gone []build.Entry
	inUse := 0
	for _, e := range entries {
		if e.InUse {
			inUse++
			continue
		}
		gone = append(gone, e)
	}
	for _, e := range gone {
		what := humanSize(e.Size) + ", last used " + agoShort(now.Sub(e.LastUsed))
		if e.Package != "" && e.Package != e.Source && !strings.HasSuffix(e.Source, "/"+e.Package) {
			what = e.Package + ", " + what
		}
		fmt.Fprintf(w, "would remove %s %s (%s)\n", shortKey(e.Key), e.Source, what)
	}
	fmt.Fprintf(w, "would remove %s (%s)", plural(len(gone), "binary", "binaries"), humanSize(totalSize(gone)))
	if inUse > 0 {
		fmt.Fprintf(w, "; would keep %d in use by a running fnrun", inUse)
	}
	fmt.Fprintln(w, "; nothing removed (--dry-run)")
}

func shortKey(k string) string { return k[:min(len(k), 12)] }

func totalSize(entries []build.Entry) int64 {
	var n int64
	for _, e := range entries {
		n += e.Size
	}
	return n
}

func printEntries(w io.Writer, entries []build.Entry, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tPACKAGE\tSIZE\tLAST USED\tKEY\tIN USE")
	inUse := 0
	for _, e := range entries {
		use := ""
		if e.InUse {
			use = "yes"
			inUse++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Source, e.Package, humanSize(e.Size),
			agoShort(now.Sub(e.LastUsed)), shortKey(e.Key), use)
	}
	tw.Flush()
	fmt.Fprintf(w, "%s, %s", plural(len(entries), "binary", "binaries"), humanSize(totalSize(entries)))
	if inUse > 0 {
		fmt.Fprintf(w, ", %d in use", inUse)
	}
	fmt.Fprintln(w)
}

func printEntriesJSON(w io.Writer, root string, entries []build.Entry) error {
	doc := cacheList{Version: CacheListVersion, Dir: root, Entries: make([]cacheEntry, 0, len(entries)), TotalSize: totalSize(entries)}
	for _, e := range entries {
		doc.Entries = append(doc.Entries, cacheEntry{Key: e.Key, Source: e.Source, Package: e.Package, Binary: e.Path,
			Size: e.Size, Created: e.Created.UTC(), LastUsed: e.LastUsed.UTC(), InUse: e.InUse, Watch: e.Watch})
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return withCode(ExitFnrun, err)
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// agoShort is a compact age for a table column: "just now", "42s ago",
// "3m ago", "5h ago", "12d ago".
func agoShort(d time.Duration) string {
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
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
