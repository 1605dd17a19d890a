package cli

/*
fnrun logs reads the log files that run and up write (internal/logfile records), after the
fact or while they grow. It needs no running instance: the files outlive it.

A function's log is <root>/<instance>/<name>.log. A bare NAME is looked up in every
instance directory; it must be unique, or unique among the running instances (asked
through the control sockets, which cost a connect each, so only when a name is ambiguous).

The tail is computed per log in one pass that keeps at most the last -n records (of the last
run, or of the run before it with --previous), then the logs are merged by time, keeping each
log's own order, and cut to -n again. With -f every log is then followed in its own
goroutine; records are printed as they arrive, one printer serialising them.
*/

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/cache"
	"github.com/fnrun/fnrun/internal/control"
	"github.com/fnrun/fnrun/internal/logfile"
)

// DefaultLogLines is how many lines `fnrun logs` prints without -n (and without --since,
// which shows every line in its window).
const DefaultLogLines = 100

// exitNoLog ends `fnrun logs` when there is nothing to show: no log by that name, or no
// run before the last one for --previous.
const exitNoLog = 1

// maxKnown bounds the names listed when a name has no log.
const maxKnown = 20

// logDirFlag is --log-dir, the root of the function log files (see logRoot).
func logDirFlag() cli.Flag {
	return &cli.StringFlag{Name: "log-dir", EnvVars: envVar("LOG_DIR"),
		DefaultText: "$XDG_STATE_HOME/fnrun/logs, else ~/.local/state/fnrun/logs",
		Usage:       "function log files are under `DIR`, one directory per instance"}
}

// logRoot returns the absolute root of the function log files: --log-dir (FNRUN_LOG_DIR),
// else $XDG_STATE_HOME/fnrun/logs (when it is absolute), else ~/.local/state/fnrun/logs.
// It reads no flag but log-dir; without that flag on the command it returns the default.
func logRoot(c *cli.Context) (string, error) {
	dir := c.String("log-dir")
	if dir == "" {
		if s := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(s) {
			dir = filepath.Join(s, "fnrun", "logs")
		} else {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", withCode(ExitFnrun, fmt.Errorf("log directory: %w (set --log-dir or FNRUN_LOG_DIR)", err))
			}
			dir = filepath.Join(home, ".local", "state", "fnrun", "logs")
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", withCode(ExitFnrun, fmt.Errorf("log directory %s: %w", dir, err))
	}
	return abs, nil
}

// logsCommand is `fnrun logs`.
func logsCommand(env *appEnv) *cli.Command {
	flags := []cli.Flag{
		&cli.BoolFlag{DisableDefaultText: true, Name: "follow", Aliases: []string{"f"}, EnvVars: envVar("FOLLOW"),
			Usage: "after the last lines, print new ones as they are written, until Ctrl-C"},
		&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: DefaultLogLines, EnvVars: envVar("LINES"),
			DefaultText: "100; all with --since",
			Usage:       "print the last `N` lines (-1: all; 0: none, so -f prints only new ones)"},
		&cli.StringFlag{Name: "since", EnvVars: envVar("SINCE"),
			Usage: "only lines written in the last `D` (a Go duration such as 90s, 15m, 2h, or days: 2d, 1d12h)"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "previous", Aliases: []string{"p"}, EnvVars: envVar("PREVIOUS"),
			Usage: "only the run before the last one (the one that crashed, before a restart)"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "json", EnvVars: envVar("JSON"),
			Usage: "one JSON object per line: time, instance, name, run, stream (stdout, stderr, fnrun), line"},
		logDirFlag(),
		&cli.StringFlag{Name: "cache-dir", EnvVars: envVar("CACHE_DIR"), Hidden: true,
			Usage: "cache `DIR`, where running instances are found when XDG_RUNTIME_DIR is not set"},
	}
	flags = append(flags, commonFlags()...)
	return &cli.Command{
		Name:      "logs",
		Usage:     "print a function's output from its log files",
		ArgsUsage: "[INSTANCE/]NAME...",
		Description: `Prints the last lines a function wrote, from the log files that fnrun run and
fnrun up keep (rotated, older ones compressed; they outlive the instance).
stdout and stderr lines both go to stdout; fnrun's own events about the function
show as "fnrun: ...". With several NAMEs the lines are merged in time order and
prefixed "NAME | ".

NAME is looked up in every instance (an instance is named after its fnrun.yaml's
directory, or --instance); INSTANCE/NAME names one. A replica is NAME.2 etc.

Exit codes: 0 done (also after Ctrl-C with -f); 1 no log by that name, or no
previous run for --previous; 2 usage; 125 the log files could not be read.

Examples:
   fnrun logs api
   fnrun logs -f shop/api shop/web
   fnrun logs -n -1 --since 2h api     # everything from the last two hours
   fnrun logs --previous api           # why did it restart?
   fnrun logs --json api | jq -r .line`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			env.setupLogger(c)
			cfg, err := logsConfigOf(c, time.Now())
			if err != nil {
				return err
			}
			return env.logs(c.Context, cfg)
		},
	}
}

