package main

/*
The listen benchmark measures what `fnrun run -r --listen` buys a
per-request function: examples/greeter serves one HTTP call and exits 0,
and fnrun starts it again. Without --listen the greeter binds its port
itself, so a call that arrives between two runs is refused; with --listen
fnrun holds the socket and hands it to every run (systemd socket
activation), so the call waits in the backlog instead. --replicas 4 runs
four copies on the same socket. The ceiling is an ordinary long-running
server answering the same JSON.

All four setups run at once, each on its own port, and stay up for the
whole benchmark; a closed-loop client (listenWorkers workers, a fresh
connection per call) drives one of them at a time for a fixed window,
rotating the order from round to round. A refused call is counted, not
retried: the worker goes straight on to its next call, so without --listen
the refused count is large (a refusal takes microseconds). A call that
connects but gets no answer (reset, empty reply, timeout) counts as failed;
the --listen targets allow neither. Rates are medians
over the windows; refused and failed calls are totals over all of them.

The environment points XDG_RUNTIME_DIR and XDG_STATE_HOME into the work
directory, so the control sockets of these fnrun instances never meet the
user's.
*/

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Listen targets and bounds.
const (
	listenWorkers    = 4
	listenReplicas   = 4
	listenVsServer   = 0.5             // goal: --replicas req/s / the long-running server's
	listenReady      = 3 * time.Minute // the first run builds the greeter into a cold cache
	listenCallTO     = 5 * time.Second // one call
	listenProbeFirst = 10 * time.Millisecond
	listenProbeMax   = 250 * time.Millisecond
)

// listenServer answers like examples/greeter but keeps running.
const listenServer = `package main

import (
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	port := flag.String("port", "8080", "TCP port")
	flag.Parse()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", *port))
	if err != nil {
		panic(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"greeting": "Hello, " + name + "!",
			"pid":      os.Getpid(),
		})
	})
	panic(srv.Serve(ln))
}
`

// callCounts is what a window of calls came to.
type callCounts struct {
	ok, refused, failed int
	lastErr             error // one of the failures, for the note
}

func (c *callCounts) add(o callCounts) {
	c.ok += o.ok
	c.refused += o.refused
	c.failed += o.failed
	if o.lastErr != nil {
		c.lastErr = o.lastErr
	}
}

// listenSetup is one contender: a started process answering on url.
type listenSetup struct {
	side
	measure string
	p       *proc
	url     string
	port    string
	total   callCounts
}

// benchListen measures requests/s and refused calls of the per-request
// greeter without --listen, with --listen, with --listen --replicas 4, and
// of a long-running server.
func benchListen(ctx context.Context, b *bench) ([]row, error) {
	rounds := b.pick(3, 1)
	window := b.pickDur(3*time.Second, time.Second)
	dir := filepath.Join(b.work, "listen")
	rt := filepath.Join(dir, "rt")
	if err := os.MkdirAll(rt, 0o700); err != nil {
		return nil, err
	}
	env := b.env("XDG_RUNTIME_DIR="+rt, "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	if err := writeFiles(filepath.Join(dir, "server"), map[string]string{
		"go.mod": "module example.com/server\n\ngo 1.22\n", "main.go": listenServer,
	}); err != nil {
		return nil, err
	}
	server := filepath.Join(dir, "server-bin")
	if _, err := b.goCmd(ctx, filepath.Join(dir, "server"), env, "build", "-o", server, "."); err != nil {
		return nil, err
	}

	noListen := &listenSetup{measure: "per-request, no --listen", side: side{name: "no-listen"}}
	listen := &listenSetup{measure: "per-request, --listen", side: side{name: "listen"}}
	replicas := &listenSetup{measure: fmt.Sprintf("per-request, --listen --replicas %d", listenReplicas), side: side{name: "replicas"}}
	ceiling := &listenSetup{measure: "long-running server (ceiling)", side: side{name: "server"}}
	setups := []*listenSetup{noListen, listen, replicas, ceiling}
	defer func() {
		for _, s := range setups {
			if s.p != nil {
				s.p.kill()
			}
		}
	}()
	for _, s := range setups {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.port, s.url = port, "http://127.0.0.1:"+port+"/?name=bench"
	}
	addr := func(s *listenSetup) string { return "127.0.0.1:" + s.port }
	greeter := "./examples/greeter"
	starts := map[*listenSetup][]string{
		ceiling: {server, "-port", ceiling.port},
	}
	if b.haveFnrun() {
		starts[noListen] = []string{b.fnrun, "run", "-r", "-q", "--instance", "nolisten", greeter, "--", "-port", noListen.port}
		starts[listen] = []string{b.fnrun, "run", "-r", "-q", "--instance", "listen", "--listen", addr(listen), greeter}
		starts[replicas] = []string{b.fnrun, "run", "-r", "-q", "--instance", "replicas", "--listen", addr(replicas),
			"--replicas", strconv.Itoa(listenReplicas), greeter}
	}
	t0 := time.Now()
	for _, s := range setups {
		args, ok := starts[s]
		if !ok {
			continue
		}
		p, err := b.start("listen-"+s.name, b.command(b.root, env, args[0], args[1:]...))
		if err != nil {
			return nil, err
		}
		s.p = p
	}
	for _, s := range setups {
		if s.p == nil {
			continue
		}
		if err := awaitAnswer(ctx, s.p, s.url); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		s.run = func() (float64, error) {
			if !s.p.running() {
				return 0, s.p.failure(fmt.Errorf("exited (code %d)", s.p.exitCode()))
			}
			c, elapsed, err := callWindow(ctx, s.url, window)
			if err != nil {
				return 0, err
			}
			s.total.add(c)
			return float64(c.ok) / elapsed.Seconds(), nil
		}
	}
	b.logf("listen: every setup answers after %s; %d interleaved windows of %s each, %d workers, fresh connections",
		fmtDur(time.Since(t0)), rounds, window, listenWorkers)
	sides := make([]*side, len(setups))
	for i, s := range setups {
		sides[i] = &s.side
	}
	if err := b.alternate(rounds, func(v float64) string { return fmtRate(v, "req") }, sides...); err != nil {
		return nil, err
	}

	// Stop everything like Ctrl-C would, then check that nothing still
	// answers on the ports.
	var stopNotes []string
	for _, s := range setups {
		if s.p == nil {
			continue
		}
		if s == ceiling {
			s.p.kill()
			continue
		}
		code, err := s.p.interrupt()
		if err != nil {
			return nil, err
		}
		if code != 130 {
			stopNotes = appendOnce(stopNotes, fmt.Sprintf("fnrun run exited %d after SIGINT, want 130", code))
		}
	}
	for _, s := range setups {
		if s.p == nil {
			continue
		}
		if c, err := net.DialTimeout("tcp", addr(s), time.Second); err == nil {
			c.Close()
			stopNotes = append(stopNotes, fmt.Sprintf("%s: port %s still accepts after stop", s.name, s.port))
		}
	}

	for _, s := range setups {
		if s.p != nil {
			b.logf("  %-9s %d answered, %d refused, %d failed", s.name, s.total.ok, s.total.refused, s.total.failed)
		}
	}
	ref := median(ceiling.samples)
	refText := fmtRate(ref, "req") + " (server)"
	rows := make([]row, 0, len(setups))
	for _, s := range setups[:3] {
		r := row{measure: s.measure, ref: refText, status: statusInfo}
		rate := median(s.samples)
		if b.haveFnrun() {
			r.fnrun = fmt.Sprintf("%d refused, %d failed, %s", s.total.refused, s.total.failed, fmtRate(rate, "req"))
			r.note = s.total.describe()
		}
		if s != noListen {
			r.target = "0 refused, 0 failed"
			r.status = verdict(b.haveFnrun(), s.total.refused == 0 && s.total.failed == 0)
		}
		if s == replicas {
			r.target += fmt.Sprintf(" (goal >= %.2fx)", listenVsServer)
			if b.haveFnrun() && ref > 0 {
				met := "meets"
				if rate/ref < listenVsServer {
					met = "below"
				}
				r.note = joinNotes([]string{fmt.Sprintf("%s of the server's rate: %s the %.2fx goal", fmtRatio(rate, ref), met, listenVsServer), r.note})
			}
		}
		rows = append(rows, b.withRatio(r, rate, ref))
	}
	ceilRow := row{measure: ceiling.measure, ref: fmtRate(ref, "req"), status: statusInfo, note: ceiling.total.describe()}
	ceilRow.note = joinNotes(append([]string{ceilRow.note}, stopNotes...))
	return append(rows, ceilRow), nil
}

