//go:build unix

package runner

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

/*
The restart loop. Run owns all supervision state (run counter, consecutive
failures, restarts) and is the only goroutine that starts, signals and
reaps runs. Requests from other goroutines arrive on channels: restartCh
(buffered, one pending request is enough) for Restart, Replace and Resume,
holdCh (buffered, a wake-up: the hold itself is state under mu, see
hold.go) for Hold, and killCh (closed once) for Kill. Every blocking point
of Run — a running program, a stop grace period, the wait for leftover
group members, the backoff, a hold — is a select over these, ctx.Done()
and the run's done channel; nothing polls while a program runs.

Manual restarts (Restart, Replace) reset the backoff, do not count towards
MaxRestarts and start the next run at once, whatever the policy. A hold
(Hold) stops the run as a manual restart does but starts nothing until
Resume, Restart or Replace ends it (hold.go); Run waits in a select
meanwhile, as in a backoff wait.

Signal is the one request that acts directly instead of going through Run:
it signals the current run under mu, and Run publishes the run there (cur)
only while the run's processes may exist, clearing it before the run's
containment is released.
*/

// Supervisor runs one program according to its Options. Create it with
// New. See the package documentation for the concurrency contract.
type Supervisor struct {
	opts   Options
	log    eventLog
	pumps  *pumps
	listen *listenSet // nil without Options.Listeners
	rand   func() float64

	mu   sync.Mutex
	path string    // guarded by mu; changed by Replace and BeforeStart
	cur  *proc     // guarded by mu: the run in progress, for Signal
	hold holdState // guarded by mu: Hold's request (hold.go)
	held bool      // guarded by mu: Held's answer

	stopSig atomic.Int32 // SetStopSignal's; 0: Options.StopSignal

	noCgroup bool   // tests: use the subreaper even where cgroups work
	mode     string // the containment mode last logged; Run's goroutine only

	restartCh chan struct{}
	holdCh    chan struct{}
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
		log:       eventLog{log: logger, name: o.Name, every: o.LogEveryEvent},
		pumps:     newPumps(&o),
		listen:    newListenSet(&o),
		rand:      r,
		path:      o.Path,
		restartCh: make(chan struct{}, 1),
		holdCh:    make(chan struct{}, 1),
		killCh:    make(chan struct{}),
	}, nil
}

// Restart stops the current run gracefully and starts the program again at
// once, with the backoff reset, whatever the policy; during a backoff wait
// it cuts the wait short. Like SIGHUP. A request that arrives as the
// program exits by itself starts it again at once; one made before Run
// starts is dropped. During a hold it acts as Resume.
func (s *Supervisor) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restartLocked()
}

// Replace makes the next runs use the executable at path, then restarts
// like Restart: the current run is stopped gracefully and the new binary
// starts at once, without backoff. During a hold it acts as Resume.
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

// Signal sends sig to the current run's process group and, for the job
// control signals SIGSTOP, SIGTSTP and SIGCONT and for SIGQUIT, also to the
// run's processes outside its group (on Linux: those in its cgroup, or,
// with the subreaper, the descendants that left the group). Without a run
// (before Run, between runs, during a backoff wait) it does nothing and
// returns nil. It is safe to call from any goroutine; the signal does not
// change the supervision (a program stopped by SIGSTOP stays stopped until
// SIGCONT, and a stop still ends it with SIGKILL after StopTimeout).
func (s *Supervisor) Signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.cur
	if p == nil {
		return nil
	}
	err := signalGroup(p.pid, sig)
	switch sig {
	case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGCONT, syscall.SIGQUIT:
		if err == nil {
			p.esc.signal(sig)
		}
	}
	return err
}

// SetStopSignal makes the stops that begin from now on send sig to the
// group (and to the run's processes outside it) instead of
// Options.StopSignal; 0 restores that. A stop already under way keeps its
// signal. It is safe to call from any goroutine, e.g. just before
// cancelling Run's context (fnrun stops the program with SIGQUIT when it
// receives one).
func (s *Supervisor) SetStopSignal(sig syscall.Signal) {
	s.stopSig.Store(int32(sig))
}

// stopSignal is the signal a stop begins with.
func (s *Supervisor) stopSignal() syscall.Signal {
	if sig := syscall.Signal(s.stopSig.Load()); sig > 0 {
		return sig
	}
	return s.opts.StopSignal
}

func (s *Supervisor) setCurrent(p *proc) {
	s.mu.Lock()
	s.cur = p
	s.mu.Unlock()
}

// beforeStart calls Options.BeforeStart and makes the path it returns the
// current one, unless Replace changed the path meanwhile (its restart
// request then starts the replacement right after).
func (s *Supervisor) beforeStart(ctx context.Context, run int, path string) (string, error) {
	next, err := s.opts.BeforeStart(ctx, run, path)
	if err != nil {
		return path, err
	}
	if next == "" || next == path {
		return path, nil
	}
	s.mu.Lock()
	if s.path == path {
		s.path = next
	}
	s.mu.Unlock()
	return next, nil
}

