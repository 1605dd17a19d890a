package system

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/runner"
)

/*
Running a system. Every entry is one or more fn.Functions (replicas). Run
has three phases:

 1. Prepare: every entry is fetched and built (Function.Prepare), in
    parallel, at most NumCPU at a time; the first failure names its entry
    and stops the others before anything has started.
 2. Start: each entry waits for its dependencies' conditions (started,
    ready, completed) and then starts its replicas; a dependency that ends
    without meeting a condition blocks its dependants, and `up` gives up.
 3. Supervise until the context is done (Ctrl-C), an entry with
    on_failure: stop-all fails, every entry has ended, or the smoke test
    has its verdict. Then everything still running is stopped in reverse
    start order, each entry gracefully and completely (its group gone)
    before the next.

Each entry runs under a context of its own, not under Run's: Run's
context ending starts the ordered stop rather than stopping everything at
once. Entries are supervised independently: one crashing and backing off
does not touch the others.
*/

// Options are what `fnrun up` adds to the file; they apply to every entry.
type Options struct {
	CacheDir string
	Update   bool
	Watch    bool          // every local entry rebuilds on change (as watch: true)
	Debounce time.Duration // for watched entries
	Ignore   []string      // globs watched entries ignore
	Smoke    bool          // the whole system must become ready within ReadyTimeout
	// ReadyTimeout bounds the smoke test; 0 means fn.DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Runner holds the output settings for every entry (Stdout, Stderr,
	// Format, Timestamps, colours, Logger, MaxLine, ...); the entry's keys
	// fill in the rest.
	Runner   runner.Options
	BuildEnv []string     // the go command's environment; nil means os.Environ()
	Logger   *slog.Logger // fetch, build and runner log lines
	Colors   []string     // name colours, one per entry in turn; none: the runner's default
	PortBase int          // a Procfile's first PORT; 0 means DefaultPortBase
	// LogFile, if set, gives the writer of each function's log file
	// (runner.Options.LogFile) by its name (api, api.2); nil means none.
	LogFile func(name string) io.Writer
	// Listeners are the held sockets of each entry (listen: in the file),
	// bound by the caller before the first start: every replica of the
	// entry gets them (runner.Options.Listeners).
	Listeners map[string][]runner.Listener
	// OnEvent observes every function (e.Name is the entry, or api.2 for a
	// replica) and the system's own steps (Event.System). Safe for
	// concurrent use; must not block.
	OnEvent func(Event)
}

// Event is a function's event, or one of the system's own steps.
type Event struct {
	fn.Event
	Entry  string // the entry the function belongs to
	System Step   // 0 for a function's event
}

// Step is one of the system's own steps.
type Step int

// System steps.
const (
	_            Step = iota
	StepWaiting       // Entry waits for its dependencies: Msg lists them
	StepStopping      // everything is being stopped: Msg says why
)

// System is a file's entries, ready to run.
type System struct {
	// crashed receives, in smoke mode, the first run of any entry that
	// failed (non-zero exit or a signal): a smoke test fails at once.
	crashed chan crash

	file  *File
	opts  Options
	units []*unit // in start order
	width int     // the longest function name
}

// crash is a failed run during a smoke test.
type crash struct {
	u         *unit
	name, how string
}

// unit is one entry and its replicas.
type unit struct {
	e     *Entry
	fns   []*fn.Function
	cfgs  []fn.Config
	deps  []*unit
	needs []Condition

	ctx    context.Context
	cancel context.CancelFunc

	started, ready, completed chan struct{} // closed when every replica got there
	settled                   chan struct{} // smoke: every replica ran smokeSettle without failing, or exited 0
	ended                     chan struct{} // closed when every replica's Run returned
	launched                  bool          // its replicas were started

	out fn.Tail // the last lines of output of its replicas (smoke only)

	mu        sync.Mutex
	nSettled  map[int]bool
	running   map[int]int // replica → the run alive now (0: none)
	nStarted  map[int]bool
	nReady    map[int]bool
	results   []fn.Result
	nEnded    int
	completeN int
}

