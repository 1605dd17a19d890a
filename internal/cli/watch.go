package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/mod/modfile"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/internal/watch"
	"github.com/fnrun/fnrun/runner"
)

/*
The --watch loop. Rationale (issue 5): a dev loop must never run a stale
binary and must never restart for nothing.

  - A change only rebuilds when the build key changed (a touch, a save with
    identical content or a checkout of the same tree does nothing).
  - After a good build the old process group is stopped gracefully and gone
    before the new binary starts (runner.Replace): no "address already in use".
  - After a failed build the old process keeps running, the compiler output is
    printed loudly, and nothing restarts until a build succeeds.
  - When the program exits on its own and the policy does not restart it, fnrun
    keeps watching and starts it again after the next good build.
*/

func watchFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{DisableDefaultText: true, Name: "watch", Aliases: []string{"w"}, EnvVars: envVar("WATCH"), Category: "Watch",
			Usage: "rebuild and restart when the source changes (local sources)"},
		&cli.DurationFlag{Name: "debounce", Value: watch.DefaultDebounce, EnvVars: envVar("DEBOUNCE"), Category: "Watch",
			Usage: "wait `D` after the last change before rebuilding"},
		&cli.StringSliceFlag{Name: "ignore", EnvVars: envVar("IGNORE"), Category: "Watch",
			Usage: "ignore changes to paths matching `GLOB` (repeatable; ** matches directories)"},
	}
}

// checkWatchFlags validates --debounce and --ignore.
func checkWatchFlags(c *cli.Context) error {
	if c.Duration("debounce") < 0 {
		return usageError("--debounce must not be negative")
	}
	for _, g := range c.StringSlice("ignore") {
		if err := watch.ValidateGlob(g); err != nil {
			return usageError("--ignore %q: %v", g, err)
		}
	}
	return nil
}

// watchRoots returns the module root and every local replace target.
func watchRoots(moduleDir string) []string {
	roots := []string{moduleDir}
	data, err := os.ReadFile(filepath.Join(moduleDir, "go.mod"))
	if err != nil {
		return roots
	}
	mf, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		return roots
	}
	for _, r := range mf.Replace {
		p := r.New.Path
		if r.New.Version != "" || !(strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || filepath.IsAbs(p)) {
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(moduleDir, p)
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			roots = append(roots, p)
		}
	}
	return roots
}

