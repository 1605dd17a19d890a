package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// config is the command line.
type config struct {
	fnrun string // path of the fnrun binary
	quick bool   // shorter windows, fewer rounds
	only  string // run a single benchmark
	keep  bool   // keep the work directory
}

// benchmark is one named measurement; run returns its summary rows. An error
// means the benchmark could not complete: it becomes a FAIL row.
type benchmark struct {
	name string
	run  func(ctx context.Context, b *bench) ([]row, error)
}

// benchmarks in the order they run; names are what -only accepts.
var benchmarks = []benchmark{
	{"restart", benchRestart},
	{"logs", benchLogs},
	{"logfile", benchLogFile},
	{"idle", benchIdle},
	{"warm", benchWarm},
	{"start", benchStart},
	{"module", benchModule},
	{"watch", benchWatch},
	{"up", benchUp},
	{"control", benchControl},
	{"listen", benchListen},
	{"image", benchImage},
}

func benchNames() string {
	var names []string
	for _, bm := range benchmarks {
		names = append(names, bm.name)
	}
	return strings.Join(names, ", ")
}

// bench holds what every benchmark shares: the work directory, the helper
// binaries, the environment and the processes started so far. It is used by
// one goroutine at a time, except procs, which is guarded by mu.
type bench struct {
	cfg     config
	out     io.Writer
	root    string // the fnrun repository (holds examples/)
	work    string // temporary directory, removed by close
	bin     string // helper binaries: exit0, spam, sleeper
	fnrun   string // absolute path of fnrun, "" when unavailable
	whyNot  string // why fnrun is unavailable
	baseEnv []string

	mu    sync.Mutex
	procs []*proc
	seq   int // numbers log files
}

// newBench prepares the work directory and helpers. On error the returned
// bench (if any) still needs close.
func newBench(ctx context.Context, cfg config, out io.Writer) (*bench, error) {
	b := &bench{cfg: cfg, out: out}
	root, err := findRoot()
	if err != nil {
		return nil, err
	}
	b.root = root
	b.work, err = os.MkdirTemp("", "fnrun-bench-")
	if err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	b.bin = filepath.Join(b.work, "bin")
	b.baseEnv = benchEnv(filepath.Join(b.work, "fnrun-cache"))
	if err := becomeSubreaper(); err != nil {
		b.logf("note: cannot become a child subreaper (%v); orphans of a killed fnrun may be missed", err)
	}

	b.logf("fnrun bench: root %s, work %s, quick=%v", root, b.work, cfg.quick)
	b.fnrun, b.whyNot = checkFnrun(ctx, cfg.fnrun, b.baseEnv)
	if b.fnrun == "" {
		b.logf("fnrun UNAVAILABLE (%s): running the reference sides only", b.whyNot)
	} else {
		b.logf("fnrun: %s", b.fnrun)
	}
	t0 := time.Now()
	if err := b.buildHelpers(ctx); err != nil {
		return b, err
	}
	b.logf("helpers built in %s", fmtDur(time.Since(t0)))
	return b, nil
}

// close stops every process still running, then removes the work directory.
func (b *bench) close() {
	b.killAll()
	if b.work == "" {
		return
	}
	if b.cfg.keep {
		b.logf("kept %s", b.work)
		return
	}
	if err := removeAll(b.work); err != nil {
		fmt.Fprintf(os.Stderr, "bench: clean up: %v\n", err)
	}
}

// runAll runs the benchmarks in order and collects their rows; a failed or
// interrupted benchmark yields a FAIL row and the next one still runs
// (unless the bench was interrupted).
func (b *bench) runAll(ctx context.Context, list []benchmark) []row {
	var rows []row
	for _, bm := range list {
		if ctx.Err() != nil {
			break
		}
		b.logf("\n== %s", bm.name)
		got, err := bm.run(ctx, b)
		for _, r := range got {
			r.bench = bm.name
			b.logf("%s", r.line())
			rows = append(rows, r)
		}
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("interrupted: %w", err)
			}
			r := row{bench: bm.name, measure: "-", status: statusFail, note: err.Error()}
			b.logf("FAIL %s: %v", bm.name, err)
			rows = append(rows, r)
		}
		b.killAll() // nothing outlives its benchmark
	}
	return rows
}

// logf prints one progress line.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.out, format+"\n", args...)
}

// haveFnrun reports whether the fnrun sides can run.
func (b *bench) haveFnrun() bool { return b.fnrun != "" }

// rounds picks the full or -quick value.
func (b *bench) pick(full, quick int) int {
	if b.cfg.quick {
		return quick
	}
	return full
}

func (b *bench) pickDur(full, quick time.Duration) time.Duration {
	if b.cfg.quick {
		return quick
	}
	return full
}

// env returns the base environment plus extra KEY=VALUE pairs (later wins).
func (b *bench) env(extra ...string) []string {
	return mergeEnv(b.baseEnv, extra...)
}

// benchEnv is the environment every command runs with: the caller's, minus
// any FNRUN_* setting (it would change what is measured), plus a private
// fnrun cache and a pinned toolchain.
func benchEnv(cacheDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FNRUN_") {
			env = append(env, kv)
		}
	}
	return mergeEnv(env, "FNRUN_CACHE_DIR="+cacheDir, "GOTOOLCHAIN=local", "NO_COLOR=1")
}

func mergeEnv(env []string, extra ...string) []string {
	out := make([]string, 0, len(env)+len(extra))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		overridden := false
		for _, e := range extra {
			if ek, _, _ := strings.Cut(e, "="); ek == k {
				overridden = true
				break
			}
		}
		if !overridden {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// findRoot walks up from the working directory to the fnrun module root.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find fnrun repository: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/fnrun/fnrun\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find fnrun repository: no go.mod of github.com/fnrun/fnrun above the working directory")
		}
		dir = parent
	}
}

// checkFnrun returns the absolute path of a working fnrun binary, or "" and
// the reason it cannot be used.
func checkFnrun(ctx context.Context, path string, env []string) (string, string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err.Error()
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Sprintf("%s: %v (run `make build`)", path, err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", path + ": not an executable file"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, abs, "--help")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Sprintf("%s --help: %v: %s", path, err, firstLine(string(out)))
	}
	return abs, ""
}

// removeAll removes dir even when the go command made parts of a module
// cache read-only.
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
