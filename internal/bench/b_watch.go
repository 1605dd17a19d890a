package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Watch timings.
const (
	watchOverBuild  = 150 * time.Millisecond // latency <= go build + this
	watchFirstBuild = 3 * time.Minute        // first build of the watched module
	watchChange     = time.Minute            // one rebuild and restart
	watchSettle     = 300 * time.Millisecond // quiet time after each restart
)

// benchWatch measures `fnrun run -w`: the time from rewriting main.go to the
// new version's first line on fnrun's stdout, against the time `go build`
// takes for the same kind of change in a twin module (same GOCACHE).
// Every source carries a per-run nonce so that no build is a cache hit left
// over from an earlier bench.
func benchWatch(ctx context.Context, b *bench) ([]row, error) {
	changes := b.pick(5, 2)
	dir := filepath.Join(b.work, "watch")
	app, ref := filepath.Join(dir, "app"), filepath.Join(dir, "ref")
	nonce := randomHex()
	env := b.env("GOWORK=off")
	for _, d := range []string{app, ref} {
		if err := writeFiles(d, map[string]string{"go.mod": "module watchdemo\n\ngo 1.22\n", "main.go": watchSource(0, nonce)}); err != nil {
			return nil, err
		}
	}
	if _, err := b.goCmd(ctx, ref, env, "build", "-trimpath", "-o", filepath.Join(dir, "out", "ref-0"), "."); err != nil {
		return nil, err
	}

	fn := &side{name: "fnrun"}
	if b.haveFnrun() {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		defer r.Close()
		cmd := b.command(dir, env, b.fnrun, "run", "-w", "-q", "--no-prefix", app)
		cmd.Stdout = w
		p, err := b.start("fnrun-watch", cmd)
		w.Close()
		if err != nil {
			return nil, err
		}
		defer p.kill()
		lines := readLines(r)
		if _, err := waitLine(ctx, p, lines, "version 0", watchFirstBuild); err != nil {
			return nil, err
		}
		i := 0
		fn.run = func() (float64, error) {
			i++
			if err := sleepCtx(ctx, watchSettle); err != nil {
				return 0, err
			}
			t0 := time.Now()
			if err := os.WriteFile(filepath.Join(app, "main.go"), []byte(watchSource(i, "fnrun-"+nonce)), 0o644); err != nil {
				return 0, err
			}
			at, err := waitLine(ctx, p, lines, fmt.Sprintf("version %d", i), watchChange)
			if err != nil {
				return 0, err
			}
			return at.Sub(t0).Seconds(), nil
		}
	}
	j := 0
	build := &side{name: "go build", run: func() (float64, error) {
		j++
		if err := os.WriteFile(filepath.Join(ref, "main.go"), []byte(watchSource(j, "ref-"+nonce)), 0o644); err != nil {
			return 0, err
		}
		out := filepath.Join(dir, "out", fmt.Sprintf("ref-%d", j))
		d, err := b.runTimed(ctx, "go-build", b.command(ref, env, "go", "build", "-trimpath", "-o", out, "."), watchChange)
		return d.Seconds(), err
	}}

	b.logf("watch: %d changes, interleaved with go build of the same change", changes)
	if err := b.alternate(changes, fmtMS, fn, build); err != nil {
		return nil, err
	}
	f, g := median(fn.samples), median(build.samples)
	r := row{
		measure: "change to restart",
		fnrun:   fmtMS(f), ref: fmtMS(g) + " (go build)",
		target: "<= build+150ms",
		status: verdict(b.haveFnrun(), f <= g+watchOverBuild.Seconds()),
	}
	if b.haveFnrun() {
		r.note = fmt.Sprintf("latency - build = %+.1fms", (f-g)*1000)
	}
	return []row{b.withRatio(r, f, g)}, nil
}

// watchSource is the watched program at version n.
func watchSource(n int, nonce string) string {
	return fmt.Sprintf(`// Change %d of bench run %s.
package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("version %d")
	time.Sleep(time.Hour)
}
`, n, nonce, n)
}

// stampedLine is a line of output and when the bench read it.
type stampedLine struct {
	text string
	at   time.Time
}

// readLines scans r in a goroutine; the channel closes at EOF.
func readLines(r *os.File) <-chan stampedLine {
	ch := make(chan stampedLine, 1024)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- stampedLine{sc.Text(), time.Now()}
		}
	}()
	return ch
}

// waitLine waits for the line want, skipping others, and returns when it
// was read.
func waitLine(ctx context.Context, p *proc, lines <-chan stampedLine, want string, timeout time.Duration) (time.Time, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				p.wait(ctx, 5*time.Second)
				return time.Time{}, p.failure(fmt.Errorf("stdout closed before %q (exit code %d)", want, p.exitCode()))
			}
			if l.text == want {
				return l.at, nil
			}
		case <-t.C:
			return time.Time{}, p.failure(fmt.Errorf("no %q within %s", want, timeout))
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

func randomHex() string {
	var buf [6]byte
	rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}
