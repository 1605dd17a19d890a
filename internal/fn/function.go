package fn

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/internal/watch"
	"github.com/fnrun/fnrun/runner"
)

// Function is one function, ready to run. Create it with New.
type Function struct {
	cfg  Config
	src  *source // nil for a program
	name atomic.Value
	prep *prepared // set by Prepare

	mu      sync.Mutex
	sup     *runner.Supervisor // the current supervisor, once there is one
	stopSig syscall.Signal     // SetStopSignal, applied to every supervisor
	killed  bool

	st status // for Status, kept by emit
}

// New validates cfg and returns a Function. It does no I/O: every error a
// Config can have is found here, before any work.
func New(cfg Config) (*Function, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	runner.Warm() // while the source is fetched and built
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Ready.Timeout == 0 {
		cfg.Ready.Timeout = DefaultReadyTimeout
	}
	if err := runner.Validate(cfg.Runner); err != nil { // Path is set by Run
		return nil, &ConfigError{err}
	}
	if cfg.Watch != nil {
		for _, g := range cfg.Watch.Ignore {
			if err := watch.ValidateGlob(g); err != nil {
				return nil, &ConfigError{err}
			}
		}
	}
	f := &Function{cfg: cfg}
	name := cfg.Runner.Name
	if name == "" && cfg.Program != "" {
		name = filepath.Base(cfg.Program)
	}
	f.name.Store(name)
	if cfg.Source != nil {
		src, err := newSource(&f.cfg, f.emit)
		if err != nil {
			return nil, err
		}
		f.src = src
	}
	return f, nil
}

// Name is the function's name: Config.Runner.Name, or the binary's base
// name once it is known.
func (f *Function) Name() string { return f.name.Load().(string) }

func (f *Function) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	f.st.event(e)
	if f.cfg.OnEvent == nil {
		return
	}
	if e.Name == "" {
		e.Name = f.Name()
	}
	f.cfg.OnEvent(e)
}

// onRunner returns a runner.Options.OnEvent: each runner event becomes an
// Event of the run named name, seen by also (if not nil), then emitted.
func (f *Function) onRunner(name string, also func(Event)) func(runner.Event) {
	return func(re runner.Event) {
		e, ok := fromRunner(re)
		if !ok {
			return
		}
		e.Name = name
		if also != nil {
			also(e)
		}
		f.emit(e)
	}
}

// Run fetches, builds and supervises (or watches) the function until it
// ends or ctx is done, and says how it ended. Call it once.
func (f *Function) Run(ctx context.Context) (res Result) {
	defer func() { f.ended(&res) }()
	opts := f.cfg.Runner
	if f.src == nil {
		res.Source, res.Binary = f.cfg.Program, f.cfg.Program
		opts.Path, opts.Name = f.cfg.Program, f.Name()
		f.supervise(ctx, opts, &res)
		return res
	}
	res.Source = f.cfg.Source.Redacted()
	if err := f.Prepare(ctx); err != nil {
		res.Checkout = f.src.co
		res.Err = err
		return res
	}
	b, release := f.prep.res, f.prep.release
	f.prep.release = nil // Run owns the pin now
	res.Checkout = f.src.co
	res.Binary = b.Path
	res.Build = &BuildInfo{Key: b.Key, CacheHit: b.CacheHit, Took: b.Duration}
	opts.Path = b.Path
	opts.Name = f.Name()
	if f.cfg.Watch != nil {
		f.watch(ctx, opts, b, release, &res)
		return res
	}
	f.src.pin(release)
	defer f.src.close()
	opts.BeforeStart = f.src.beforeStart
	f.supervise(ctx, opts, &res)
	f.src.noteRebuild(&res)
	return res
}

// prepared is a fetched, built and pinned source.
type prepared struct {
	res     build.Result
	release func()
}

// Prepare fetches and builds the source and pins the binary, so that Run
// starts it at once (fnrun up builds every entry before it starts any).
// Without a Source, or once prepared, it does nothing. Its errors are
// Run's; Run calls it when the caller did not. Not safe for concurrent use
// with Run.
func (f *Function) Prepare(ctx context.Context) error {
	if f.src == nil || f.prep != nil {
		return nil
	}
	f.setState(StateFetching)
	if err := f.src.fetch(ctx); err != nil {
		return err
	}
	f.setState(StateBuilding)
	b, release, err := f.src.buildPinned(ctx)
	if err != nil {
		return err
	}
	if f.Name() == "" {
		f.name.Store(filepath.Base(b.Path))
	}
	f.emit(Event{Kind: EventBuilt, Binary: b.Path, Key: b.Key, CacheHit: b.CacheHit, Took: b.Duration})
	f.prep = &prepared{res: b, release: release}
	return nil
}

// SameBuild reports whether f and g build the same binary (the same
// source and build options), so that g can share f's build (PrepareFrom).
func (f *Function) SameBuild(g *Function) bool {
	if f.src == nil || g.src == nil {
		return false
	}
	a, b := f.cfg, g.cfg
	return *a.Source == *b.Source && a.Update == b.Update && a.CacheDir == b.CacheDir &&
		a.Build.Tags == b.Build.Tags && a.Build.Ldflags == b.Build.Ldflags && a.Build.Race == b.Build.Race &&
		slices.Equal(a.Build.Flags, b.Build.Flags) && slices.Equal(a.Build.Env, b.Build.Env)
}