// logsConfig is `fnrun logs`' command line, parsed and validated.
type logsConfig struct {
	root     string
	names    []string  // as given: NAME or INSTANCE/NAME
	lines    int       // -1: all
	since    time.Time // zero: no limit
	previous bool
	json     bool
	follow   bool
	cacheDir string // "" for the default
}

func logsConfigOf(c *cli.Context, now time.Time) (logsConfig, error) {
	cfg := logsConfig{
		names: c.Args().Slice(), lines: c.Int("lines"), previous: c.Bool("previous"),
		json: c.Bool("json"), follow: c.Bool("follow"), cacheDir: c.String("cache-dir"),
	}
	if len(cfg.names) == 0 {
		return cfg, usageError("logs: name a function: fnrun logs [INSTANCE/]NAME... (see fnrun logs --help)")
	}
	if cfg.lines < -1 {
		return cfg, usageError("logs: -n %d: want a number of lines, or -1 for all", cfg.lines)
	}
	if s := c.String("since"); s != "" {
		d, err := parseSince(s)
		if err != nil {
			return cfg, usageError("logs: --since %q: %v", s, err)
		}
		cfg.since = now.Add(-d)
		if !c.IsSet("lines") {
			cfg.lines = -1
		}
	}
	if cfg.previous && cfg.follow {
		return cfg, usageError("logs: --previous shows a run that has ended: it cannot be combined with -f")
	}
	var err error
	cfg.root, err = logRoot(c)
	return cfg, err
}

// parseSince parses a Go duration, optionally led by whole days: 2d, 1d12h, 90m.
func parseSince(s string) (time.Duration, error) {
	const want = "want a duration such as 90s, 15m, 2h or 2d"
	var days time.Duration
	if ds, rest, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.Atoi(ds)
		if err != nil || n < 0 || n > 100*365 {
			return 0, errors.New(want)
		}
		days, s = time.Duration(n)*24*time.Hour, rest
	}
	var d time.Duration
	if s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d < 0 {
			return 0, errors.New(want)
		}
	}
	if days+d <= 0 {
		return 0, errors.New("want a positive duration")
	}
	return days + d, nil
}

// logTarget is one log to print.
type logTarget struct {
	instance, name string
	path           string
	label          string // the line prefix and the name in messages
}

// logs prints the logs cfg names.
func (env *appEnv) logs(ctx context.Context, cfg logsConfig) error {
	targets, err := resolveLogs(cfg.root, cfg.names, !cfg.follow, func() map[string]bool { return runningInstances(cfg.cacheDir) })
	if err != nil {
		return err
	}
	readers := make([]*logfile.Reader, len(targets))
	for i, t := range targets {
		if readers[i], err = logfile.NewReader(t.path); err != nil {
			return withCode(ExitFnrun, err)
		}
		defer readers[i].Close()
	}
	p := newLogPrinter(env.stdout, cfg.json, targets)
	per := make([][]logfile.Record, len(targets))
	for i, rd := range readers {
		if per[i], err = tailLog(ctx, rd, cfg, !cfg.follow); err != nil {
			if errors.Is(err, errNoPrevious) {
				return withCode(exitNoLog, fmt.Errorf("%s: %w", targets[i].label, err))
			}
			return logsEnd(ctx, withCode(ExitFnrun, err))
		}
		if n := rd.Skipped(); n > 0 {
			env.log.Warn(fmt.Sprintf("%s: skipped %s: not log records", targets[i].label, plural(n, "line", "lines")))
		}
		if err := rd.Err(); err != nil {
			env.log.Warn(fmt.Sprintf("%s: %v (the rest of that file is skipped)", targets[i].label, err))
		}
	}
	for _, r := range mergeLogs(per, cfg.lines) {
		if err := p.print(&targets[r.t], r.Record); err != nil {
			return logsEnd(ctx, err)
		}
	}
	if err := p.flush(); err != nil || !cfg.follow {
		return logsEnd(ctx, err)
	}
	return logsEnd(ctx, env.followLogs(ctx, p, targets, readers))
}