// New selects the named entries (and their dependencies; all when none are
// named) and builds every function's Config: every error the file can
// have is found here, before any work.
func New(file *File, names []string, opts Options) (*System, error) {
	entries, err := file.Select(names)
	if err != nil {
		return nil, err
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = fn.DefaultReadyTimeout
	}
	s := &System{file: file, opts: opts, crashed: make(chan crash, 1)}
	for _, e := range entries {
		w := len(e.Name)
		if e.Replicas > 1 {
			w += 1 + len(fmt.Sprint(e.Replicas))
		}
		s.width = max(s.width, w)
	}
	byName := map[string]*unit{}
	for _, e := range entries {
		idx := 0
		for j, fe := range file.Functions {
			if fe == e {
				idx = j
			}
		}
		cfgs, err := s.configs(e, idx)
		if err != nil {
			return nil, &LineError{File: file.Path, Line: e.Line, Entry: e.Name, Err: err}
		}
		u, err := s.addUnit(e, cfgs, byName)
		if err != nil {
			return nil, &LineError{File: file.Path, Line: e.Line, Entry: e.Name, Err: err}
		}
		byName[e.Name] = u
	}
	return s, nil
}

// addUnit makes the functions of entry e from cfgs (one per replica) and
// adds them to the system, after the entries it depends on (byName).
func (s *System) addUnit(e *Entry, cfgs []fn.Config, byName map[string]*unit) (*unit, error) {
	u := &unit{e: e, cfgs: cfgs,
		started: make(chan struct{}), ready: make(chan struct{}), completed: make(chan struct{}), ended: make(chan struct{}),
		settled:  make(chan struct{}),
		nStarted: map[int]bool{}, nReady: map[int]bool{}, nSettled: map[int]bool{}, running: map[int]int{}, results: make([]fn.Result, len(cfgs))}
	for _, d := range e.DependsOn {
		u.deps = append(u.deps, byName[d.Name])
		u.needs = append(u.needs, d.Condition)
	}
	for k := range cfgs {
		s.observe(u, k, &cfgs[k])
		if s.opts.Smoke {
			cfgs[k].Runner.OnLine = func(_ runner.Stream, line []byte) { u.out.Add(line) }
		}
		if s.opts.LogFile != nil {
			name := cfgs[k].Runner.Name
			if name == "" {
				name = e.Name
			}
			cfgs[k].Runner.LogFile = s.opts.LogFile(name)
		}
		if l := s.opts.Listeners[e.Name]; len(l) > 0 {
			cfgs[k].Runner.Listeners = l
		}
		f, err := fn.New(cfgs[k])
		if err != nil {
			return nil, err
		}
		u.fns = append(u.fns, f)
	}
	s.units = append(s.units, u)
	return u, nil
}

// NewFunction is a system of one function run as replicas copies (fnrun
// run --replicas N): NAME.1 ... NAME.N, each with FNRUN_REPLICA=i, built
// once, supervised each on its own, sharing cfg's listeners.
func NewFunction(name string, cfg fn.Config, replicas int, opts Options) (*System, error) {
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = fn.DefaultReadyTimeout
	}
	e := &Entry{Name: name, Replicas: replicas}
	s := &System{file: &File{}, opts: opts, crashed: make(chan crash, 1)}
	s.width = len(name) + 1 + len(strconv.Itoa(replicas))
	cfgs := make([]fn.Config, replicas)
	for k := range cfgs {
		c := cfg
		c.Runner.Name = fmt.Sprintf("%s.%d", name, k+1)
		c.Runner.Function = name
		c.Runner.NameWidth = s.width
		env := c.Runner.Env
		if env == nil { // nil means fnrun's own
			env = os.Environ()
		}
		c.Runner.Env = fn.MergeEnv(env, []string{"FNRUN_REPLICA=" + strconv.Itoa(k+1)})
		cfgs[k] = c
	}
	if _, err := s.addUnit(e, cfgs, nil); err != nil {
		return nil, err
	}
	return s, nil
}

