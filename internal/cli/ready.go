package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/runner"
)

/*
Readiness and smoke tests (issue 6). A run is ready when every check given
has passed: a line of its output matches --ready-log, an HTTP GET of
--ready-url answers 2xx, a TCP connection to --ready-tcp is accepted. URL and
TCP checks are polled with a short, growing interval (10 ms doubling to
500 ms); the log check waits on the output itself. Each run gets its own
checker, started on the "started" event and cancelled on "exited".

--smoke runs once: ready → graceful stop → exit 0. Not ready within
--ready-timeout, or exited before ready → exit 1 with one line saying which
and the last lines of output. Without any check, --smoke waits for the program
to finish on its own within --ready-timeout (a CI job): a clean exit (or an
--expect-exit code) passes.
*/

// DefaultReadyTimeout bounds how long a run may take to become ready.
const DefaultReadyTimeout = 30 * time.Second

const catReady = "Readiness and CI"

var (
	errSmokeReady = errors.New("smoke test passed")
	errNotReady   = errors.New("not ready in time")
)

func readyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "ready-log", EnvVars: envVar("READY_LOG"), Category: catReady,
			Usage: "ready when a line of output matches `REGEX`"},
		&cli.StringFlag{Name: "ready-url", EnvVars: envVar("READY_URL"), Category: catReady,
			Usage: "ready when an HTTP GET of `URL` answers 2xx"},
		&cli.StringFlag{Name: "ready-tcp", EnvVars: envVar("READY_TCP"), Category: catReady,
			Usage: "ready when `HOST:PORT` accepts a connection"},
		&cli.DurationFlag{Name: "ready-timeout", Value: DefaultReadyTimeout, EnvVars: envVar("READY_TIMEOUT"), Category: catReady,
			Usage: "give each run up to `D` to become ready"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "smoke", EnvVars: envVar("SMOKE"), Category: catReady,
			Usage: "run once; when ready, stop it and exit 0; not ready or exited early → exit 1"},
		&cli.IntSliceFlag{Name: "expect-exit", EnvVars: envVar("EXPECT_EXIT"), Category: catReady,
			Usage: "exit code `N` counts as success (repeatable)"},
		&cli.StringFlag{Name: "report", EnvVars: envVar("REPORT"), Category: catReady,
			Usage: "write a JSON summary to `FILE` at the end (- for stdout)"},
	}
}

// readiness watches runs for readiness; it also keeps the last lines of
// output and the run records for the report. Its methods are called from the
// supervisor (events) and the output readers (lines): it is safe for
// concurrent use.
type readiness struct {
	logRe   *regexp.Regexp
	url     string
	tcp     string
	timeout time.Duration
	smoke   bool
	expect  map[int]bool
	log     interface {
		Info(string, ...any)
		Warn(string, ...any)
	}
	stop context.CancelCauseFunc // ends the whole supervision

	name string // the program's name, for messages

	mu       sync.Mutex
	waiting  string            // the check a run is waiting on, and its last result
	runs     runLog            // finished runs
	cur      *RunRecord        // the run in progress
	tail     [tailLines][]byte // ring of the last lines of output
	tailN    int               // lines seen; tail[tailN%tailLines] is the oldest when full
	matched  chan struct{}
	isMatch  bool
	cancelRn context.CancelFunc
	ctx      context.Context
}

// RunRecord is one run in the --report JSON.
type RunRecord struct {
	Run        int            `json:"run"`
	PID        int            `json:"pid"`
	Start      time.Time      `json:"start"`
	End        *time.Time     `json:"end,omitempty"`
	ExitCode   *int           `json:"exit_code,omitempty"`
	Signal     string         `json:"signal,omitempty"`
	UptimeMS   *float64       `json:"uptime_ms,omitempty"`
	ReadyMS    *float64       `json:"ready_ms,omitempty"`
	signalNum  syscall.Signal `json:"-"`
	notReadyIn bool
}

const tailLines = 20

func (r *readiness) checks() bool { return r.logRe != nil || r.url != "" || r.tcp != "" }

// newReadiness reads and validates the readiness, smoke, expect-exit flags.
func newReadiness(c *cli.Context) (*readiness, error) {
	r := &readiness{
		url: c.String("ready-url"), tcp: c.String("ready-tcp"),
		timeout: c.Duration("ready-timeout"), smoke: c.Bool("smoke"),
		expect: map[int]bool{},
	}
	if re := c.String("ready-log"); re != "" {
		var err error
		if r.logRe, err = regexp.Compile(re); err != nil {
			return nil, usageError("--ready-log: %v", err)
		}
	}
	if r.url != "" {
		u, err := url.Parse(r.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usageError("--ready-url %q: want an http:// or https:// URL", r.url)
		}
	}
	if r.tcp != "" {
		host, port, err := net.SplitHostPort(r.tcp)
		if err != nil || host == "" {
			return nil, usageError("--ready-tcp %q: want HOST:PORT", r.tcp)
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return nil, usageError("--ready-tcp %q: bad port", r.tcp)
		}
	}
	if r.timeout <= 0 {
		return nil, usageError("--ready-timeout must be positive")
	}
	for _, n := range c.IntSlice("expect-exit") {
		if n < 0 || n > 255 {
			return nil, usageError("--expect-exit %d: want 0-255", n)
		}
		r.expect[n] = true
	}
	return r, nil
}