// logsEnd is the result of `fnrun logs`: a stop cause (Ctrl-C, a closed pipe) wins over
// the error it caused; a Ctrl-C ending -f is no error.
func logsEnd(ctx context.Context, err error) error {
	if sc := causeOf(ctx); sc != nil {
		return sc
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// followLogs follows every log until ctx is done or one fails.
func (env *appEnv) followLogs(ctx context.Context, p *logPrinter, targets []logTarget, readers []*logfile.Reader) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(readers))
	for i, rd := range readers {
		if _, err := os.Lstat(targets[i].path); errors.Is(err, fs.ErrNotExist) {
			env.log.Info(fmt.Sprintf("%s: no log yet; waiting for %s", targets[i].label, targets[i].path))
		}
		go func() {
			errc <- rd.Follow(ctx, func(r logfile.Record) error { return p.printNow(&targets[i], r) })
		}()
	}
	var first error
	for range readers {
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) && first == nil {
			first = withCode(ExitFnrun, err)
			cancel()
		}
	}
	return first
}

var errNoPrevious = errors.New("no previous run")

// tailLog reads a log and returns the records cfg selects: the last cfg.lines (all for -1)
// of those newer than cfg.since, of the log or, with --previous, of the run before the last
// (runs told apart by a change of run number in file order). With flush, lines whose end
// was never written come last; else they stay held for Follow.
func tailLog(ctx context.Context, rd *logfile.Reader, cfg logsConfig, flush bool) ([]logfile.Record, error) {
	var cur, prev []logfile.Record
	run, runs := 0, 0
	add := func(r logfile.Record) {
		if runs == 0 || r.Run != run {
			run, runs = r.Run, runs+1
			if cfg.previous {
				prev, cur = cur, prev[:0]
			}
		}
		if !cfg.since.IsZero() && r.Time.Before(cfg.since) {
			return
		}
		cur = append(cur, r)
		if cfg.lines >= 0 && len(cur) > 2*cfg.lines+1024 {
			cur = append(cur[:0], cur[len(cur)-cfg.lines:]...)
		}
	}
	for i := 0; ; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		add(r)
	}
	if flush {
		for _, r := range rd.Flush() {
			add(r)
		}
	}
	if cfg.previous {
		switch runs {
		case 0:
			return nil, fmt.Errorf("%w: the log is empty", errNoPrevious)
		case 1:
			return nil, fmt.Errorf("%w: only run %d is in its log", errNoPrevious, run)
		}
		cur = prev
	}
	if cfg.lines >= 0 && len(cur) > cfg.lines {
		cur = cur[len(cur)-cfg.lines:]
	}
	return cur, nil
}

// taggedRecord is a record of targets[t].
type taggedRecord struct {
	t int
	logfile.Record
}

// mergeLogs merges the logs' records by time, keeping each log's own order (ties go to the
// earlier log), and returns the last lines of them (all for -1).
func mergeLogs(per [][]logfile.Record, lines int) []taggedRecord {
	total := 0
	for _, recs := range per {
		total += len(recs)
	}
	out := make([]taggedRecord, 0, total)
	idx := make([]int, len(per))
	for len(out) < total {
		best := -1
		for k, recs := range per {
			if idx[k] < len(recs) && (best < 0 || recs[idx[k]].Time.Before(per[best][idx[best]].Time)) {
				best = k
			}
		}
		out = append(out, taggedRecord{best, per[best][idx[best]]})
		idx[best]++
	}
	if lines >= 0 && len(out) > lines {
		out = out[len(out)-lines:]
	}
	return out
}

// logPrinter prints records: text (the line, "fnrun: " before an event, a
// "NAME | " prefix with several logs) or JSON lines. Safe for concurrent use.
type logPrinter struct {
	mu    sync.Mutex
	w     *bufio.Writer
	json  bool
	width int // of the prefix's name; 0: no prefix
	buf   []byte
}

func newLogPrinter(w io.Writer, json bool, targets []logTarget) *logPrinter {
	p := &logPrinter{w: bufio.NewWriterSize(w, 32<<10), json: json}
	if len(targets) > 1 {
		for _, t := range targets {
			p.width = max(p.width, len(t.label))
		}
	}
	return p
}