// LineError is an entry whose keys cannot make a function.
type LineError struct {
	File  string
	Line  int
	Entry string
	Err   error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Entry, e.Err)
}
func (e *LineError) Unwrap() error { return e.Err }

// observe wires replica k's events into the unit's conditions and the
// caller's observer.
func (s *System) observe(u *unit, k int, cfg *fn.Config) {
	checks := cfg.Ready.Checks()
	n := len(u.cfgs)
	cfg.OnEvent = func(e fn.Event) {
		switch e.Kind {
		case fn.EventStarted:
			if s.opts.Smoke {
				run := e.Run
				time.AfterFunc(smokeSettle, func() { u.settleRun(k, run) })
			}
			u.mu.Lock()
			u.running[k] = e.Run
			if !u.nStarted[k] {
				u.nStarted[k] = true
				if len(u.nStarted) == n {
					close(u.started)
				}
			}
			if !checks && !u.nReady[k] {
				u.nReady[k] = true
				if len(u.nReady) == n {
					close(u.ready)
				}
			}
			u.mu.Unlock()
		case fn.EventReady:
			u.mu.Lock()
			if !u.nReady[k] {
				u.nReady[k] = true
				if len(u.nReady) == n {
					close(u.ready)
				}
			}
			u.mu.Unlock()
		case fn.EventExited:
			u.mu.Lock()
			u.running[k] = 0
			u.mu.Unlock()
			if s.opts.Smoke && e.Code == 0 && e.Signal == 0 {
				u.settle(k) // a function that finished its work
			}
			if s.opts.Smoke && (e.Code != 0 || e.Signal != 0) && !u.stopping() {
				select {
				case s.crashed <- crash{u: u, name: e.Name, how: fn.DescribeExit(runner.Status{Code: e.Code, Signal: e.Signal})}:
				default: // one is enough
				}
			}
		case fn.EventRebuilt:
			if u.e.RestartDependants {
				for _, d := range s.dependants(u) {
					for _, f := range d.fns {
						f.Restart()
					}
				}
			}
		}
		if s.opts.OnEvent != nil {
			s.opts.OnEvent(Event{Event: e, Entry: u.e.Name})
		}
	}
}

