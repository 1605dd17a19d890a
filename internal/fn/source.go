package fn

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/fetch"
)

/*
A source: fetch it into the cache, build it, pin the binary for as long as
it is supervised (so `cache clean` and `cache prune` leave it alone), and
check the binary again before every restart. A binary that is gone (a tmp
cleaner removed the cache) or changed (overwritten, truncated) is rebuilt
once, re-fetching a remote source whose checkout went too, with a warning;
if that fails the run cannot start.
*/

// source is one Config.Source on its way to a binary.
type source struct {
	cfg     *Config
	emit    func(Event)
	fetcher *fetch.Fetcher
	builder *build.Builder
	co      fetch.Checkout

	mu      sync.Mutex
	release func()        // the supervised binary's pin
	rebuilt *build.Result // the last rebuild at a restart (beforeStart), if any
}

// lastRebuild is the binary a rebuild at restart made, or nil.
func (s *source) lastRebuild() *build.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rebuilt
}

// newSource validates the fetch and build options; it does no I/O.
func newSource(cfg *Config, emit func(Event)) (*source, error) {
	s := &source{cfg: cfg, emit: emit}
	progress := func(msg string) { emit(Event{Kind: EventProgress, Name: cfg.Runner.Name, Msg: msg}) }
	var err error
	s.fetcher, err = fetch.New(fetch.Options{CacheDir: cfg.CacheDir, Update: cfg.Update, Logger: cfg.Logger, Progress: progress})
	if err != nil {
		return nil, &ConfigError{err}
	}
	s.builder, err = build.New(build.Options{
		CacheDir: cfg.CacheDir, Tags: cfg.Build.Tags, Ldflags: cfg.Build.Ldflags, Race: cfg.Build.Race,
		BuildFlags: cfg.Build.Flags, Env: cfg.Build.Env, Logger: cfg.Logger, Progress: progress,
	})
	if err != nil {
		return nil, &ConfigError{err}
	}
	return s, nil
}

// fetch turns the source into a checkout.
func (s *source) fetch(ctx context.Context) error {
	defer s.emit(Event{Kind: EventProgressDone, Name: s.cfg.Runner.Name})
	src := *s.cfg.Source
	if src.Kind != fetch.KindLocal {
		// Downloads of a killed fnrun are left in the cache's tmp/: sweep
		// old ones (best effort; fresh ones may belong to a running fnrun).
		build.SweepTmp(s.cfg.CacheDir, build.StaleTmpAge)
	}
	co, err := s.fetcher.Fetch(ctx, src)
	if err != nil {
		return &Error{Phase: PhaseFetch, Err: err}
	}
	if co.Stale {
		s.emit(Event{Kind: EventWarning, Name: s.cfg.Runner.Name, Err: co.UpdateErr,
			Msg: fmt.Sprintf("update failed, running the previous checkout (%s): %v", co.Version, co.UpdateErr)})
	}
	s.co = co
	return nil
}

// request is what the builder builds.
func (s *source) request() build.Request {
	co := s.co
	src := co.Source
	if co.Identity == "" {
		src = co.PackageDir // a local source: the absolute directory, for `cache ls`
	}
	return build.Request{ModuleDir: co.ModuleDir, PackageDir: co.PackageDir, Identity: co.Identity, Source: src,
		Flags: co.BuildFlags, Env: co.BuildEnv, Watch: s.cfg.Watch != nil}
}

// build builds the checkout into the cache (a hit costs a hash).
func (s *source) build(ctx context.Context) (build.Result, error) {
	defer s.emit(Event{Kind: EventProgressDone, Name: s.cfg.Runner.Name})
	res, err := s.builder.Build(ctx, s.request())
	if err != nil {
		return res, &Error{Phase: PhaseBuild, Err: err}
	}
	return res, nil
}