// logJSON is one line of --json.
type logJSON struct {
	Time     string `json:"time"`
	Instance string `json:"instance"`
	Name     string `json:"name"`
	Run      int    `json:"run"`
	Stream   string `json:"stream"`
	Line     string `json:"line"` // invalid UTF-8 becomes U+FFFD
}

var jsonStreams = map[string]string{logfile.StreamOut: "stdout", logfile.StreamErr: "stderr", logfile.StreamEvent: "fnrun"}

// print buffers one record; flush writes what is buffered.
func (p *logPrinter) print(t *logTarget, r logfile.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.buf[:0]
	if p.json {
		var sb strings.Builder
		enc := json.NewEncoder(&sb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(logJSON{Time: r.Time.UTC().Format(logfile.TimeLayout), Instance: t.instance, Name: t.name,
			Run: r.Run, Stream: jsonStreams[r.Stream], Line: string(r.Text)}); err != nil {
			return err
		}
		b = append(b, sb.String()...)
	} else {
		if p.width > 0 {
			b = append(b, t.label...)
			for range p.width - len(t.label) {
				b = append(b, ' ')
			}
			b = append(b, " | "...)
		}
		if r.Stream == logfile.StreamEvent {
			b = append(b, "fnrun: "...)
		}
		b = append(append(b, r.Text...), '\n')
	}
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *logPrinter) flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.w.Flush()
}

// printNow prints one record at once (following).
func (p *logPrinter) printNow(t *logTarget, r logfile.Record) error {
	if err := p.print(t, r); err != nil {
		return err
	}
	return p.flush()
}

// resolveLogs turns the names given into logs under root. INSTANCE/NAME names one (which
// must exist when mustExist); a bare NAME is looked up in every instance, and when it is in
// several, the one running (running is asked only then) is taken if it is the only one.
func resolveLogs(root string, names []string, mustExist bool, running func() map[string]bool) ([]logTarget, error) {
	var targets []logTarget
	seen := map[string]bool{}
	isRunning := sync.OnceValue(running)
	for _, arg := range names {
		inst, name, explicit := strings.Cut(arg, "/")
		if !explicit {
			inst, name = "", arg
		}
		if err := validLogName("function", name, arg); err != nil {
			return nil, err
		}
		var t logTarget
		if explicit {
			if err := validLogName("instance", inst, arg); err != nil {
				return nil, err
			}
			t = logTarget{instance: inst, name: name, path: logPath(root, inst, name)}
			if _, err := os.Lstat(t.path); err != nil && mustExist {
				return nil, noLogError(root, arg)
			}
		} else {
			insts, err := instancesWith(root, name)
			if err != nil {
				return nil, err
			}
			if len(insts) > 1 {
				var up []string
				for _, in := range insts {
					if isRunning()[in] {
						up = append(up, in)
					}
				}
				if len(up) != 1 {
					return nil, usageError("logs: %s is in instances %s: say %s/%s", name, strings.Join(insts, ", "), insts[0], name)
				}
				insts = up
			}
			if len(insts) == 0 {
				// An entry with replicas: its name stands for all of them
				// (api: api.1, api.2, ...), if one instance has them.
				if in, reps := replicaLogs(root, name); len(reps) > 0 {
					for _, r := range reps {
						rt := logTarget{instance: in, name: r, path: logPath(root, in, r)}
						if !seen[rt.path] {
							seen[rt.path] = true
							targets = append(targets, rt)
						}
					}
					continue
				}
				// An instance with one function (fnrun run): its name
				// stands for that function.
				if only := onlyLog(root, name); only != "" {
					insts, name = []string{name}, only
				} else {
					return nil, noLogError(root, arg)
				}
			}
			t = logTarget{instance: insts[0], name: name, path: logPath(root, insts[0], name)}
		}
		if !seen[t.path] {
			seen[t.path] = true
			targets = append(targets, t)
		}
	}
	names2 := map[string]bool{}
	for _, t := range targets {
		names2[t.name] = true
	}
	for i := range targets {
		targets[i].label = targets[i].name
		if len(names2) < len(targets) { // the same name in two instances
			targets[i].label = targets[i].instance + "/" + targets[i].name
		}
	}
	return targets, nil
}

