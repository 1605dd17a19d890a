package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startOverDirect is issue 15's warm-start goal: launch → the program's main
// under `fnrun run DIR` at most this much later than under a direct exec.
const startOverDirect = 3 * time.Millisecond

// stampSource writes the wall clock (ns) at the start of main to
// $STAMP_FILE and exits 0: the moment the program runs its own code.
const stampSource = `package main

import (
	"os"
	"strconv"
	"time"
)

func main() {
	now := time.Now().UnixNano()
	os.WriteFile(os.Getenv("STAMP_FILE"), strconv.AppendInt(nil, now, 10), 0o644)
}
`

// benchStart measures launch → the program's main: a warm `fnrun run DIR`
// (the binary cached) against executing the cached binary directly, in
// interleaved rounds. The clock starts just before the launcher's exec and
// stops at the program's first statement, so fnrun's own exit is not in it.
func benchStart(ctx context.Context, b *bench) ([]row, error) {
	n := b.pick(21, 5)
	dir := filepath.Join(b.work, "start")
	if err := writeFiles(dir, map[string]string{"go.mod": "module example.com/stamp\n\ngo 1.22\n", "main.go": stampSource}); err != nil {
		return nil, err
	}
	stamp := filepath.Join(b.work, "start.stamp")
	env := b.env("STAMP_FILE=" + stamp)
	var binary string
	if b.haveFnrun() {
		if _, err := b.runTimed(ctx, "fnrun-fill", b.command(dir, env, b.fnrun, "run", "."), runTimeout); err != nil {
			return nil, fmt.Errorf("fill the cache: %w", err)
		}
		out, err := b.output(ctx, dir, env, b.fnrun, "build", ".")
		if err != nil {
			return nil, err
		}
		binary = lastLine(out)
	} else {
		binary = filepath.Join(b.work, "stamp")
		if _, err := b.goCmd(ctx, dir, env, "build", "-o", binary, "."); err != nil {
			return nil, err
		}
	}
	timed := func(name, prog string, argv ...string) func() (float64, error) {
		return func() (float64, error) {
			os.Remove(stamp)
			t0 := time.Now()
			if _, err := b.runTimed(ctx, name, b.command(dir, env, prog, argv...), runTimeout); err != nil {
				return 0, err
			}
			data, err := os.ReadFile(stamp)
			if err != nil {
				return 0, fmt.Errorf("%s: the program wrote no stamp: %w", name, err)
			}
			ns, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: stamp %q: %w", name, data, err)
			}
			return time.Unix(0, ns).Sub(t0).Seconds(), nil
		}
	}
	fn := &side{name: "fnrun"}
	if b.haveFnrun() {
		fn.run = timed("fnrun-start", b.fnrun, "run", ".")
	}
	direct := &side{name: "direct", run: timed("direct-start", binary)}
	b.logf("launch → main: %d interleaved runs each", n)
	if err := b.alternate(n, fmtMS, fn, direct); err != nil {
		return nil, err
	}
	f, d := median(fn.samples), median(direct.samples)
	r := b.withRatio(row{
		measure: "launch → main, warm run",
		fnrun:   fmtMS(f), ref: fmtMS(d) + " (direct)",
		target: fmt.Sprintf("<= direct+%dms", startOverDirect.Milliseconds()),
		status: verdict(b.haveFnrun(), f <= d+startOverDirect.Seconds()),
	}, f, d)
	if b.haveFnrun() {
		r.note = fmt.Sprintf("fnrun - direct = %+.1fms", (f-d)*1000)
	}
	return []row{r}, nil
}
