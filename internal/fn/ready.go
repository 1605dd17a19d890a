package fn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/fnrun/fnrun/runner"
)

/*
Readiness. A run is ready when every check given has passed: a line of its
output matches Ready.Log, an HTTP GET of Ready.URL answers 2xx, a TCP
connection to Ready.TCP is accepted. URL and TCP checks are polled with a
short, growing interval (10 ms doubling to 500 ms); the log check waits on
the output itself. Each run gets its own check, started on its "started"
event and cancelled on "exited". The checker emits EventReady or
EventNotReady and calls ready/notReady, with which a smoke test ends the
supervision. Without any check only a smoke test has something to wait
for: the run must finish within the timeout.
*/

// checker runs the readiness checks of each run. Safe for concurrent use:
// event is called from the supervisor, line from the output readers.
type checker struct {
	cfg      ReadyConfig
	name     string
	emit     func(Event)
	ready    func() // a run passed (called once per run)
	notReady func() // a run did not pass in time
	ctx      context.Context

	mu        sync.Mutex
	waiting   string        // the check the current run waits on, and its last result
	matched   chan struct{} // closed when a line matched Log; nil between runs
	isMatch   bool
	early     bool // a line matched before the run's EventStarted came
	logMatch  bool // a line matched Log in some run
	cancelRun context.CancelFunc
}

// line sees every line of output; it is installed only when Log is set.
//
// A run's output is read from the moment it starts, before its
// EventStarted reaches the checker, and the previous run's output is all
// delivered before its EventExited: so a line seen between runs (matched
// nil) belongs to the run about to be announced, and a match then counts
// for it.
func (c *checker) line(_ runner.Stream, line []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.Log == nil || c.isMatch || c.early || !c.cfg.Log.Match(line) {
		return
	}
	c.logMatch = true
	if c.matched == nil {
		c.early = true
		return
	}
	c.isMatch = true
	close(c.matched)
}

// logMatched reports whether a line of output matched Log: the run was
// ready by its log, even if it exited before the check said so.
func (c *checker) logMatched() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logMatch
}

func (c *checker) event(e Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e.Kind {
	case EventStarted:
		c.matched, c.isMatch = make(chan struct{}), false
		if c.early {
			c.early, c.isMatch = false, true
			close(c.matched)
		}
		ctx, cancel := context.WithCancel(c.ctx)
		c.cancelRun = cancel
		go c.check(ctx, e.Run, e.Time, c.matched)
	case EventExited:
		if c.cancelRun != nil {
			c.cancelRun()
		}
		c.matched, c.isMatch, c.early = nil, false, false
	}
}

// waitingOn is what the last run waited on, for a failure message.
func (c *checker) waitingOn() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waiting
}

func (c *checker) wait(what string) {
	c.mu.Lock()
	c.waiting = what
	c.mu.Unlock()
}

// check waits until the run is ready or its time is up.
func (c *checker) check(ctx context.Context, run int, start time.Time, matched <-chan struct{}) {
	timeout := c.cfg.Timeout
	if !c.cfg.Checks() {
		if c.cfg.Smoke {
			t := time.NewTimer(timeout)
			defer t.Stop()
			select {
			case <-t.C:
				c.notReady()
			case <-ctx.Done():
			}
		}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ok := true
	if re := c.cfg.Log; re != nil {
		c.wait(fmt.Sprintf("no line matched %s %q", c.cfg.names().Log, re))
		select {
		case <-matched:
		case <-ctx.Done():
			ok = false
		}
	}
	if ok && c.cfg.URL != "" {
		c.wait(fmt.Sprintf("%s %s: no answer", c.cfg.names().URL, c.cfg.URL))
		ok = poll(ctx, func(ctx context.Context) bool {
			err := httpReady(ctx, c.cfg.URL)
			if err != nil && ctx.Err() == nil {
				c.wait(fmt.Sprintf("%s %s: %v", c.cfg.names().URL, c.cfg.URL, err))
			}
			return err == nil
		})
	}
	if ok && c.cfg.TCP != "" {
		c.wait(fmt.Sprintf("%s %s: no connection", c.cfg.names().TCP, c.cfg.TCP))
		ok = poll(ctx, func(ctx context.Context) bool {
			err := tcpReady(ctx, c.cfg.TCP)
			if err != nil && ctx.Err() == nil {
				c.wait(fmt.Sprintf("%s %s: %v", c.cfg.names().TCP, c.cfg.TCP, err))
			}
			return err == nil
		})
	}
	if !ok {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && c.ctx.Err() == nil {
			c.emit(Event{Kind: EventNotReady, Name: c.name, Run: run, Took: timeout, Msg: c.waitingOn()})
			c.notReady()
		}
		return
	}
	c.emit(Event{Kind: EventReady, Name: c.name, Run: run, Took: time.Since(start)})
	c.ready()
}

// busy reports a check's address that already answers before the program
// starts: another program holds it, and a check would pass for the wrong
// reason.
func (c *checker) busy(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if c.cfg.TCP != "" && tcpReady(ctx, c.cfg.TCP) == nil {
		return c.cfg.names().TCP + " " + c.cfg.TCP
	}
	if c.cfg.URL != "" && httpReady(ctx, c.cfg.URL) == nil {
		return c.cfg.names().URL + " " + c.cfg.URL
	}
	return ""
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

// Wait polls each check as readiness checks are polled (10 ms doubling to
// 500 ms): every address in tcp must accept a connection and every URL in
// urls must answer 2xx. It returns nil once all passed, or, when ctx is
// done first, an error naming a check that did not pass and its last
// result. Checks that passed are not asked again.
func Wait(ctx context.Context, tcp, urls []string) error {
	type check struct {
		name string
		try  func(context.Context) error
		last error
	}
	var checks []*check
	for _, a := range tcp {
		checks = append(checks, &check{name: "--tcp " + a, try: func(ctx context.Context) error { return tcpReady(ctx, a) }})
	}
	for _, u := range urls {
		checks = append(checks, &check{name: "--url " + u, try: func(ctx context.Context) error { return httpReady(ctx, u) }})
	}
	for _, c := range checks {
		ok := poll(ctx, func(ctx context.Context) bool {
			c.last = c.try(ctx)
			return c.last == nil
		})
		if !ok {
			if c.last == nil {
				c.last = ctx.Err()
			}
			return fmt.Errorf("%s: %v", c.name, c.last)
		}
	}
	return nil
}
