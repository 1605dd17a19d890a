package main

/*
The control benchmark measures the two commands a user runs against
instances that are already up: `fnrun ps`, which asks every instance over
its control socket, and `fnrun logs -f`, which follows the log files that
`fnrun run --log-files` writes.

Both need every fnrun of the benchmark to agree on where the sockets and
the log files are: the environment points XDG_RUNTIME_DIR and
XDG_STATE_HOME into the work directory, so nothing of the user's own
instances is seen or touched.

The latency program stamps each line with the wall clock when it writes it
("L <unix nanos>"); the bench subtracts that from the time it reads the
line. The reference reads the same program through a plain pipe, so the
difference is what the log file and the follower add.
*/

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Control targets and bounds.
const (
	psInstances    = 10
	psTarget       = 20 * time.Millisecond // median wall time of `fnrun ps`
	psAwait        = 30 * time.Second      // until ps lists every instance
	psTimeout      = 10 * time.Second      // one ps or version run
	latTarget      = 50 * time.Millisecond // median line latency of logs -f
	latEvery       = 20 * time.Millisecond // the program's line interval
	latWarmup      = 10                    // lines skipped at the start of a pass
	latSlack       = 500                   // lines the program prints beyond what a pass reads
	latFirstLine   = 3 * time.Minute       // fnrun run builds the program if the cache is cold
	latLineTimeout = 5 * time.Second       // between two lines
)

// latService prints "L <unix nanos>" every interval, N times.
const latService = `package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	every, _ := time.ParseDuration(os.Args[2])
	t := time.NewTicker(every)
	for range n {
		fmt.Printf("L %d\n", time.Now().UnixNano())
		<-t.C
	}
}
`

// benchControl measures `fnrun ps` with psInstances instances running and
// the latency of `fnrun logs -f`.
func benchControl(ctx context.Context, b *bench) ([]row, error) {
	dir := filepath.Join(b.work, "ctl")
	rt := filepath.Join(dir, "rt")
	if err := os.MkdirAll(rt, 0o700); err != nil {
		return nil, err
	}
	env := b.env("XDG_RUNTIME_DIR="+rt, "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	psRow, err := benchPS(ctx, b, dir, env)
	if err != nil {
		return nil, err
	}
	b.killAll()
	latRow, err := benchFollow(ctx, b, dir, env)
	if err != nil {
		return []row{psRow}, err
	}
	return []row{psRow, latRow}, nil
}

// benchPS times `fnrun ps` against `fnrun version` while psInstances
// `fnrun exec` instances run, then stops them.
func benchPS(ctx context.Context, b *bench, dir string, env []string) (row, error) {
	r := row{measure: fmt.Sprintf("ps with %d instances", psInstances), target: "<= " + fmtDur(psTarget)}
	if !b.haveFnrun() {
		r.fnrun, r.status = "unavailable", statusUnavailable
		return r, nil
	}
	var names []string
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.kill()
		}
	}()
	for i := 1; i <= psInstances; i++ {
		name := fmt.Sprintf("i%d", i)
		p, err := b.start("fnrun-"+name, b.command(dir, env, b.fnrun, "exec", "-q", "--instance", name, "--", b.helper("sleeper")))
		if err != nil {
			return r, err
		}
		names = append(names, name)
		procs = append(procs, p)
	}
	t0 := time.Now()
	if err := b.awaitInstances(ctx, dir, env, names, procs); err != nil {
		return r, err
	}
	b.logf("ps: %d instances listed after %s", psInstances, fmtDur(time.Since(t0)))

	// timed runs fnrun with args, drains its stdout and checks it.
	timed := func(name string, check func(string) error, args ...string) func() (float64, error) {
		return func() (float64, error) {
			out, d, err := b.timedOutput(ctx, name, b.command(dir, env, b.fnrun, args...))
			if err != nil {
				return 0, err
			}
			if err := check(out); err != nil {
				return 0, fmt.Errorf("fnrun %s: %w", strings.Join(args, " "), err)
			}
			return d.Seconds(), nil
		}
	}
	fn := &side{name: "ps", run: timed("fnrun-ps", func(out string) error { return listsAll(out, names) }, "ps")}
	ver := &side{name: "version", run: timed("fnrun-version", func(string) error { return nil }, "version")}
	n := b.pick(30, 10)
	b.logf("ps: %d interleaved runs each", n)
	if err := b.alternate(n, fmtMS, fn, ver); err != nil {
		return r, err
	}

	var notes []string
	for _, p := range procs {
		code, err := p.interrupt()
		if err != nil {
			return r, err
		}
		if code != 130 {
			notes = appendOnce(notes, fmt.Sprintf("fnrun exec exited %d after SIGINT, want 130", code))
		}
	}
	if left, err := b.listInstances(ctx, dir, env); err != nil {
		return r, err
	} else if len(left) > 0 {
		notes = append(notes, fmt.Sprintf("ps still lists %v after every instance stopped", left))
	}

	f, v := median(fn.samples), median(ver.samples)
	r.fnrun, r.ref = fmtMS(f), fmtMS(v)+" (version)"
	r.status = verdict(true, f <= psTarget.Seconds())
	r.note = joinNotes(append([]string{fmt.Sprintf("ps - version = %+.1fms", (f-v)*1000)}, notes...))
	return b.withRatio(r, f, v), nil
}

