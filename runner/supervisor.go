package runner

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

/*
The restart loop. Run owns all supervision state (run counter, consecutive
failures, restarts) and is the only goroutine that starts, signals and
reaps runs. Requests from other goroutines arrive on channels: restartCh
(buffered, one pending request is enough) for Restart and Replace, and
killCh (closed once) for Kill. Every blocking point of Run — a running
program, a stop grace period, the wait for leftover group members, the
backoff — is a select over these, ctx.Done() and the run's done channel;
nothing polls while a program runs.

Manual restarts (Restart, Replace) reset the backoff, do not count towards
MaxRestarts and start the next run at once, whatever the policy.
*/

// Supervisor runs one program according to its Options. Create it with
// New. See the package documentation for the concurrency contract.
type Supervisor struct {
	opts  Options
	log   eventLog
	pumps *pumps
	rand  func() float64

	mu   sync.Mutex
	path string // guarded by mu; changed by Replace

	restartCh chan struct{}
	killCh    chan struct{}
	killOnce  sync.Once
	running   atomic.Bool
}

// New validates opts, fills in defaults and returns a Supervisor.
func New(opts Options) (*Supervisor, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := o.Rand
	if r == nil {
		r = rand.Float64
	}
	return &Supervisor{
		opts:      o,
		log:       eventLog{log: logger, name: o.Name},
		pumps:     newPumps(&o),
		rand:      r,
		path:      o.Path,
		restartCh: make(chan struct{}, 1),
		killCh:    make(chan struct{}),
	}, nil
}

// Restart stops the current run gracefully and starts the program again at
// once, with the backoff reset, whatever the policy; during a backoff wait
// it cuts the wait short. Like SIGHUP. A request that arrives as the
// program exits by itself starts it again at once; one made before Run
// starts is dropped.
func (s *Supervisor) Restart() {
	select {
	case s.restartCh <- struct{}{}:
	default: // one pending request is enough
	}
}

// Replace makes the next runs use the executable at path, then restarts
// like Restart: the current run is stopped gracefully and the new binary
// starts at once, without backoff.
func (s *Supervisor) Replace(path string) {
	s.mu.Lock()
	s.path = path
	s.mu.Unlock()
	s.Restart()
}

// Kill sends SIGKILL to the whole process group at once, also in the middle
// of a graceful stop. It is final: no further run is started and Run
// returns the status of the killed run.
func (s *Supervisor) Kill() {
	s.killOnce.Do(func() { close(s.killCh) })
}

func (s *Supervisor) killed() bool {
	select {
	case <-s.killCh:
		return true
	default:
		return false
	}
}

func (s *Supervisor) currentPath() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.path
}

func (s *Supervisor) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	s.log.event(e)
	if s.opts.OnEvent != nil {
		s.opts.OnEvent(e)
	}
}

// Run runs the program until the policy ends supervision, ctx is done, or
// Kill is called, and returns the status of the last run. When ctx is done
// the process group is stopped gracefully (StopSignal, StopTimeout, SIGKILL)
// and Run returns once it is gone, with a nil error. If ctx is done before
// the first run, Run returns ctx.Err(). If the program cannot be started,
// Run returns a *StartError and does not retry.
func (s *Supervisor) Run(ctx context.Context) (Status, error) {
	if !s.running.CompareAndSwap(false, true) {
		return Status{}, errors.New("runner: Run is already running")
	}
	defer s.running.Store(false)
	// Write the counts of the last summarised runs.
	defer func() { s.log.end(time.Now()) }()
	select { // a request made before Run has nothing to restart
	case <-s.restartCh:
	default:
	}
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}

	var st Status
	failures, restarts := 0, 0
	for run := 1; ; run++ {
		if ctx.Err() != nil || s.killed() {
			return st, nil
		}
		path := s.currentPath()
		p, err := startProc(path, &s.opts, s.pumps)
		if err != nil {
			st.StartErr = err
			s.emit(Event{Kind: EventStartFailed, Run: run, Err: err})
			return st, &StartError{Path: path, Err: err}
		}
		st.Runs = run
		s.emit(Event{Kind: EventStarted, Time: p.start, Run: run, PID: p.pid})

		why := s.supervise(ctx, p, run)
		p.drain(s.opts.DrainTimeout)
		st.Code, st.Signal = p.code, p.sig
		uptime := p.exited.Sub(p.start)
		s.emit(Event{Kind: EventExited, Run: run, PID: p.pid, Code: p.code, Signal: p.sig, Uptime: uptime})

		var delay time.Duration
		switch why {
		case endCtx, endKill:
			return st, nil
		case endRestart:
			failures = 0
		case endExit:
			manual := false
			select {
			case <-s.restartCh:
				manual = true
			default:
			}
			if ctx.Err() != nil || s.killed() {
				return st, nil
			}
			failed := p.failed()
			switch {
			case manual:
				failures = 0
			case !s.opts.Policy.restarts(failed):
				return st, nil
			case s.opts.MaxRestarts > 0 && restarts >= s.opts.MaxRestarts:
				s.emit(Event{Kind: EventGaveUp, Run: run, PID: p.pid, Code: p.code, Signal: p.sig})
				return st, nil
			case failed:
				restarts++
				if uptime >= s.opts.BackoffReset {
					failures = 0
				}
				failures++
				delay = backoffDelay(failures, s.opts.BackoffInitial, s.opts.BackoffMax, s.rand())
			default:
				restarts++
				failures = 0
			}
		}
		s.emit(Event{Kind: EventRestarting, Run: run + 1, Delay: delay})
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.restartCh:
				t.Stop()
				failures = 0
			case <-ctx.Done():
				t.Stop()
				return st, nil
			case <-s.killCh:
				t.Stop()
				return st, nil
			}
		}
	}
}

// Why a run ended.
type endReason int

const (
	endExit    endReason = iota // the leader exited by itself
	endCtx                      // ctx was done: stopped
	endRestart                  // Restart or Replace: stopped
	endKill                     // Kill: killed
)

// supervise waits for the run to end or to be ended, and returns once the
// leader is reaped and its process group is gone (or could not be emptied
// in time).
func (s *Supervisor) supervise(ctx context.Context, p *proc, run int) endReason {
	select {
	case <-p.done:
		s.clearGroup(p, run)
		return endExit
	case <-ctx.Done():
		s.stop(p, run)
		return endCtx
	case <-s.restartCh:
		s.stop(p, run)
		return endRestart
	case <-s.killCh:
		s.kill(p)
		return endKill
	}
}
