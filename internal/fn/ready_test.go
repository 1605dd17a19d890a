package fn

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/fnrun/fnrun/runner"
)

// A run's ready line can be read before its EventStarted reaches the
// checker (the pumps start with the process): it still makes that run
// ready, and a line of the previous run never makes the next one ready.
func TestChecker_lineBeforeStarted(t *testing.T) {
	ready := make(chan struct{}, 4)
	ck := &checker{cfg: ReadyConfig{Log: regexp.MustCompile("^up$"), Timeout: time.Minute},
		emit: func(Event) {}, ctx: context.Background(),
		ready: func() { ready <- struct{}{} }, notReady: func() { t.Error("not ready") }}
	await := func(what string) {
		t.Helper()
		select {
		case <-ready:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: not ready", what)
		}
	}
	ck.line(runner.StreamStdout, []byte("up")) // run 1's line, before its start event
	ck.event(Event{Kind: EventStarted, Run: 1, Time: time.Now()})
	await("run 1")
	ck.event(Event{Kind: EventExited, Run: 1})
	ck.event(Event{Kind: EventStarted, Run: 2, Time: time.Now()})
	select {
	case <-ready:
		t.Fatal("run 2 ready without a line of its own")
	case <-time.After(50 * time.Millisecond): // bounded wait for an absence
	}
	ck.line(runner.StreamStdout, []byte("up"))
	await("run 2")
	ck.event(Event{Kind: EventExited, Run: 2})
}