// awaitInstances polls `fnrun ps --json` until it lists every name; it
// fails early when one of procs exits.
func (b *bench) awaitInstances(ctx context.Context, dir string, env []string, names []string, procs []*proc) error {
	deadline := time.Now().Add(psAwait)
	var listed []string
	for {
		for _, p := range procs {
			if !p.running() {
				return p.failure(fmt.Errorf("exited early (code %d)", p.exitCode()))
			}
		}
		var err error
		listed, err = b.listInstances(ctx, dir, env)
		if err != nil {
			return err
		}
		if containsAll(listed, names) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("fnrun ps --json: lists %v after %s, want %v", listed, psAwait, names)
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// listInstances returns the instance names `fnrun ps --json` lists.
func (b *bench) listInstances(ctx context.Context, dir string, env []string) ([]string, error) {
	out, _, err := b.timedOutput(ctx, "fnrun-ps-json", b.command(dir, env, b.fnrun, "ps", "--json"))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Instances []struct {
			Name string `json:"name"`
		} `json:"instances"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		return nil, fmt.Errorf("fnrun ps --json: %w", err)
	}
	var names []string
	for _, in := range doc.Instances {
		names = append(names, in.Name)
	}
	return names, nil
}

// timedOutput runs cmd with its stdout on a pipe that the bench drains, and
// returns what it printed and its wall time from start to exit.
func (b *bench) timedOutput(ctx context.Context, name string, cmd *exec.Cmd) (string, time.Duration, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", 0, err
	}
	defer r.Close()
	cmd.Stdout = w
	p, err := b.start(name, cmd)
	w.Close()
	if err != nil {
		return "", 0, err
	}
	defer p.kill()
	// A command that hangs with its stdout open must not hang the bench.
	stop := context.AfterFunc(ctx, func() { r.SetReadDeadline(time.Now()) })
	defer stop()
	if err := r.SetReadDeadline(time.Now().Add(psTimeout)); err != nil {
		return "", 0, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return "", 0, p.failure(fmt.Errorf("read its stdout: %w", err))
	}
	if err := p.wait(ctx, psTimeout); err != nil {
		return "", 0, err
	}
	if p.err != nil {
		return "", 0, p.failure(p.err)
	}
	return string(data), p.elapsed, nil
}

// listsAll checks that the text table of `fnrun ps` has a row for every
// instance name.
func listsAll(out string, names []string) error {
	var listed []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			listed = append(listed, f[0])
		}
	}
	if !containsAll(listed, names) {
		return fmt.Errorf("lists %v, want %v", listed, names)
	}
	return nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// benchFollow measures the latency from a program writing a line to
// `fnrun logs -f` printing it, against reading the program through a pipe.
func benchFollow(ctx context.Context, b *bench, dir string, env []string) (row, error) {
	r := row{measure: "logs -f latency", target: "<= " + fmtDur(latTarget)}
	passes := b.pick(2, 1)
	perPass := b.pick(200, 50) / passes
	count := strconv.Itoa(latWarmup + perPass + latSlack)
	every := latEvery.String()
	if err := writeFiles(filepath.Join(dir, "lat"), map[string]string{
		"go.mod": "module example.com/lat\n\ngo 1.22\n", "main.go": latService,
	}); err != nil {
		return r, err
	}
	var binary string
	if b.haveFnrun() {
		out, err := b.output(ctx, dir, env, b.fnrun, "build", "./lat") // fills the cache
		if err != nil {
			return r, err
		}
		binary = lastLine(out)
	} else {
		binary = filepath.Join(dir, "lat-bin")
		if _, err := b.goCmd(ctx, filepath.Join(dir, "lat"), env, "build", "-o", binary, "."); err != nil {
			return r, err
		}
	}

	var fnAll, pipeAll []float64
	fn := &side{name: "logs -f"}
	if b.haveFnrun() {
		pass := 0
		fn.run = func() (float64, error) {
			pass++
			instance := fmt.Sprintf("lat%d", pass)
			run := b.command(dir, env, b.fnrun, "run", "-q", "--log-files", "--instance", instance, "./lat", "--", count, every)
			runOut, err := startReading(b, "fnrun-run-"+instance, run)
			if err != nil {
				return 0, err
			}
			defer runOut.close()
			// The first line on fnrun's stdout means the log file exists.
			if _, err := nextLine(ctx, runOut, latFirstLine); err != nil {
				return 0, err
			}
			follow := b.command(dir, env, b.fnrun, "logs", "-f", "-n", "0", instance+"/lat")
			logsOut, err := startReading(b, "fnrun-logs-"+instance, follow)
			if err != nil {
				return 0, err
			}
			defer logsOut.close()
			lat, err := collectLatencies(ctx, logsOut, perPass)
			if err != nil {
				return 0, err
			}
			for _, p := range []*proc{logsOut.p, runOut.p} {
				if _, err := p.interrupt(); err != nil {
					return 0, err
				}
			}
			fnAll = append(fnAll, lat...)
			return median(lat), nil
		}
	}
	pipe := &side{name: "pipe", run: func() (float64, error) {
		out, err := startReading(b, "lat-pipe", b.command(dir, env, binary, count, every))
		if err != nil {
			return 0, err
		}
		defer out.close()
		lat, err := collectLatencies(ctx, out, perPass)
		if err != nil {
			return 0, err
		}
		out.p.kill()
		pipeAll = append(pipeAll, lat...)
		return median(lat), nil
	}}
	b.logf("logs -f: %d passes of %d lines every %s (after %d warm-up lines), medians per pass", passes, perPass, latEvery, latWarmup)
	if err := b.alternate(passes, fmtMS, fn, pipe); err != nil {
		return r, err
	}
	f, p := median(fnAll), median(pipeAll)
	r.fnrun, r.ref = fmtMS(f), fmtMS(p)+" (pipe)"
	r.status = verdict(b.haveFnrun(), f <= latTarget.Seconds())
	r.note = fmt.Sprintf("p90 %s (pipe), %d lines", fmtMS(percentile(pipeAll, 0.9)), len(pipeAll))
	if b.haveFnrun() {
		r.note = fmt.Sprintf("p90 %s vs %s (pipe), %d lines each", fmtMS(percentile(fnAll, 0.9)), fmtMS(percentile(pipeAll, 0.9)), len(pipeAll))
	}
	return b.withRatio(r, f, p), nil
}

// reading is a started process whose stdout the bench reads line by line.
type reading struct {
	p     *proc
	r     *os.File
	lines <-chan stampedLine
}

func startReading(b *bench, name string, cmd *exec.Cmd) (*reading, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = w
	p, err := b.start(name, cmd)
	w.Close()
	if err != nil {
		r.Close()
		return nil, err
	}
	return &reading{p: p, r: r, lines: readLines(r)}, nil
}

// close kills the process (if still running) and closes the pipe.
func (rd *reading) close() {
	rd.p.kill()
	rd.r.Close()
}

// nextLine returns the next line of rd's stdout.
func nextLine(ctx context.Context, rd *reading, timeout time.Duration) (stampedLine, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case l, ok := <-rd.lines:
		if !ok {
			rd.p.wait(ctx, 5*time.Second)
			return l, rd.p.failure(fmt.Errorf("stdout closed (exit code %d)", rd.p.exitCode()))
		}
		return l, nil
	case <-t.C:
		return stampedLine{}, rd.p.failure(fmt.Errorf("no line within %s", timeout))
	case <-ctx.Done():
		return stampedLine{}, ctx.Err()
	}
}

// collectLatencies reads "L <unix nanos>" lines from rd, skips latWarmup of
// them and returns the latency in seconds of the next n; other lines (fnrun
// events) are ignored.
func collectLatencies(ctx context.Context, rd *reading, n int) ([]float64, error) {
	var out []float64
	for seen := 0; len(out) < n; {
		l, err := nextLine(ctx, rd, latLineTimeout)
		if err != nil {
			return nil, fmt.Errorf("after %d lines: %w", seen, err)
		}
		i := strings.LastIndex(l.text, "L ")
		if i < 0 {
			continue
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(l.text[i+2:]), 10, 64)
		if err != nil {
			continue
		}
		if seen++; seen > latWarmup {
			out = append(out, l.at.Sub(time.Unix(0, ns)).Seconds())
		}
	}
	return out, nil
}

// percentile returns the p-quantile of xs (nearest rank; 0 for none).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(float64(len(s))*p+0.5) - 1
	return s[min(max(k, 0), len(s)-1)]
}