// slog attribute keys of the containment line.
const (
	keyMode   = "mode"
	keyPath   = "path"
	keyReason = "reason"
)

// logContainment says once at Debug level how the runs' processes outside
// their groups are found, and again if that changes (a cgroup failed).
func (s *Supervisor) logContainment(c *contain) {
	mode, path, why := c.mode()
	if mode == s.mode {
		return
	}
	s.mode = mode
	attrs := []any{keyName, s.opts.Name, keyMode, mode}
	if path != "" {
		attrs = append(attrs, keyPath, path)
	}
	if why != nil {
		attrs = append(attrs, keyReason, why.Error())
	}
	s.log.log.Debug("containment", attrs...)
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
	s.resetHold() // nor to hold
	defer s.resetHold()
	if err := ctx.Err(); err != nil {
		return Status{}, err
	}

	var st Status
	failures, restarts := 0, 0
	var next *contain // the last run's empty cgroup, for the next run
	defer func() {
		if next != nil {
			next.release()
		}
	}()
	for run := 1; ; run++ {
		if ctx.Err() != nil || s.killed() {
			return st, nil
		}
		path := s.currentPath()
		if s.opts.BeforeStart != nil {
			var err error
			path, err = s.beforeStart(ctx, run, path)
			switch {
			case ctx.Err() != nil && run == 1: // cancelled, not failed
				return st, ctx.Err()
			case ctx.Err() != nil || s.killed():
				return st, nil
			case err != nil:
				st.StartErr = err
				s.emit(Event{Kind: EventStartFailed, Run: run, Err: err})
				return st, &StartError{Path: path, Err: err}
			}
		}
		s.pumps.setRun(run) // the last run's readers are done (drain): logrecord.go
		c := next
		if next = nil; c == nil {
			c = newContain(s.noCgroup)
		}
		p, err := startProc(path, &s.opts, s.pumps, s.listen, c)
		if err != nil {
			c.release()
			st.StartErr = err
			s.emit(Event{Kind: EventStartFailed, Run: run, Err: err})
			return st, &StartError{Path: path, Err: err}
		}
		s.logContainment(c)
		s.setCurrent(p)
		st.Runs = run
		s.emit(Event{Kind: EventStarted, Time: p.start, Run: run, PID: p.pid})

		why := s.supervise(ctx, p, run)
		s.setCurrent(nil)
		if why == endExit || why == endRestart || why == endHold {
			next, err = c.recycle() // another run may follow
		} else {
			err = c.release()
		}
		if err != nil {
			s.log.log.Warn("containment cleanup", keyName, s.opts.Name, keyErr, err.Error())
		}
		p.drain(s.opts.DrainTimeout)
		st.Code, st.Signal = p.code, p.sig
		uptime := p.exited.Sub(p.start)
		s.emit(Event{Kind: EventExited, Run: run, PID: p.pid, Code: p.code, Signal: p.sig, Uptime: uptime})

		var delay time.Duration
		hold := why == endHold
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
			case s.takeHold(): // instead of the policy's restart
				hold = true
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
		if hold || s.takeHold() {
			if !s.holdWait(ctx, run, p.pid) {
				return st, nil
			}
			failures = 0
			continue
		}
		s.emit(Event{Kind: EventRestarting, Run: run + 1, Delay: delay})
		if delay > 0 {
			goOn, cut := s.backoff(ctx, delay, run+1)
			if !goOn {
				return st, nil
			}
			if cut {
				failures = 0
			}
		}
	}
}

// backoff waits delay before the run next starts. It reports whether Run
// goes on, and whether the wait was cut short, by Restart or by a hold that
// was ended since.
func (s *Supervisor) backoff(ctx context.Context, delay time.Duration, next int) (goOn, cut bool) {
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true, false
		case <-s.restartCh:
			return true, true
		case <-s.holdCh:
			if s.takeHold() {
				return s.holdWait(ctx, next, 0), true
			}
		case <-ctx.Done():
			return false, false
		case <-s.killCh:
			return false, false
		}
	}
}

// Why a run ended.
type endReason int

const (
	endExit    endReason = iota // the leader exited by itself
	endCtx                      // ctx was done: stopped
	endRestart                  // Restart or Replace: stopped
	endHold                     // Hold: stopped
	endKill                     // Kill: killed
)

// supervise waits for the run to end or to be ended, and returns once the
// leader is reaped and its process group is gone (or could not be emptied
// in time).
func (s *Supervisor) supervise(ctx context.Context, p *proc, run int) endReason {
	for {
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
		case <-s.holdCh:
			select {
			case <-p.done: // it exited by itself: the policy has its say first
				s.clearGroup(p, run)
				return endExit
			default:
			}
			if s.takeHold() {
				s.stop(p, run)
				return endHold
			} // else the hold was ended before Run took it: a restart is asked
		case <-s.killCh:
			s.kill(p)
			return endKill
		}
	}
}