// PrepareFrom prepares f with the build of g, which SameBuild as f and is
// prepared: the checkout and the binary are shared, and f takes a pin of its
// own. Ten entries of one source cost one hash, not ten.
func (f *Function) PrepareFrom(g *Function) error {
	if f.prep != nil {
		return nil
	}
	if !f.SameBuild(g) || g.prep == nil {
		return f.Prepare(context.Background())
	}
	release, err := build.Pin(g.prep.res.Path)
	if err != nil {
		return &Error{Phase: PhaseBuild, Err: err}
	}
	f.src.co = g.src.co
	if f.Name() == "" {
		f.name.Store(filepath.Base(g.prep.res.Path))
	}
	f.emit(Event{Kind: EventBuilt, Binary: g.prep.res.Path, Key: g.prep.res.Key, CacheHit: true})
	f.prep = &prepared{res: g.prep.res, release: release}
	return nil
}

// Binary is the binary Prepare built (or found cached), "" before Prepare
// and for a function without a Source.
func (f *Function) Binary() string {
	if f.prep == nil {
		return ""
	}
	return f.prep.res.Path
}

// Close releases the pin Prepare took when Run will not be called.
func (f *Function) Close() {
	if f.prep != nil && f.prep.release != nil {
		f.prep.release()
		f.prep.release = nil
	}
}

// watch runs the dev loop on the directories the build depends on.
func (f *Function) watch(ctx context.Context, opts runner.Options, first build.Result, release func(), res *Result) {
	co := f.src.co
	_, vendorErr := os.Stat(filepath.Join(co.ModuleDir, "vendor", "modules.txt"))
	dirs := first.Dirs // exactly what the build key covers (build owns it)
	if len(dirs) == 0 {
		dirs = []string{co.ModuleDir}
	}
	w, err := watch.New(watch.Options{
		Roots:      dirs,
		Debounce:   f.cfg.Watch.Debounce,
		Early:      watch.DefaultEarly, // the dev loop builds at a burst's start
		Ignore:     f.cfg.Watch.Ignore,
		KeepVendor: vendorErr == nil,
		Logger:     f.cfg.Logger,
	})
	if err != nil {
		release()
		res.Err = &Error{Phase: PhaseWatch, Err: err}
		return
	}
	defer w.Close()
	ctx, cancelTimeout := f.withTimeout(ctx)
	defer cancelTimeout()
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	werr := make(chan error, 1)
	go func() { werr <- w.Run(wctx) }()

	l := &devLoop{build: (*sourceBuilder)(f.src), changes: w.Changes(), watchErr: werr, emit: f.emit,
		moduleDir: co.ModuleDir, log: f.cfg.Logger}
	defer f.src.close() // a pin taken by a rebuild at restart (beforeStart)
	l.start = func(path string) (supervisor, error) {
		o := opts
		o.Path = path
		o.BeforeStart = f.src.beforeStart
		o.OnEvent = f.onRunner(o.Name, func(e Event) {
			if e.Kind == EventStarted {
				l.noteStarted()
			}
		})
		s, err := runner.New(o)
		if err != nil {
			return nil, &ConfigError{err}
		}
		f.attach(s)
		return s, nil
	}
	f.emit(Event{Kind: EventWatching, Dirs: dirs})
	res.Status, res.Err = l.run(ctx, binary{Path: first.Path, Key: first.Key, Release: release,
		Built: !first.CacheHit, Matters: inputsMatter(first.Inputs)})
	f.src.noteRebuild(res)
	if res.Err != nil {
		return
	}
	switch {
	case errors.Is(context.Cause(ctx), errTimedOut):
		res.TimedOut = true
	case ctx.Err() != nil:
		res.Stopped = true
	}
}

// sourceBuilder is a source as the dev loop's rebuilder.
type sourceBuilder source

func (b *sourceBuilder) Key(ctx context.Context) (string, error) { return (*source)(b).key(ctx) }

func (b *sourceBuilder) Build(ctx context.Context) (binary, error) {
	began := time.Now()
	r, release, err := (*source)(b).buildPinned(ctx)
	if err != nil {
		return binary{}, err
	}
	return binary{Path: r.Path, Key: r.Key, Took: time.Since(began), Release: release,
		Built: !r.CacheHit, Matters: inputsMatter(r.Inputs)}, nil
}

func (b *sourceBuilder) Remove(key string) (bool, error) { return b.builder.Remove(key) }

// inputsMatter is in.Matters, nil when nothing was recorded.
func inputsMatter(in *build.Inputs) func(string) bool {
	if in == nil {
		return nil
	}
	return in.Matters
}

// attach makes s the supervisor that Restart, Kill and Signal reach.
func (f *Function) attach(s *runner.Supervisor) {
	f.mu.Lock()
	f.sup = s
	sig, killed := f.stopSig, f.killed
	f.mu.Unlock()
	if sig != 0 {
		s.SetStopSignal(sig)
	}
	if killed {
		s.Kill()
	}
}

func (f *Function) current() *runner.Supervisor {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sup
}

// Restart stops the current run gracefully and starts the program again at
// once, with the backoff reset (like SIGHUP). Before the first run it does
// nothing.
func (f *Function) Restart() {
	if s := f.current(); s != nil {
		s.Restart()
	}
}

// Kill SIGKILLs the current run's group at once, also in the middle of a
// graceful stop; no further run is started.
func (f *Function) Kill() {
	f.mu.Lock()
	f.killed = true
	s := f.sup
	f.mu.Unlock()
	if s != nil {
		s.Kill()
	}
}

// Signal sends sig to the current run's processes; nil when none runs.
func (f *Function) Signal(sig syscall.Signal) error {
	if s := f.current(); s != nil {
		return s.Signal(sig)
	}
	return nil
}

// SetStopSignal makes the stops that begin afterwards use sig (a Ctrl-\ is
// passed on as SIGQUIT); 0 restores Config.Runner.StopSignal.
func (f *Function) SetStopSignal(sig syscall.Signal) {
	f.mu.Lock()
	f.stopSig = sig
	s := f.sup
	f.mu.Unlock()
	if s != nil {
		s.SetStopSignal(sig)
	}
}