// replicaLogs returns the instance and the sorted names of the replica logs
// of entry (entry.1.log, entry.2.log, ...), when exactly one instance has
// them.
func replicaLogs(root, entry string) (string, []string) {
	dirs, err := os.ReadDir(root)
	if err != nil {
		return "", nil
	}
	var inst string
	var reps []string
	for _, d := range dirs {
		if !d.IsDir() || control.ValidInstanceName(d.Name()) != nil {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, d.Name()))
		if err != nil {
			continue
		}
		var here []string
		for _, f := range files {
			name, ok := strings.CutSuffix(f.Name(), ".log")
			num, isRep := strings.CutPrefix(name, entry+".")
			if !ok || !isRep || !f.Type().IsRegular() || num == "" || strings.Trim(num, "0123456789") != "" {
				continue
			}
			here = append(here, name)
		}
		if len(here) == 0 {
			continue
		}
		if inst != "" {
			return "", nil // in more than one instance: say which
		}
		inst, reps = d.Name(), here
	}
	slices.SortFunc(reps, func(a, b string) int {
		x, _ := strconv.Atoi(strings.TrimPrefix(a, entry+"."))
		y, _ := strconv.Atoi(strings.TrimPrefix(b, entry+"."))
		return x - y
	})
	return inst, reps
}

// onlyLog returns the name of the one function log in instance's
// directory, or "" when there is not exactly one.
func onlyLog(root, instance string) string {
	entries, err := os.ReadDir(filepath.Join(root, instance))
	if err != nil {
		return ""
	}
	only := ""
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || name == "fnrun" || !e.Type().IsRegular() || control.ValidInstanceName(name) != nil {
			continue
		}
		if only != "" {
			return ""
		}
		only = name
	}
	return only
}

func logPath(root, instance, name string) string {
	return filepath.Join(root, instance, name+".log")
}

// validLogName refuses a name that cannot be a path component of a log (the rules of
// control.ValidInstanceName, which function names share).
func validLogName(kind, name, arg string) error {
	if control.ValidInstanceName(name) != nil {
		return usageError("logs: %q: invalid %s name %q: want letters, digits, dots, _ or - (and not . or .. alone)", arg, kind, name)
	}
	return nil
}

// instancesWith returns the instances, sorted, that have a log for name.
func instancesWith(root, name string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, withCode(ExitFnrun, fmt.Errorf("list logs: %w", err))
	}
	var insts []string
	for _, e := range entries {
		if !e.IsDir() || control.ValidInstanceName(e.Name()) != nil {
			continue
		}
		if fi, err := os.Lstat(logPath(root, e.Name(), name)); err == nil && fi.Mode().IsRegular() {
			insts = append(insts, e.Name())
		}
	}
	return insts, nil
}

// noLogError says that arg has no log, and which logs there are.
func noLogError(root, arg string) error {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return withCode(exitNoLog, fmt.Errorf("no log for %q: no logs yet (fnrun run and up write them under %s)", arg, root))
	}
	if err != nil {
		return withCode(ExitFnrun, fmt.Errorf("list logs: %w", err))
	}
	var known []string
	for _, e := range entries {
		if !e.IsDir() || control.ValidInstanceName(e.Name()) != nil {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(root, e.Name()))
		for _, f := range files {
			if name, ok := strings.CutSuffix(f.Name(), ".log"); ok && f.Type().IsRegular() && control.ValidInstanceName(name) == nil {
				known = append(known, e.Name()+"/"+name)
			}
		}
	}
	if len(known) == 0 {
		return withCode(exitNoLog, fmt.Errorf("no log for %q: no logs in %s yet", arg, root))
	}
	if len(known) > maxKnown {
		known = append(known[:maxKnown], fmt.Sprintf("and %d more", len(known)-maxKnown))
	}
	return withCode(exitNoLog, fmt.Errorf("no log for %q; known: %s", arg, strings.Join(known, ", ")))
}

// runningInstances returns the names of the running instances, or nil when they cannot be
// listed (then no instance counts as running).
func runningInstances(cacheDir string) map[string]bool {
	if cacheDir == "" {
		cacheDir, _ = cache.DefaultDir()
	}
	dir, err := control.Dir(cacheDir)
	if err != nil {
		return nil
	}
	insts, _ := control.List(dir) // an instance that does not answer is not running
	running := make(map[string]bool, len(insts))
	for _, in := range insts {
		running[in.Name] = true
	}
	return running
}
