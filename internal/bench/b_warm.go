package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Warm-start targets.
const (
	warmOverDirect = 20 * time.Millisecond // fnrun <= direct exec + this
	warmVsGoRun    = 0.3                   // fnrun / go run
	runTimeout     = 5 * time.Minute       // one cold build may take a while
)

// benchWarm compares a warm `fnrun run ./examples/crasher` (binary cached)
// with executing the cached binary directly and with a warm `go run`.
func benchWarm(ctx context.Context, b *bench) ([]row, error) {
	n := b.pick(15, 5)
	examples := filepath.Join(b.root, "examples")
	args := []string{"-after", "0", "-code", "0"}
	env := b.env()

	var binary string
	if b.haveFnrun() {
		cold, err := b.runTimed(ctx, "fnrun-fill", b.command(b.root, env, b.fnrun, append([]string{"run", "./examples/crasher", "--"}, args...)...), runTimeout)
		if err != nil {
			return nil, fmt.Errorf("fill the cache: %w", err)
		}
		b.logf("cold fnrun run (fills the cache): %s", fmtDur(cold))
		out, err := b.output(ctx, b.root, env, b.fnrun, "build", "./examples/crasher")
		if err != nil {
			return nil, err
		}
		binary = lastLine(out)
		if fi, err := os.Stat(binary); err != nil || fi.IsDir() {
			return nil, fmt.Errorf("fnrun build ./examples/crasher printed %q, not a binary", out)
		}
	} else {
		// The direct reference still needs a crasher binary.
		binary = filepath.Join(b.work, "warm", "crasher")
		if _, err := b.goCmd(ctx, examples, env, "build", "-o", binary, "./crasher"); err != nil {
			return nil, err
		}
	}
	if _, err := b.runTimed(ctx, "gorun-fill", b.command(examples, env, "go", append([]string{"run", "./crasher"}, args...)...), runTimeout); err != nil {
		return nil, fmt.Errorf("warm up go run: %w", err)
	}

	timed := func(name, dir, prog string, argv ...string) func() (float64, error) {
		return func() (float64, error) {
			d, err := b.runTimed(ctx, name, b.command(dir, env, prog, argv...), runTimeout)
			return d.Seconds(), err
		}
	}
	fn := &side{name: "fnrun"}
	if b.haveFnrun() {
		fn.run = timed("fnrun-warm", b.root, b.fnrun, append([]string{"run", "./examples/crasher", "--"}, args...)...)
	}
	direct := &side{name: "direct", run: timed("direct", b.root, binary, args...)}
	gorun := &side{name: "go run", run: timed("gorun", examples, "go", append([]string{"run", "./crasher"}, args...)...)}

	b.logf("warm start: %d interleaved runs each", n)
	if err := b.alternate(n, fmtMS, fn, direct, gorun); err != nil {
		return nil, err
	}
	f, d, g := median(fn.samples), median(direct.samples), median(gorun.samples)
	r1 := row{
		measure: "warm run vs direct exec",
		fnrun:   fmtMS(f), ref: fmtMS(d) + " (direct)",
		target: "<= direct+20ms",
		status: verdict(b.haveFnrun(), f <= d+warmOverDirect.Seconds()),
	}
	r2 := row{
		measure: "warm run vs go run",
		fnrun:   fmtMS(f), ref: fmtMS(g) + " (go run)",
		target: fmt.Sprintf("<= %.2fx", warmVsGoRun),
		status: verdict(b.haveFnrun(), g > 0 && f/g <= warmVsGoRun),
	}
	if b.haveFnrun() {
		r1.ratio, r2.ratio = fmtRatio(f, d), fmtRatio(f, g)
		r1.note = fmt.Sprintf("fnrun - direct = %+.1fms", (f-d)*1000)
	} else {
		r1.fnrun, r2.fnrun = "unavailable", "unavailable"
	}
	return []row{r1, r2}, nil
}

// output runs a command to completion and returns its stdout.
func (b *bench) output(ctx context.Context, dir string, env []string, prog string, args ...string) (string, error) {
	f, err := os.CreateTemp(b.work, "stdout-")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd := b.command(dir, env, prog, args...)
	cmd.Stdout = f
	if _, err := b.runTimed(ctx, filepath.Base(prog), cmd, runTimeout); err != nil {
		return "", err
	}
	data, err := os.ReadFile(f.Name())
	return string(data), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