func (s *System) dependants(u *unit) []*unit {
	var out []*unit
	for _, d := range s.units {
		for _, dep := range d.deps {
			if dep == u {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

func (s *System) step(st Step, entry, msg string) {
	if s.opts.OnEvent != nil {
		s.opts.OnEvent(Event{Event: fn.Event{Time: time.Now(), Name: entry, Msg: msg}, Entry: entry, System: st})
	}
}

// Result says how a system ended. Exactly one of Err, Smoke, Stopped,
// Failed describes it, or none: every entry ended by itself.
type Result struct {
	Err     error                // an entry could not be fetched or built (*EntryError)
	Smoke   *fn.SmokeResult      // --smoke's verdict
	Stopped bool                 // the context was done
	Failed  string               // the entry whose failure ended the system (stop-all, or a dependency that failed)
	Why     string               // why Failed ended it
	Code    int                  // the exit code owed: Failed's, or the first failure's when every entry ended
	Runs    map[string]fn.Result // every function that ran, by name (api, api.2)
	Order   []string             // the functions' names in start order
	Entries map[string]string    // function name → its entry (api.2 → api)
}

// EntryError is an entry's fetch or build failure.
type EntryError struct {
	Entry string
	Err   error
}

func (e *EntryError) Error() string { return e.Entry + ": " + e.Err.Error() }
func (e *EntryError) Unwrap() error { return e.Err }

// Run runs the system until it ends (see the block comment at the top).
func (s *System) Run(ctx context.Context) Result {
	var res Result
	if err := s.prepare(ctx); err != nil {
		for _, u := range s.units {
			for _, f := range u.fns {
				f.Close()
			}
		}
		if ctx.Err() != nil {
			res.Stopped = true
		} else {
			res.Err = err
		}
		return res
	}
	type note struct {
		u       *unit
		blocked *unit // the dependency that can no longer meet u's condition
	}
	notes := make(chan note, 2*len(s.units))
	for _, u := range s.units {
		u.ctx, u.cancel = context.WithCancel(context.Background())
		go func() {
			if blocker := s.await(u); blocker != nil {
				notes <- note{u: u, blocked: blocker}
				return
			}
			if u.ctx.Err() != nil {
				return
			}
			s.launch(u, func() { notes <- note{u: u} })
		}()
	}

	var smokeDone <-chan struct{}
	var smokeTimer <-chan time.Time
	if s.opts.Smoke {
		smokeDone = s.smokeWatch()
		t := time.NewTimer(s.opts.ReadyTimeout)
		defer t.Stop()
		smokeTimer = t.C
	}
	ended := 0
	for {
		select {
		case <-ctx.Done():
			s.stopAll("") // the caller knows why (a signal was announced)
			res.Stopped = true
			return s.finish(res)
		case c := <-s.crashed:
			res.Failed, res.Code = c.u.e.Name, 1
			res.Why = fmt.Sprintf("%s exited (%s)", c.name, c.how)
			s.stopAll(res.Why + "; stopping")
			res.Smoke = &fn.SmokeResult{Why: res.Why, Tail: c.u.tail()}
			return s.finish(res)
		case <-smokeDone:
			s.stopAll("the system is ready; stopping")
			res.Smoke = &fn.SmokeResult{Passed: true}
			return s.finish(res)
		case <-smokeTimer:
			why, tail := s.notReady()
			s.stopAll("not ready in time; stopping")
			res.Smoke = &fn.SmokeResult{Why: fmt.Sprintf("not ready after %s: %s", s.opts.ReadyTimeout, why), Tail: tail}
			return s.finish(res)
		case n := <-notes:
			if n.blocked != nil {
				code, how := n.blocked.outcome()
				res.Failed, res.Code = n.blocked.e.Name, max(code, 1)
				res.Why = fmt.Sprintf("%s %s, so %s cannot start (it waits for %s: %s)",
					n.blocked.e.Name, how, n.u.e.Name, n.blocked.e.Name, n.u.need(n.blocked))
				s.stopAll(res.Why + "; stopping")
				if s.opts.Smoke {
					res.Smoke = &fn.SmokeResult{Why: res.Why}
				}
				return s.finish(res)
			}
			ended++
			code, how := n.u.outcome()
			if s.opts.Smoke && code == 0 && !s.smokeMet(n.u) {
				res.Failed, res.Code = n.u.e.Name, 1
				res.Why = fmt.Sprintf("%s %s before it was ready", n.u.e.Name, how)
				s.stopAll(res.Why + "; stopping")
				res.Smoke = &fn.SmokeResult{Why: res.Why, Tail: n.u.tail()}
				return s.finish(res)
			}
			if code != 0 && (n.u.e.OnFailure == "stop-all" || s.opts.Smoke) {
				res.Failed, res.Code = n.u.e.Name, code
				res.Why = fmt.Sprintf("%s %s", n.u.e.Name, how)
				s.stopAll(res.Why + "; stopping")
				if s.opts.Smoke {
					res.Smoke = &fn.SmokeResult{Why: res.Why, Tail: n.u.tail()}
				}
				return s.finish(res)
			}
			if ended == len(s.units) {
				if s.opts.Smoke { // every entry met its condition, or the cases above returned
					res.Smoke = &fn.SmokeResult{Passed: true}
				}
				for _, u := range s.units {
					if c, _ := u.outcome(); c != 0 && res.Code == 0 {
						res.Code = c
					}
				}
				return s.finish(res)
			}
		}
	}
}

// prepare fetches and builds every function, at most NumCPU at a time.
// Functions that build the same binary (replicas, entries of one source)
// share one build: the first of them builds, the others take its result.
func (s *System) prepare(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type group struct {
		lead   *fn.Function
		others []*fn.Function
		entry  string
	}
	var groups []*group
	for _, u := range s.units {
	next:
		for _, f := range u.fns {
			for _, g := range groups {
				if g.lead.SameBuild(f) {
					g.others = append(g.others, f)
					continue next
				}
			}
			groups = append(groups, &group{lead: f, entry: u.e.Name})
		}
	}
	sem := make(chan struct{}, runtime.NumCPU())
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			err := g.lead.Prepare(ctx)
			for _, f := range g.others {
				if err == nil {
					err = f.PrepareFrom(g.lead)
				}
			}
			if err != nil {
				once.Do(func() {
					first = &EntryError{Entry: g.entry, Err: err}
					cancel()
				})
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// await waits until u's dependencies meet its conditions. It returns the
// dependency that ended without meeting one, or nil (also when u is
// stopped first).
func (s *System) await(u *unit) *unit {
	if len(u.deps) > 0 {
		var parts []string
		for i, d := range u.deps {
			parts = append(parts, fmt.Sprintf("%s (%s)", d.e.Name, u.needs[i]))
		}
		s.step(StepWaiting, u.e.Name, strings.Join(parts, ", "))
	}
	if len(u.deps) == 0 {
		return nil
	}
	// Every dependency is watched at once: whichever fails first decides.
	type verdict struct {
		d  *unit
		ok bool
	}
	verdicts := make(chan verdict, len(u.deps))
	for i, d := range u.deps {
		var want chan struct{}
		switch u.needs[i] {
		case CondReady:
			want = d.ready
		case CondCompleted:
			want = d.completed
		default:
			want = d.started
		}
		go func() {
			select {
			case <-want:
				verdicts <- verdict{d, true}
			case <-d.ended:
				select {
				case <-want: // met just before it ended
					verdicts <- verdict{d, true}
				default:
					verdicts <- verdict{d, false}
				}
			case <-u.ctx.Done():
				verdicts <- verdict{d, true} // stopped: the caller sees u.ctx
			}
		}()
	}
	for range u.deps {
		if v := <-verdicts; !v.ok {
			return v.d
		}
	}
	return nil
}

// launch starts u's replicas; ended is called once all of them returned.
func (s *System) launch(u *unit, ended func()) {
	u.mu.Lock()
	if u.ctx.Err() != nil { // stopped while it waited (see stopAll)
		u.mu.Unlock()
		return
	}
	u.launched = true
	u.mu.Unlock()
	for k, f := range u.fns {
		go func() {
			r := f.Run(u.ctx)
			u.mu.Lock()
			u.results[k] = r
			u.nEnded++
			ok := r.Err == nil && !r.Stopped && !r.TimedOut && r.Status.ExitCode() == 0 && r.Status.Runs > 0
			if ok {
				u.completeN++
			}
			all, complete := u.nEnded == len(u.fns), u.completeN == len(u.fns)
			u.mu.Unlock()
			if all {
				if complete {
					close(u.completed)
				}
				close(u.ended)
				ended()
			}
		}()
	}
}

// smokeSettle is how long a run of an entry without readiness checks that
// restarts must stay up to count as ready in a smoke test: a crash loop
// must not pass for "started".
const smokeSettle = time.Second

// settleRun settles replica k if its run is still the one that started
// smokeSettle ago (it did not exit in between).
func (u *unit) settleRun(k, run int) {
	u.mu.Lock()
	current := u.running[k] == run
	u.mu.Unlock()
	if current {
		u.settle(k)
	}
}

// settle marks replica k settled; settled closes once all are.
func (u *unit) settle(k int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.nSettled[k] {
		u.nSettled[k] = true
		if len(u.nSettled) == len(u.fns) {
			close(u.settled)
		}
	}
}

// stopping reports whether u is being stopped (its runs end by signal).
func (u *unit) stopping() bool { return u.ctx != nil && u.ctx.Err() != nil }

// need is the condition u waits for on its dependency d.
func (u *unit) need(d *unit) Condition {
	for i, dep := range u.deps {
		if dep == d {
			return u.needs[i]
		}
	}
	return ""
}

// outcome is u's exit code (the first failing replica's, else 0) and a
// phrase saying how it ended.
func (u *unit) outcome() (int, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, r := range u.results {
		switch {
		case r.Err != nil:
			var se *runner.StartError
			if errors.As(r.Err, &se) {
				return 126, "could not start: " + r.Err.Error()
			}
			return 125, "failed: " + r.Err.Error()
		case r.Stopped || r.TimedOut:
			continue
		case r.Status.ExitCode() != 0:
			return r.Status.ExitCode(), "exited (" + fn.DescribeExit(r.Status) + ")"
		}
	}
	return 0, "exited (code 0)"
}

// tail is the last lines of u's output (kept for smoke tests).
func (u *unit) tail() string { return u.out.Text() }

// stopAll stops every launched entry in reverse start order, each one
// completely before the next; entries still waiting are cancelled. why, if
// not empty, is announced first.
func (s *System) stopAll(why string) {
	if why != "" {
		s.step(StepStopping, "", why)
	}
	for _, u := range s.units {
		u.mu.Lock()
		launched := u.launched
		if !launched {
			u.cancel() // still waiting: it never starts (launch checks under mu)
		}
		u.mu.Unlock()
		if !launched {
			for _, f := range u.fns {
				f.Close()
			}
		}
	}
	for i := len(s.units) - 1; i >= 0; i-- {
		u := s.units[i]
		u.mu.Lock()
		launched := u.launched
		u.mu.Unlock()
		if launched {
			u.cancel()
			<-u.ended
		}
	}
}

// smokeMet reports whether u met its smoke condition.
func (s *System) smokeMet(u *unit) bool {
	select {
	case <-s.smokeCond(u):
		return true
	default:
		return false
	}
}

// smokeWatch returns a channel closed when every entry meets the smoke
// test: ready when it has checks; completed with 0 when it is restart:
// never without checks; started otherwise.
func (s *System) smokeWatch() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for _, u := range s.units {
			select {
			case <-s.smokeCond(u):
			case <-u.ctx.Done():
				return
			}
		}
		close(done)
	}()
	return done
}

func (s *System) smokeCond(u *unit) chan struct{} {
	c := u.cfgs[0]
	switch {
	case c.Ready.Checks():
		return u.ready
	case c.Runner.Policy == "" || c.Runner.Policy == runner.PolicyNever:
		return u.completed
	}
	return u.settled
}

// notReady names the entries that did not meet the smoke test.
func (s *System) notReady() (string, string) {
	var units []*unit
	for _, u := range s.units {
		if !s.smokeMet(u) {
			units = append(units, u)
		}
	}
	slices.SortFunc(units, func(a, b *unit) int { return strings.Compare(a.e.Name, b.e.Name) })
	var names, tails []string
	for _, u := range units {
		names = append(names, u.e.Name)
		if t := u.tail(); t != "" {
			tails = append(tails, u.e.Name+": "+t)
		}
	}
	return strings.Join(names, ", "), strings.Join(tails, "")
}

// finish collects every function's result.
func (s *System) finish(res Result) Result {
	res.Runs, res.Entries = map[string]fn.Result{}, map[string]string{}
	for _, u := range s.units {
		u.mu.Lock()
		for k, f := range u.fns {
			name := f.Name()
			res.Order = append(res.Order, name)
			res.Entries[name] = u.e.Name
			res.Runs[name] = u.results[k]
		}
		u.mu.Unlock()
	}
	return res
}

// Restart restarts every running function (SIGHUP).
func (s *System) Restart() { s.each(func(f *fn.Function) { f.Restart() }) }

// Kill kills every running function at once (a second Ctrl-C).
func (s *System) Kill() { s.each(func(f *fn.Function) { f.Kill() }) }

// Signal sends sig to every running function.
func (s *System) Signal(sig syscall.Signal) error {
	var errs []error
	s.each(func(f *fn.Function) { errs = append(errs, f.Signal(sig)) })
	return errors.Join(errs...)
}

// SetStopSignal makes the stops that begin afterwards use sig.
func (s *System) SetStopSignal(sig syscall.Signal) {
	s.each(func(f *fn.Function) { f.SetStopSignal(sig) })
}

func (s *System) each(do func(*fn.Function)) {
	for _, u := range s.units {
		for _, f := range u.fns {
			do(f)
		}
	}
}