// describe summarizes c for a row's note.
func (c callCounts) describe() string {
	s := fmt.Sprintf("%d answered, %d refused, %d failed", c.ok, c.refused, c.failed)
	if c.failed > 0 && c.lastErr != nil {
		s += ": " + c.lastErr.Error()
	}
	return s
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// awaitAnswer calls url, backing off between tries, until it answers;
// refused calls are expected while p starts. It fails when p exits or
// after listenReady.
func awaitAnswer(ctx context.Context, p *proc, url string) error {
	client := newCallClient()
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(listenReady)
	delay := listenProbeFirst
	var last error
	for {
		if !p.running() {
			return p.failure(fmt.Errorf("exited before answering (code %d)", p.exitCode()))
		}
		last = call(ctx, client, url)
		if last == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return p.failure(fmt.Errorf("no answer from %s after %s: %w", url, listenReady, last))
		}
		if err := sleepCtx(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, listenProbeMax)
	}
}

// callWindow runs listenWorkers workers that call url one after the other
// until window has passed, and returns the counts and the time until the
// last call ended.
func callWindow(ctx context.Context, url string, window time.Duration) (callCounts, time.Duration, error) {
	client := newCallClient()
	defer client.CloseIdleConnections()
	t0 := time.Now()
	end := t0.Add(window)
	counts := make([]callCounts, listenWorkers)
	var wg sync.WaitGroup
	for i := range counts {
		c := &counts[i]
		wg.Go(func() {
			for time.Now().Before(end) && ctx.Err() == nil {
				switch err := call(ctx, client, url); {
				case err == nil:
					c.ok++
				case errors.Is(err, syscall.ECONNREFUSED):
					c.refused++
				default:
					c.failed++
					c.lastErr = err
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if err := ctx.Err(); err != nil {
		return callCounts{}, 0, err
	}
	var total callCounts
	for _, c := range counts {
		total.add(c)
	}
	return total, elapsed, nil
}

// newCallClient makes a client that opens a fresh connection for every call.
func newCallClient() *http.Client {
	return &http.Client{
		Timeout:   listenCallTO,
		Transport: &http.Transport{DisableKeepAlives: true}, // no Proxy: straight to 127.0.0.1
	}
}

// call makes one GET and checks that it is a greeting.
func call(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("GET %s: read the body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"greeting"`) {
		return fmt.Errorf("GET %s: %s: %q", url, resp.Status, firstLine(string(body)))
	}
	return nil
}
