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
	upEntries     = 10
	upVsScript    = 1.5      // fnrun up / a shell script starting the binaries
	upRSSTarget   = 20 << 20 // bytes, fnrun supervising upEntries programs
	upFirstLineTO = time.Minute
)

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

// benchUp compares `fnrun up` of upEntries cached entries with a shell
// script that starts the same binaries directly: the time from launch until
// all of them printed their first line. It also reads fnrun's RSS while it
// supervises them.
func benchUp(ctx context.Context, b *bench) ([]row, error) {
	n := b.pick(9, 3)
	timeRow := row{measure: fmt.Sprintf("up of %d, to all first lines", upEntries), target: fmt.Sprintf("<= %.1fx", upVsScript)}
	rssRow := row{measure: fmt.Sprintf("RSS supervising %d", upEntries), target: "<= 20MB"}
	dir := filepath.Join(b.work, "up")
	var yaml strings.Builder
	yaml.WriteString("functions:\n")
	var script strings.Builder
	for i := 1; i <= upEntries; i++ {
		fmt.Fprintf(&yaml, "  s%d:\n    source: ./svc\n    args: [s%d]\n", i, i)
	}
	if err := writeFiles(dir, map[string]string{
		"fnrun.yaml": yaml.String(), "svc/go.mod": "module example.com/svc\n\ngo 1.22\n", "svc/main.go": upService,
	}); err != nil {
		return nil, err
	}
	env := b.env()
	var binary string
	if b.haveFnrun() {
		out, err := b.output(ctx, dir, env, b.fnrun, "build", "./svc") // fills the cache
		if err != nil {
			return nil, err
		}
		binary = lastLine(out)
	} else {
		binary = filepath.Join(dir, "svc-bin")
		if _, err := b.goCmd(ctx, filepath.Join(dir, "svc"), env, "build", "-o", binary, "."); err != nil {
			return nil, err
		}
	}
	// Background jobs of a non-interactive shell ignore SIGINT: the trap
	// takes the whole group down with the shell.
	script.WriteString("trap 'kill 0' INT TERM; ")
	for i := 1; i <= upEntries; i++ {
		fmt.Fprintf(&script, "%s s%d & ", binary, i)
	}
	script.WriteString("wait")

	var rss int64
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
				if v, err := readRSS(cmd.Process.Pid); err == nil {
					rss = max(rss, v)
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
		return nil, err
	}
	f, s := median(fn.samples), median(sh.samples)
	timeRow.fnrun, timeRow.ref = fmtMS(f), fmtMS(s)+" (sh script)"
	timeRow.status = verdict(b.haveFnrun(), s > 0 && f/s <= upVsScript)
	timeRow = b.withRatio(timeRow, f, s)
	if b.haveFnrun() {
		rssRow.fnrun = fmtMB(float64(rss))
		rssRow.status = verdict(rss > 0, rss <= upRSSTarget)
	} else {
		rssRow.fnrun, rssRow.status = "unavailable", statusUnavailable
	}
	if _, err := os.Stat(binary); err != nil {
		return nil, err
	}
	return []row{timeRow, rssRow}, nil
}