// install hooks r into the supervisor's options.
func (r *readiness) install(ctx context.Context, o *runner.Options, stop context.CancelCauseFunc) {
	r.ctx, r.stop = ctx, stop
	next := o.OnEvent
	o.OnEvent = func(e runner.Event) {
		r.event(e)
		if next != nil {
			next(e)
		}
	}
	if r.logRe != nil || r.smoke {
		// Only when needed: the hook costs a lock per line of output.
		o.OnLine = r.line
	}
	if r.smoke {
		o.Policy = runner.PolicyNever
	}
}

func (r *readiness) line(_ runner.Stream, line []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.tailN % tailLines
	r.tail[i] = append(r.tail[i][:0], line[:min(len(line), 512)]...)
	r.tailN++
	if r.logRe != nil && !r.isMatch && r.matched != nil && r.logRe.Match(line) {
		r.isMatch = true
		close(r.matched)
	}
}

func (r *readiness) event(e runner.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case runner.EventStarted:
		rec := &RunRecord{Run: e.Run, PID: e.PID, Start: e.Time}
		r.cur = rec
		r.matched, r.isMatch = make(chan struct{}), false
		ctx, cancel := context.WithCancel(r.ctx)
		r.cancelRn = cancel
		go r.check(ctx, rec, r.matched)
	case runner.EventExited:
		if r.cancelRn != nil {
			r.cancelRn()
		}
		if rec := r.cur; rec != nil {
			r.cur = nil
			defer func() { r.runs.add(*rec) }()
			end := e.Time
			up := float64(e.Uptime) / float64(time.Millisecond)
			rec.End, rec.UptimeMS = &end, &up
			if e.Signal != 0 {
				rec.Signal = runner.SignalName(e.Signal)
				rec.signalNum = syscall.Signal(e.Signal)
			} else {
				code := e.Code
				rec.ExitCode = &code
			}
		}
	}
}

// records returns the kept run records (the one in progress last) and how
// many runs were left out.
func (r *readiness) records() ([]RunRecord, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	recs, elided := r.runs.records()
	if r.cur != nil {
		recs = append(recs, *r.cur)
	}
	return recs, elided
}

// check waits until the run is ready or its time is up.
func (r *readiness) check(ctx context.Context, rec *RunRecord, matched <-chan struct{}) {
	if !r.checks() {
		if r.smoke {
			t := time.NewTimer(r.timeout)
			defer t.Stop()
			select {
			case <-t.C:
				r.mu.Lock()
				rec.notReadyIn = true
				r.mu.Unlock()
				r.stop(errNotReady)
			case <-ctx.Done():
			}
		}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ok := true
	if r.logRe != nil {
		r.wait(fmt.Sprintf("no line matched --ready-log %q", r.logRe))
		select {
		case <-matched:
		case <-ctx.Done():
			ok = false
		}
	}
	if ok && r.url != "" {
		r.wait(fmt.Sprintf("--ready-url %s: no answer", r.url))
		ok = poll(ctx, func(ctx context.Context) bool {
			err := httpReady(ctx, r.url)
			if err != nil && ctx.Err() == nil {
				r.wait(fmt.Sprintf("--ready-url %s: %v", r.url, err))
			}
			return err == nil
		})
	}
	if ok && r.tcp != "" {
		r.wait(fmt.Sprintf("--ready-tcp %s: no connection", r.tcp))
		ok = poll(ctx, func(ctx context.Context) bool {
			err := tcpReady(ctx, r.tcp)
			if err != nil && ctx.Err() == nil {
				r.wait(fmt.Sprintf("--ready-tcp %s: %v", r.tcp, err))
			}
			return err == nil
		})
	}
	if !ok {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && r.ctx.Err() == nil {
			r.mu.Lock()
			rec.notReadyIn = true
			waiting := r.waiting
			r.mu.Unlock()
			r.log.Warn("not ready", "name", r.name, "run", rec.Run, "after", r.timeout, "waiting", waiting)
			if r.smoke {
				r.stop(errNotReady)
			}
		}
		return
	}
	r.mu.Lock()
	ms := float64(time.Since(rec.Start)) / float64(time.Millisecond)
	rec.ReadyMS = &ms
	r.mu.Unlock()
	r.log.Info("ready", "name", r.name, "run", rec.Run, "after", time.Duration(ms*float64(time.Millisecond)))
	if r.smoke {
		r.stop(errSmokeReady)
	}
}

// poll calls try with a growing interval until it succeeds or ctx is done.
func poll(ctx context.Context, try func(context.Context) bool) bool {
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		if try(ctx) {
			return true
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
	}
}

var readyClient = &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// httpReady is nil when a GET of u answers 2xx.
func httpReady(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "fnrun-ready")
	resp, err := readyClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return fmt.Errorf("no answer (%v)", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("last answer %s", resp.Status)
	}
	return nil
}

// tcpReady is nil when addr accepts a connection.
func tcpReady(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return fmt.Errorf("no connection (%v)", err)
	}
	conn.Close()
	return nil
}

// wait records what the current run waits for, for the failure message.
func (r *readiness) wait(what string) {
	r.mu.Lock()
	r.waiting = what
	r.mu.Unlock()
}

// busy reports an address that already answers before the program starts:
// another program holds it, and a readiness check would pass for the wrong
// reason.
func (r *readiness) busy(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if r.tcp != "" && tcpReady(ctx, r.tcp) == nil {
		return "--ready-tcp " + r.tcp
	}
	if r.url != "" && httpReady(ctx, r.url) == nil {
		return "--ready-url " + r.url
	}
	return ""
}

func (r *readiness) tailText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tailN == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("last lines of output:\n")
	for n := max(0, r.tailN-tailLines); n < r.tailN; n++ {
		b.WriteString("  ")
		b.Write(r.tail[n%tailLines])
		b.WriteString("\n")
	}
	return b.String()
}