// watchLoop supervises res and rebuilds on change. release unpins res; the
// loop owns it (and the pins of later builds) from here on.
func (env *appEnv) watchLoop(c *cli.Context, root string, co fetch.Checkout, res build.Result, release func(), opts runner.Options) error {
	defer func() { release() }()
	_, vendorErr := os.Stat(filepath.Join(co.ModuleDir, "vendor", "modules.txt"))
	roots := watchRoots(co.ModuleDir)
	w, err := watch.New(watch.Options{
		Roots:      roots,
		Debounce:   c.Duration("debounce"),
		Ignore:     c.StringSlice("ignore"),
		KeepVendor: vendorErr == nil,
		Logger:     env.log,
	})
	if err != nil {
		var le *watch.LimitError
		if errors.As(err, &le) {
			return withCode(ExitFnrun, err)
		}
		return usageError("%v", err)
	}
	defer w.Close()
	b, err := env.builder(c, root, nil)
	if err != nil {
		return err
	}

	ctx := c.Context
	timeout := c.Duration("timeout")
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, timedOut(timeout))
		defer cancel()
	}
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	// sctx ends the supervisor when the loop returns early (a watch error):
	// the program's group is stopped before fnrun exits.
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	werr := make(chan error, 1)
	go func() { werr <- w.Run(wctx) }()

	type result struct {
		st  runner.Status
		err error
	}
	var (
		sup     *runner.Supervisor
		done    chan result
		last    runner.Status
		key     = res.Key
		current = res.Path
		// started counts runs started; replacedAt is its value when the
		// last Replace was asked. If Run returns with the two still equal,
		// the program ended on its own before the new binary could start,
		// and the loop must start it itself.
		started    atomic.Int64
		replacedAt = int64(-1)
	)
	onEvent := opts.OnEvent
	opts.OnEvent = func(e runner.Event) {
		if e.Kind == runner.EventStarted {
			started.Add(1)
		}
		if onEvent != nil {
			onEvent(e)
		}
	}
	defer func() {
		if done != nil {
			scancel()
			<-done
		}
	}()
	start := func(path string) error {
		replacedAt = -1
		o := opts
		o.Path = path
		s, err := runner.New(o)
		if err != nil {
			return usageError("%v", err)
		}
		sup, done = s, make(chan result, 1)
		env.sig.attach(s)
		go func() {
			st, err := s.Run(sctx)
			done <- result{st, err}
		}()
		return nil
	}
	if err := start(current); err != nil {
		return err
	}
	env.log.Info("watching for changes", "dirs", strings.Join(roots, ","))
	req := buildRequest(co)
	changes := w.Changes()
	for {
		select {
		case r := <-done:
			sup, done = nil, nil
			last = r.st
			if r.err != nil {
				var se *runner.StartError
				if errors.As(r.err, &se) {
					return withCode(ExitNoStart, r.err)
				}
				return withCode(ExitFnrun, r.err)
			}
			if ctx.Err() != nil {
				if sc := causeOf(ctx); sc != nil {
					return sc
				}
				return codeOnly(last.ExitCode())
			}
			if replacedAt >= 0 && started.Load() == replacedAt {
				// A rebuild finished just as the program ended: run it.
				if err := start(current); err != nil {
					return err
				}
				continue
			}
			env.log.Info("program ended; waiting for changes", "code", last.ExitCode())
		case ch, ok := <-changes:
			if !ok {
				changes = nil // closed: never select it again
				if err := <-werr; err != nil {
					return withCode(ExitFnrun, fmt.Errorf("watch: %w", err))
				}
				continue
			}
			newKey, _, err := b.Key(ctx, req)
			if err == nil && newKey == key {
				env.log.Debug("change without effect on the build", "files", len(ch.Paths))
				continue
			}
			began := time.Now()
			r, err := b.Build(ctx, req)
			if err != nil {
				if ctx.Err() != nil {
					continue
				}
				env.buildFailed(err, sup != nil)
				continue
			}
			unpin, err := build.Pin(r.Path)
			if err != nil {
				env.buildFailed(err, sup != nil)
				continue
			}
			release()
			release = unpin
			key, current = r.Key, r.Path
			env.log.Info("rebuilt; restarting", "took", time.Since(began), "changed", describeChange(ch, co.ModuleDir))
			if sup != nil {
				replacedAt = started.Load()
				sup.Replace(current)
			} else if err := start(current); err != nil {
				return err
			}
		case <-ctx.Done():
			if sup == nil {
				if sc := causeOf(ctx); sc != nil {
					return sc
				}
				return codeOnly(last.ExitCode())
			}
			// The supervisor sees the same ctx and stops the group; wait for it.
			r := <-done
			done = nil
			if sc := causeOf(ctx); sc != nil {
				return sc
			}
			return codeOnly(r.st.ExitCode())
		}
	}
}

// buildFailed says loudly that a rebuild failed and the old binary keeps running.
func (env *appEnv) buildFailed(err error, running bool) {
	var detail string
	var be *build.Error
	if errors.As(err, &be) {
		detail = be.Output
	} else if d, ok := err.(interface{ Detail() string }); ok {
		detail = d.Detail()
	}
	fmt.Fprintf(env.stderr, "fnrun: BUILD FAILED: %s\n", firstLine(err.Error()))
	if detail = strings.TrimRight(detail, "\n"); detail != "" {
		fmt.Fprintln(env.stderr, indent(detail, "    "))
	}
	if running {
		fmt.Fprintln(env.stderr, "fnrun: still running the previous build; fix the error to restart")
	} else {
		fmt.Fprintln(env.stderr, "fnrun: fix the error to start the program")
	}
}

// describeChange names what a change touched, relative to the module: the
// first path and how many more.
func describeChange(ch watch.Change, moduleDir string) string {
	if len(ch.Paths) == 0 {
		return "rescan"
	}
	first := ch.Paths[0]
	if rel, err := filepath.Rel(moduleDir, first); err == nil && !strings.HasPrefix(rel, "..") {
		first = rel
	}
	if n := len(ch.Paths) - 1; n > 0 || ch.Truncated {
		return fmt.Sprintf("%s and %d more", first, n)
	}
	return first
}
