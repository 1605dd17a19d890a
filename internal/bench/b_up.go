package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// `fnrun up` targets.
const (
	upVsScript    = 1.5       // fnrun up / a shell script starting the binaries
	upRSSTarget   = 20 << 20  // bytes, fnrun supervising 10 programs
	upRSSPerEntry = 512 << 10 // bytes per entry beyond 10 (issue 15)
	upFirstLineTO = time.Minute
)

// upSizes are the systems measured: issue 11's 10 entries and issue 15's 50.
var upSizes = []int{10, 50}

// upService prints its name once and then sleeps: "first line" is the
// moment a service is up.
const upService = `package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Println("up", os.Args[1])
	time.Sleep(24 * time.Hour)
}
`

// benchUp runs benchUpOf for each of upSizes and adds the memory each
// entry beyond the first size costs.
func benchUp(ctx context.Context, b *bench) ([]row, error) {
	var rows []row
	var rss []float64
	for _, size := range upSizes {
		got, r, err := benchUpOf(ctx, b, size)
		rows = append(rows, got...)
		if err != nil {
			return rows, err
		}
		rss = append(rss, r)
	}
	if b.haveFnrun() && len(rss) == 2 && rss[0] > 0 && rss[1] > 0 {
		per := (rss[1] - rss[0]) / float64(upSizes[1]-upSizes[0])
		rows = append(rows, row{
			measure: fmt.Sprintf("RSS per entry, %d vs %d", upSizes[1], upSizes[0]),
			fnrun:   fmt.Sprintf("%.0fkB", per/1024), target: fmt.Sprintf("<= %dkB", upRSSPerEntry>>10),
			status: verdict(true, per <= upRSSPerEntry),
		})
	}
	return rows, nil
}

// benchUpOf compares `fnrun up` of upEntries cached entries with a shell
// script that starts the same binaries directly: the time from launch until
// all of them printed their first line. It also reads fnrun's RSS while it
// supervises them, idleSettle after they all started (the median of the
// rounds), and returns it.
func benchUpOf(ctx context.Context, b *bench, upEntries int) ([]row, float64, error) {
	n := b.pick(9, 3)
	timeRow := row{measure: fmt.Sprintf("up of %d, to all first lines", upEntries), target: fmt.Sprintf("<= %.1fx", upVsScript)}
	rssRow := row{measure: fmt.Sprintf("RSS supervising %d", upEntries)}
	rssLimit := int64(upRSSTarget + (upEntries-10)*upRSSPerEntry)
	rssRow.target = "<= " + fmtMB(float64(rssLimit))
	dir := filepath.Join(b.work, fmt.Sprintf("up%d", upEntries))
	var yaml strings.Builder
	yaml.WriteString("functions:\n")
	var script strings.Builder
	for i := 1; i <= upEntries; i++ {
		fmt.Fprintf(&yaml, "  s%d:\n    source: ./svc\n    args: [s%d]\n", i, i)
	}
	if err := writeFiles(dir, map[string]string{
		"fnrun.yaml": yaml.String(), "svc/go.mod": "module example.com/svc\n\ngo 1.22\n", "svc/main.go": upService,
	}); err != nil {
		return nil, 0, err
	}
	env := b.env()
	var binary string
	if b.haveFnrun() {
		out, err := b.output(ctx, dir, env, b.fnrun, "build", "./svc") // fills the cache
		if err != nil {
			return nil, 0, err
		}
		binary = lastLine(out)
	} else {
		binary = filepath.Join(dir, "svc-bin")
		if _, err := b.goCmd(ctx, filepath.Join(dir, "svc"), env, "build", "-o", binary, "."); err != nil {
			return nil, 0, err
		}
	}
	// Background jobs of a non-interactive shell ignore SIGINT: the trap
	// takes the whole group down with the shell.
	script.WriteString("trap 'kill 0' INT TERM; ")
	for i := 1; i <= upEntries; i++ {
		fmt.Fprintf(&script, "%s s%d & ", binary, i)
	}
	script.WriteString("wait")

	var rss []float64
	// firstLines starts cmd and returns the time until upEntries "up"
	// lines arrived on its stdout; then it stops cmd's group.
	firstLines := func(name string, mk func() *exec.Cmd, measureRSS bool) func() (float64, error) {
		return func() (float64, error) {
			cmd := mk()
			out, err := cmd.StdoutPipe()
			if err != nil {
				return 0, err
			}
			t0 := time.Now()
			p, err := b.start(name, cmd)
			if err != nil {
				return 0, err
			}
			defer p.kill()
			lines := make(chan struct{}, upEntries)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if strings.Contains(sc.Text(), "up s") {
						lines <- struct{}{}
					}
				}
			}()
			deadline := time.NewTimer(upFirstLineTO)
			defer deadline.Stop()
			for seen := 0; seen < upEntries; seen++ {
				select {
				case <-lines:
				case <-deadline.C:
					return 0, p.failure(fmt.Errorf("%d of %d first lines after %s", seen, upEntries, upFirstLineTO))
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}
			elapsed := time.Since(t0).Seconds()
			if measureRSS {
				if err := sleepCtx(ctx, idleSettle); err != nil {
					return 0, err
				}
				if v, err := readRSS(cmd.Process.Pid); err == nil {
					rss = append(rss, float64(v))
				}
			}
			if _, err := p.interrupt(); err != nil {
				return 0, err
			}
			return elapsed, nil
		}
	}
	fn := &side{name: "fnrun"}
	if b.haveFnrun() {
		fn.run = firstLines("fnrun-up", func() *exec.Cmd { return b.command(dir, env, b.fnrun, "up", "-q") }, true)
	}
	sh := &side{name: "script", run: firstLines("script", func() *exec.Cmd { return b.command(dir, env, "sh", "-c", script.String()) }, false)}
	b.logf("up: %d interleaved rounds each", n)
	if err := b.alternate(n, fmtMS, fn, sh); err != nil {
		return nil, 0, err
	}
	f, s := median(fn.samples), median(sh.samples)
	timeRow.fnrun, timeRow.ref = fmtMS(f), fmtMS(s)+" (sh script)"
	timeRow.status = verdict(b.haveFnrun(), s > 0 && f/s <= upVsScript)
	timeRow = b.withRatio(timeRow, f, s)
	m := median(rss)
	if b.haveFnrun() {
		rssRow.fnrun = fmtMB(m)
		rssRow.status = verdict(m > 0, m <= float64(rssLimit))
	} else {
		rssRow.fnrun, rssRow.status = "unavailable", statusUnavailable
	}
	if _, err := os.Stat(binary); err != nil {
		return nil, 0, err
	}
	return []row{timeRow, rssRow}, m, nil
}
