package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// logFileVsRedirect is issue 15's log goal: fnrun's output, prefixes on,
// redirected to a file, at least as fast as the program's own output
// redirected to the file.
const logFileVsRedirect = 1.0

// benchLogFile compares `fnrun exec -- PROG > file` (the prefix on every
// line) with `PROG > file`, the time from launch to exit, for a program
// that writes one line per write(2) (lines1) and one that writes 64 KiB
// at a time (spam). Every line must reach the file: a count other than the
// program's is a FAIL.
func benchLogFile(ctx context.Context, b *bench) ([]row, error) {
	rounds := b.pick(7, 2)
	dir := filepath.Join(b.work, "logfile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	env := b.env()
	cases := []struct {
		measure string
		prog    string
		lines   int
	}{
		{"log to file, one write a line", b.helper("lines1"), b.pick(300000, 50000)},
		{"log to file, 64KiB writes", b.helper("spam"), logLines},
	}
	var rows []row
	for _, tc := range cases {
		out := filepath.Join(dir, "out")
		run := func(name string, prefix string, prog string, args ...string) func() (float64, error) {
			return func() (float64, error) {
				f, err := os.Create(out)
				if err != nil {
					return 0, err
				}
				cmd := b.command(dir, env, prog, args...)
				cmd.Stdout = f
				d, err := b.runTimed(ctx, name, cmd, logsTimeout)
				f.Close()
				if err != nil {
					return 0, err
				}
				if err := checkLogFile(out, tc.lines, prefix); err != nil {
					return 0, fmt.Errorf("%s: %w", name, err)
				}
				return float64(tc.lines) / d.Seconds(), nil
			}
		}
		n := strconv.Itoa(tc.lines)
		fn := &side{name: "fnrun"}
		if b.haveFnrun() {
			fn.run = run("fnrun-"+filepath.Base(tc.prog), filepath.Base(tc.prog)+" | ", b.fnrun, "exec", "-q", "--", tc.prog, n)
		}
		ref := &side{name: "redirect", run: run(filepath.Base(tc.prog), "", tc.prog, n)}
		// prog | prefixer > file: the same bytes as fnrun writes, by the
		// least code that can write them.
		pre := &side{name: "prefixer", run: func() (float64, error) {
			f, err := os.Create(out)
			if err != nil {
				return 0, err
			}
			defer f.Close()
			r, w, err := os.Pipe()
			if err != nil {
				return 0, err
			}
			prog := b.command(dir, env, tc.prog, n)
			prog.Stdout = w
			px := b.command(dir, env, b.helper("prefixer"))
			px.Stdin, px.Stdout = r, f
			t0 := time.Now()
			p1, err1 := b.start("prog", prog)
			p2, err2 := b.start("prefixer", px)
			r.Close()
			w.Close()
			if err := errors.Join(err1, err2); err != nil {
				return 0, err
			}
			for _, p := range []*proc{p1, p2} {
				if err := p.wait(ctx, logsTimeout); err != nil {
					return 0, err
				}
				if p.err != nil {
					return 0, p.failure(p.err)
				}
			}
			d := time.Since(t0)
			if err := checkLogFile(out, tc.lines, "spam | "); err != nil {
				return 0, fmt.Errorf("prefixer: %w", err)
			}
			return float64(tc.lines) / d.Seconds(), nil
		}}
		b.logf("%s: %d rounds of %d lines", tc.measure, rounds, tc.lines)
		rate := func(x float64) string { return fmtRate(x, "lines") }
		if err := b.alternate(rounds, rate, fn, ref, pre); err != nil {
			return rows, err
		}
		f, r, px := median(fn.samples), median(ref.samples), median(pre.samples)
		rows = append(rows, b.withRatio(row{
			measure: tc.measure,
			fnrun:   rate(f), ref: rate(r) + " (prog > file)",
			target: fmt.Sprintf(">= %.2fx", logFileVsRedirect),
			status: verdict(b.haveFnrun(), r > 0 && f/r >= logFileVsRedirect),
			note:   fmt.Sprintf("0 lines lost; prog | prefixer > file %s (%.2fx of prog > file), fnrun %.2fx of it", rate(px), px/r, f/px),
		}, f, r))
	}
	return rows, nil
}

// checkLogFile checks that name holds want lines, each starting with
// prefix and ending in a number.
func checkLogFile(name string, want int, prefix string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix+"line ") {
			return fmt.Errorf("line %d is %q, want %q then a number", n+1, line, prefix+"line ")
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("the file has %d lines, want %d (lost %d)", n, want, want-n)
	}
	return nil
}
