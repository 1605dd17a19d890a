package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// restartWarmup is how long a restart loop runs before its window opens, so
// that start-up cost stays out of the rate.
const restartWarmup = 300 * time.Millisecond

// benchRestart compares fnrun's restart rate of a program that exits at once
// with a shell loop's: `fnrun exec -r --backoff-initial 0 -q -- exit0` vs
// `sh -c 'while :; do exit0; done'`. Each exit0 run appends one byte to a
// file, so runs in a window = growth of the file.
func benchRestart(ctx context.Context, b *bench) ([]row, error) {
	window := b.pickDur(3*time.Second, time.Second)
	rounds := b.pick(3, 1)
	dir := filepath.Join(b.work, "restart")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	count := filepath.Join(dir, "count")
	env := b.env("COUNT_FILE=" + count)
	exit0 := b.helper("exit0")
	var notes []string

	measure := func(name string, cmd *exec.Cmd, stop func(*proc) error) (float64, error) {
		if err := os.Remove(count); err != nil && !os.IsNotExist(err) {
			return 0, err
		}
		p, err := b.start(name, cmd)
		if err != nil {
			return 0, err
		}
		defer p.kill()
		if err := sleepCtx(ctx, restartWarmup); err != nil {
			return 0, err
		}
		n0, t0 := fileSize(count), time.Now()
		if err := sleepCtx(ctx, window); err != nil {
			return 0, err
		}
		n1, t1 := fileSize(count), time.Now()
		if !p.running() {
			return 0, p.failure(fmt.Errorf("exited during the window (code %d)", p.exitCode()))
		}
		if err := stop(p); err != nil {
			return 0, err
		}
		return float64(n1-n0) / t1.Sub(t0).Seconds(), nil
	}

	fn := &side{name: "fnrun"}
	if b.haveFnrun() {
		fn.run = func() (float64, error) {
			cmd := b.command(dir, env, b.fnrun, "exec", "-r", "--backoff-initial", "0", "-q", "--", exit0)
			return measure("fnrun-restart", cmd, func(p *proc) error {
				code, err := p.interrupt()
				if err != nil {
					return err
				}
				if code != 130 {
					notes = appendOnce(notes, fmt.Sprintf("fnrun exited %d after SIGINT, want 130", code))
				}
				return nil
			})
		}
	}
	shell := &side{name: "shell", run: func() (float64, error) {
		cmd := b.command(dir, env, "sh", "-c", "while :; do "+shellQuote(exit0)+"; done")
		return measure("shell-restart", cmd, func(p *proc) error { p.kill(); return nil })
	}}

	b.logf("restart rate: %d rounds of %s windows", rounds, window)
	rate := func(x float64) string { return fmtRate(x, "runs") }
	if err := b.alternate(rounds, rate, fn, shell); err != nil {
		return nil, err
	}
	f, s := median(fn.samples), median(shell.samples)
	r := row{
		measure: "restart rate",
		fnrun:   rate(f), ref: rate(s) + " (sh)",
		target: ">= 0.80x",
		status: verdict(b.haveFnrun(), s > 0 && f/s >= 0.8),
		note:   joinNotes(notes),
	}
	return []row{b.withRatio(r, f, s)}, nil
}

func fileSize(name string) int64 {
	fi, err := os.Stat(name)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func shellQuote(s string) string {
	out := "'"
	for _, c := range s {
		if c == '\'' {
			out += `'\''`
		} else {
			out += string(c)
		}
	}
	return out + "'"
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func joinNotes(notes []string) string {
	out := ""
	for _, n := range notes {
		if n == "" {
			continue
		}
		if out != "" {
			out += "; "
		}
		out += n
	}
	return out
}
