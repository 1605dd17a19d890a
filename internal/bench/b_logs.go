package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// logsTimeout bounds one pass of 1,000,000 lines.
const logsTimeout = 2 * time.Minute

// benchLogs compares the line throughput of `fnrun exec -q -- spam` (prefix
// on) with `spam | cat`; the bench reads and counts every line on the last
// stdout pipe in both cases, and a count other than logLines is a FAIL.
func benchLogs(ctx context.Context, b *bench) ([]row, error) {
	rounds := b.pick(5, 1) // one pass is short: take more of them
	dir := filepath.Join(b.work, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	spam := b.helper("spam")
	env := b.env()
	var notes []string

	fn := &side{name: "fnrun"}
	if b.haveFnrun() {
		fn.run = func() (float64, error) {
			r, w, err := os.Pipe()
			if err != nil {
				return 0, err
			}
			defer r.Close()
			cmd := b.command(dir, env, b.fnrun, "exec", "-q", "--", spam)
			cmd.Stdout = w
			t0 := time.Now()
			p, err := b.start("fnrun-logs", cmd)
			w.Close()
			if err != nil {
				return 0, err
			}
			defer p.kill()
			n, first, err := countLines(ctx, r)
			elapsed := time.Since(t0)
			if err != nil {
				return 0, p.failure(fmt.Errorf("read its stdout: %w", err))
			}
			if err := p.wait(ctx, logsTimeout); err != nil {
				return 0, err
			}
			if p.err != nil {
				return 0, p.failure(p.err)
			}
			if n != logLines {
				return 0, p.failure(fmt.Errorf("printed %d lines, want %d", n, logLines))
			}
			if want := "spam | line 100000"; first != want {
				notes = appendOnce(notes, fmt.Sprintf("first line %q, want %q", first, want))
			}
			return logLines / elapsed.Seconds(), nil
		}
	}
	cat := &side{name: "cat", run: func() (float64, error) {
		r1, w1, err := os.Pipe() // spam → cat
		if err != nil {
			return 0, err
		}
		r2, w2, err := os.Pipe() // cat → bench
		if err != nil {
			r1.Close()
			w1.Close()
			return 0, err
		}
		defer r2.Close()
		spamCmd := b.command(dir, env, spam)
		spamCmd.Stdout = w1
		catCmd := b.command(dir, env, "cat")
		catCmd.Stdin, catCmd.Stdout = r1, w2
		t0 := time.Now()
		ps, err1 := b.start("spam", spamCmd)
		pc, err2 := b.start("cat", catCmd)
		w1.Close()
		r1.Close()
		w2.Close()
		if err := errors.Join(err1, err2); err != nil {
			return 0, err
		}
		defer ps.kill()
		defer pc.kill()
		n, _, err := countLines(ctx, r2)
		elapsed := time.Since(t0)
		if err != nil {
			return 0, pc.failure(fmt.Errorf("read its stdout: %w", err))
		}
		for _, p := range []*proc{ps, pc} {
			if err := p.wait(ctx, logsTimeout); err != nil {
				return 0, err
			}
			if p.err != nil {
				return 0, p.failure(p.err)
			}
		}
		if n != logLines {
			return 0, pc.failure(fmt.Errorf("printed %d lines, want %d", n, logLines))
		}
		return logLines / elapsed.Seconds(), nil
	}}

	b.logf("log throughput: %d rounds of %d lines", rounds, logLines)
	rate := func(x float64) string { return fmtRate(x, "lines") }
	if err := b.alternate(rounds, rate, fn, cat); err != nil {
		return nil, err
	}
	f, c := median(fn.samples), median(cat.samples)
	r := row{
		measure: "log lines",
		fnrun:   rate(f), ref: rate(c) + " (cat)",
		target: ">= 0.50x",
		status: verdict(b.haveFnrun(), c > 0 && f/c >= 0.5),
		note:   joinNotes(notes),
	}
	return []row{b.withRatio(r, f, c)}, nil
}

// countLines reads r to EOF and returns the number of lines and the first
// one. It gives up after logsTimeout or when ctx is done.
func countLines(ctx context.Context, r *os.File) (int, string, error) {
	stop := context.AfterFunc(ctx, func() { r.SetReadDeadline(time.Now()) })
	defer stop()
	if err := r.SetReadDeadline(time.Now().Add(logsTimeout)); err != nil {
		return 0, "", err
	}
	buf := make([]byte, 256<<10)
	var n int
	var first []byte
	firstDone := false
	for {
		k, err := r.Read(buf)
		chunk := buf[:k]
		if !firstDone && k > 0 {
			if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
				first = append(first, chunk[:i]...)
				firstDone = true
			} else {
				first = append(first, chunk...)
			}
		}
		n += bytes.Count(chunk, []byte{'\n'})
		if err == io.EOF {
			return n, string(first), nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return n, string(first), ctx.Err()
			}
			return n, string(first), err
		}
	}
}
