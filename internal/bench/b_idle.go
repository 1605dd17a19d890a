package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Idle targets.
const (
	idleRSSTarget = 15 << 20 // bytes
	idleCPUTarget = 20.0     // ms over the window
	idleSettle    = time.Second
)

// benchIdle measures what fnrun costs while its program sleeps: its RSS
// after idleSettle and the CPU time it uses over a quiet window. The
// reference column shows the same figures for the sleeping program itself
// (a minimal Go binary), for scale; the targets are absolute.
func benchIdle(ctx context.Context, b *bench) ([]row, error) {
	window := b.pickDur(10*time.Second, 2*time.Second)
	rssRow := row{measure: "idle RSS", target: "<= 15MB"}
	cpuRow := row{measure: fmt.Sprintf("idle CPU / %s", window), target: "< 20ms"}
	if !b.haveFnrun() {
		rssRow.fnrun, rssRow.status = "unavailable", statusUnavailable
		cpuRow.fnrun, cpuRow.status = "unavailable", statusUnavailable
		return []row{rssRow, cpuRow}, nil
	}
	dir := filepath.Join(b.work, "idle")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cmd := b.command(dir, b.env(), b.fnrun, "exec", "-q", "--", b.helper("sleeper"))
	p, err := b.start("fnrun-idle", cmd)
	if err != nil {
		return nil, err
	}
	defer p.kill()
	if err := sleepCtx(ctx, idleSettle); err != nil {
		return nil, err
	}
	if !p.running() {
		return nil, p.failure(fmt.Errorf("exited early (code %d)", p.exitCode()))
	}
	pid := p.cmd.Process.Pid
	rss, err := readRSS(pid)
	if err != nil {
		return nil, fmt.Errorf("read fnrun RSS: %w", err)
	}
	var child *procStat
	if kids := childrenOf(pid); len(kids) == 1 {
		child = &kids[0]
	} else {
		cpuRow.note = fmt.Sprintf("fnrun has %d children, want 1 (the sleeper)", len(kids))
	}
	st0, err := readStat(pid)
	if err != nil {
		return nil, fmt.Errorf("read fnrun CPU time: %w", err)
	}
	var c0 procStat
	if child != nil {
		c0, _ = readStat(child.pid)
	}
	b.logf("idle: fnrun pid %d, RSS %s; measuring CPU over %s", pid, fmtMB(float64(rss)), window)
	if err := sleepCtx(ctx, window); err != nil {
		return nil, err
	}
	if !p.running() {
		return nil, p.failure(fmt.Errorf("exited during the window (code %d)", p.exitCode()))
	}
	st1, err := readStat(pid)
	if err != nil {
		return nil, fmt.Errorf("read fnrun CPU time: %w", err)
	}
	cpuMS := float64(st1.ticks-st0.ticks) * 1000 / clockTicksPerSecond
	if child != nil {
		if crss, err := readRSS(child.pid); err == nil {
			rssRow.ref = fmtMB(float64(crss)) + " (sleeper)"
			rssRow.ratio = fmtRatio(float64(rss), float64(crss))
		}
		if c1, err := readStat(child.pid); err == nil {
			cpuRow.ref = fmt.Sprintf("%.0fms (sleeper)", float64(c1.ticks-c0.ticks)*1000/clockTicksPerSecond)
		}
	}
	code, err := p.interrupt()
	if err != nil {
		return nil, err
	}
	if code != 130 {
		cpuRow.note = joinNotes([]string{cpuRow.note, fmt.Sprintf("fnrun exited %d after SIGINT, want 130", code)})
	}
	rssRow.fnrun = fmtMB(float64(rss))
	rssRow.status = verdict(true, rss <= idleRSSTarget)
	cpuRow.fnrun = fmt.Sprintf("%.0fms", cpuMS)
	cpuRow.status = verdict(true, cpuMS < idleCPUTarget)
	return []row{rssRow, cpuRow}, nil
}