// buildPinned builds and pins the binary; a binary removed between build
// and pin is built again.
func (s *source) buildPinned(ctx context.Context) (build.Result, func(), error) {
	for attempt := 0; ; attempt++ {
		res, err := s.build(ctx)
		if err != nil {
			return res, nil, err
		}
		release, err := build.Pin(res.Path)
		if err == nil {
			return res, release, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt > 0 {
			return res, nil, &Error{Phase: PhaseBuild, Err: err}
		}
	}
}

// key is the build key of the source as it is now (no build).
func (s *source) key(ctx context.Context) (string, error) {
	k, _, err := s.builder.Key(ctx, s.request())
	return k, err
}

// pin makes release the supervised binary's pin, releasing the one before.
func (s *source) pin(release func()) {
	s.mu.Lock()
	old := s.release
	s.release = release
	s.mu.Unlock()
	if old != nil {
		old()
	}
}

// close releases the pin.
func (s *source) close() { s.pin(nil) }

// beforeStart is the supervisor's hook before every run: the binary is
// checked against its cache entry (build.Verify: a stat and the entry's
// metadata; the content is hashed only when they differ) and rebuilt once
// when it is gone or changed.
func (s *source) beforeStart(ctx context.Context, run int, path string) (string, error) {
	if run == 1 {
		return path, nil // just built, or checked by the cache hit
	}
	err := build.Verify(path)
	if err == nil {
		return path, nil
	}
	if !errors.Is(err, build.ErrEntryDamaged) && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	what := "was removed"
	if !errors.Is(err, fs.ErrNotExist) {
		what = "changed since it was built"
	}
	s.emit(Event{Kind: EventWarning, Name: s.cfg.Runner.Name, Err: err, Msg: fmt.Sprintf("cached binary %s %s; rebuilding", path, what)})
	if _, statErr := os.Stat(s.co.ModuleDir); statErr != nil {
		if err := s.fetch(ctx); err != nil {
			return "", err
		}
	}
	res, release, err := s.buildPinned(ctx)
	if err != nil {
		return "", err
	}
	s.pin(release)
	s.mu.Lock()
	s.rebuilt = &res
	s.mu.Unlock()
	s.emit(Event{Kind: EventBuilt, Name: s.cfg.Runner.Name, Binary: res.Path, Key: res.Key, CacheHit: res.CacheHit, Took: res.Duration})
	return res.Path, nil
}

// Fetch fetches cfg.Source into the cache and returns the checkout (fnrun
// fetch). Progress and warnings go to cfg.OnEvent.
func Fetch(ctx context.Context, cfg Config) (fetch.Checkout, error) {
	f, err := withSource(cfg)
	if err != nil {
		return fetch.Checkout{}, err
	}
	err = f.src.fetch(ctx)
	return f.src.co, err
}

// Build fetches and builds cfg.Source into the cache (fnrun build). The
// binary is not pinned.
func Build(ctx context.Context, cfg Config) (build.Result, fetch.Checkout, error) {
	f, err := withSource(cfg)
	if err != nil {
		return build.Result{}, fetch.Checkout{}, err
	}
	if err := f.src.fetch(ctx); err != nil {
		return build.Result{}, f.src.co, err
	}
	res, err := f.src.build(ctx)
	if err == nil {
		f.emit(Event{Kind: EventBuilt, Binary: res.Path, Key: res.Key, CacheHit: res.CacheHit, Took: res.Duration})
	}
	return res, f.src.co, err
}

// withSource is New for a Config that must have a Source.
func withSource(cfg Config) (*Function, error) {
	if cfg.Source == nil {
		return nil, &ConfigError{errors.New("nothing to fetch: no source")}
	}
	return New(cfg)
}

// noteRebuild makes res name the binary a rebuild at restart made, if one
// did: the report then names what ran last, not a binary that is gone.
func (s *source) noteRebuild(res *Result) {
	if b := s.lastRebuild(); b != nil {
		res.Binary = b.Path
		res.Build = &BuildInfo{Key: b.Key, CacheHit: b.CacheHit, Took: b.Duration}
	}
}
