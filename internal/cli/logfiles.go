package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/control"
	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/logfile"
	"github.com/fnrun/fnrun/runner"
)

/*
Log files: every function's stdout and stderr lines, and fnrun's events
about it, go to LOGDIR/INSTANCE/NAME.log (internal/logfile: size-rotated,
older files gzipped), in the record format `fnrun logs` reads
(logfile.Record). On by default for up and for -d; --log-files turns them
on for run and exec, --no-log-files off. A file that cannot be opened costs
a warning, never the run.
*/

func logFileFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "log-files", DisableDefaultText: true, Category: catLogFiles, EnvVars: envVar("LOG_FILES"),
			Usage: "also write each function's output to log files, for fnrun logs (the default for up and -d)"},
		&cli.BoolFlag{Name: "no-log-files", DisableDefaultText: true, Category: catLogFiles, EnvVars: envVar("NO_LOG_FILES"),
			Usage: "write no log files"},
		inCategory(logDirFlag(), catLogFiles),
		&cli.StringFlag{Name: "log-max-size", Value: "10MB", Category: catLogFiles, EnvVars: envVar("LOG_MAX_SIZE"),
			Usage: "start a new log file when one reaches `SIZE` (10MB, 512KB or a number of bytes)"},
		&cli.IntFlag{Name: "log-max-files", Value: logfile.DefaultMaxFiles, Category: catLogFiles, EnvVars: envVar("LOG_MAX_FILES"),
			Usage: "keep `N` old log files besides the current one, all but the newest gzipped"},
	}
}

// parseSize reads 10MB, 512KB, 1GB, 1MiB or a number of bytes.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 || n*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("%q is not a size (say 10MB, 512KB or a number of bytes)", s)
	}
	return int64(n * float64(mult)), nil
}

// logFiles are the log files of one instance's functions.
type logFiles struct {
	dir  string // LOGDIR/INSTANCE
	opts logfile.Options
	warn func(name string, err error)

	mu sync.Mutex
	ws map[string]*logfile.Writer
	ev []byte // event record buffer, under mu
}

// logFilesFor returns the log files of instance, or nil when they are off
// (on by default when def).
func (env *appEnv) logFilesFor(c *cli.Context, instance string, def bool) (*logFiles, error) {
	on := def
	if c.IsSet("log-files") {
		on = c.Bool("log-files")
	}
	if c.Bool("no-log-files") {
		if c.Bool("log-files") {
			return nil, usageError("--log-files and --no-log-files contradict each other")
		}
		on = false
	}
	size, err := parseSize(c.String("log-max-size"))
	if err != nil {
		return nil, usageError("--log-max-size: %v", err)
	}
	if c.Int("log-max-files") < 1 {
		return nil, usageError("--log-max-files must be at least 1")
	}
	if !on {
		return nil, nil
	}
	root, err := logRoot(c)
	if err != nil {
		return nil, err
	}
	if err := control.ValidInstanceName(instance); err != nil {
		return nil, usageError("%v", err)
	}
	l := &logFiles{dir: filepath.Join(root, instance), ws: map[string]*logfile.Writer{},
		opts: logfile.Options{MaxSize: size, MaxFiles: c.Int("log-max-files"), Compress: true}}
	l.warn = func(name string, err error) {
		env.log.Warn("no log file: fnrun logs will not show its output", "name", name, "err", err.Error())
	}
	return l, nil
}

// writer returns the log file of the function name, opened on its first
// write (a file that cannot be opened is warned about once, and its lines
// are dropped).
func (l *logFiles) writer(name string) io.Writer {
	if l == nil {
		return nil
	}
	return &lazyLog{l: l, name: name}
}

// lazyLog is a function's log file, opened on its first write: `up` opens
// none of its entries' files before it starts them (a millisecond for ten:
// each open also looks for rotated files to compress).
type lazyLog struct {
	l    *logFiles
	name string
	w    atomic.Pointer[logfile.Writer] // once opened: no lock per write
}

func (z *lazyLog) Write(p []byte) (int, error) {
	w := z.w.Load()
	if w == nil {
		if w = z.l.open(z.name); w == nil {
			return len(p), nil // the open failed, and said so once
		}
		z.w.Store(w)
	}
	return w.Write(p)
}

// open returns name's log file, opened on the first call; nil when it
// cannot be opened (warned once).
func (l *logFiles) open(name string) *logfile.Writer {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.ws[name]; ok {
		return w
	}
	var w *logfile.Writer
	err := control.ValidInstanceName(name) // the same rules make it a safe file name
	if err == nil {
		if err = os.MkdirAll(l.dir, 0o700); err == nil {
			w, err = logfile.Open(filepath.Join(l.dir, name+".log"), l.opts)
		}
	}
	l.ws[name] = w
	if err != nil {
		l.warn(name, err)
		return nil
	}
	return w
}

// event writes fnrun's own line about a function to its log file.
func (l *logFiles) event(e fn.Event) {
	if l == nil {
		return
	}
	var msg string
	switch e.Kind {
	case fn.EventStarted:
		msg = fmt.Sprintf("run %d started (pid %d)", e.Run, e.PID)
	case fn.EventReady:
		msg = fmt.Sprintf("ready after %s", e.Took.Round(time.Millisecond))
	case fn.EventExited:
		msg = fmt.Sprintf("run %d exited: %s after %s", e.Run, fn.DescribeExit(runnerStatus(e)), e.Took.Round(time.Millisecond))
	case fn.EventBackoff:
		if e.Delay > 0 {
			msg = fmt.Sprintf("restarting in %s", e.Delay.Round(time.Millisecond))
		}
	case fn.EventHeld:
		msg = "stopped until fnrun start"
	case fn.EventGaveUp:
		msg = "gave up: no more restarts"
	case fn.EventStartFailed:
		msg = fmt.Sprintf("could not start: %v", e.Err)
	case fn.EventRebuilt:
		msg = "rebuilt; restarting"
	case fn.EventTimedOut:
		msg = "--timeout expired; stopping"
	}
	if msg == "" {
		return
	}
	w := l.open(e.Name)
	if w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = logfile.AppendRecord(l.ev[:0], logfile.Record{Time: e.Time, Run: max(e.Run, 1), Stream: logfile.StreamEvent, Text: []byte(msg)})
	w.Write(l.ev)
}

// close closes every log file (waiting for their compressions).
func (l *logFiles) close() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.ws {
		if w != nil {
			w.Close()
		}
	}
}

func runnerStatus(e fn.Event) runner.Status { return runner.Status{Code: e.Code, Signal: e.Signal} }
