package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/build"
	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/internal/cache"
)

const (
	catBuild  = "Build"
	catSource = "Source"
)

// sourceFlags are shared by `run`, `build` and `fetch`.
func sourceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cache-dir", EnvVars: envVar("CACHE_DIR"), Category: catSource,
			Usage: "cache `DIR` (default: the user cache directory + /fnrun)"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "update", Aliases: []string{"u"}, EnvVars: envVar("UPDATE"), Category: catSource,
			Usage: "resolve @latest, branches and unpinned URLs again instead of reusing the remembered result"},
	}
}

// buildFlags are shared by `run` and `build`.
func buildFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tags", EnvVars: envVar("TAGS"), Category: catBuild, Usage: "comma-separated build tags"},
		&cli.StringFlag{Name: "ldflags", EnvVars: envVar("LDFLAGS"), Category: catBuild, Usage: "flags for the linker (go build -ldflags)"},
		&cli.BoolFlag{DisableDefaultText: true, Name: "race", EnvVars: envVar("RACE"), Category: catBuild, Usage: "build with the race detector"},
		&cli.StringSliceFlag{Name: "build-flag", EnvVars: envVar("BUILD_FLAG"), Category: catBuild,
			Usage: "extra `ARG` for go build (repeatable)"},
	}
}

func cacheDir(c *cli.Context) (string, error) {
	dir := c.String("cache-dir")
	if dir == "" {
		d, err := cache.DefaultDir()
		if err != nil {
			return "", withCode(ExitFnrun, err)
		}
		dir = d
	}
	if err := cache.Ensure(dir); err != nil {
		return "", withCode(ExitFnrun, err)
	}
	return dir, nil
}

// parseSource parses SOURCE; a malformed one is a usage error.
func parseSource(s string) (fetch.Source, error) {
	src, err := fetch.Parse(s)
	if err != nil {
		return src, withCode(ExitUsage, err)
	}
	if src.Kind == fetch.KindLocal {
		if strings.Contains(s, "...") {
			return src, usageError("%s is a package pattern: name one main package directory, e.g. ./cmd/fn", s)
		}
		if _, err := os.Stat(src.Dir); err != nil && strings.Contains(filepath.Base(s), "@") {
			return src, usageError("%s: a local directory takes no @version (versions are for module paths like example.com/fn@v1.2.0)", s)
		}
	}
	return src, nil
}

// fetchSource turns SOURCE into a checkout.
func (env *appEnv) fetchSource(c *cli.Context, root string, src fetch.Source) (fetch.Checkout, error) {
	p := env.progress(c)
	defer p.done()
	if src.Kind != fetch.KindLocal {
		// Downloads of a killed fnrun are left in the cache's tmp/: sweep
		// old ones (best effort; fresh ones may belong to a running fnrun).
		if err := build.SweepTmp(root, build.StaleTmpAge); err != nil {
			env.log.Debug("sweep cache tmp", "err", err)
		}
	}
	f, err := fetch.New(fetch.Options{CacheDir: root, Update: c.Bool("update"), Logger: env.log, Progress: p.say})
	if err != nil {
		return fetch.Checkout{}, withCode(ExitFnrun, err)
	}
	co, err := f.Fetch(c.Context, src)
	if err != nil {
		if nm := (*fetch.NoModuleError)(nil); errors.As(err, &nm) {
			// The one local mistake with an obvious fix.
			return co, withDetail(ExitFnrun, err, "make it a module first: cd "+nm.Dir+" && go mod init NAME")
		}
		return co, toolError(c, err)
	}
	if co.Stale {
		env.log.Warn(fmt.Sprintf("update failed, running the previous checkout (%s): %v", co.Version, co.UpdateErr))
	}
	return co, nil
}

// buildCheckout builds a checkout into the cache.
func (env *appEnv) buildCheckout(c *cli.Context, root string, co fetch.Checkout) (build.Result, error) {
	p := env.progress(c)
	defer p.done()
	b, err := env.builder(c, root, p.say)
	if err != nil {
		return build.Result{}, err
	}
	res, err := b.Build(c.Context, buildRequest(co))
	if err != nil {
		var nm *build.NotMainError
		if co.Identity == "" && errors.As(err, &nm) && len(nm.Mains) > 0 {
			// A local source: list the main packages as SOURCEs to paste.
			return res, withDetail(ExitFnrun, err, "main packages in this module:\n\t"+strings.Join(localMains(co, nm.Mains), "\n\t"))
		}
		return res, toolError(c, err)
	}
	if !res.CacheHit {
		env.log.Debug("built", "binary", res.Path, "in", res.Duration)
	}
	return res, nil
}

// pinBuild builds co and pins the binary in the cache for as long as it is
// supervised (until release), so that `cache clean` and `cache prune` leave
// it alone. A binary removed between build and pin is built again.
func (env *appEnv) pinBuild(c *cli.Context, root string, co fetch.Checkout) (build.Result, func(), error) {
	for attempt := 0; ; attempt++ {
		res, err := env.buildCheckout(c, root, co)
		if err != nil {
			return res, nil, err
		}
		release, err := build.Pin(res.Path)
		if err == nil {
			return res, release, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt > 0 {
			return res, nil, withCode(ExitFnrun, err)
		}
	}
}

func buildRequest(co fetch.Checkout) build.Request {
	source := co.Source
	if co.Identity == "" {
		source = co.PackageDir // a local source: the absolute directory, for `cache ls`
	}
	return build.Request{ModuleDir: co.ModuleDir, PackageDir: co.PackageDir, Identity: co.Identity, Source: source, Flags: co.BuildFlags, Env: co.BuildEnv}
}

func (env *appEnv) builder(c *cli.Context, root string, progress func(string)) (*build.Builder, error) {
	for _, f := range c.StringSlice("build-flag") {
		if !strings.HasPrefix(f, "-") {
			return nil, usageError("--build-flag %q: not a flag", f)
		}
	}
	b, err := build.New(build.Options{
		CacheDir:   root,
		Tags:       c.String("tags"),
		Ldflags:    c.String("ldflags"),
		Race:       c.Bool("race"),
		BuildFlags: c.StringSlice("build-flag"),
		Logger:     env.log,
		Progress:   progress,
	})
	if err != nil {
		return nil, usageError("%v", err)
	}
	return b, nil
}

// toolError maps a fetch or build failure to exit 125 with its detail: the
// compiler's output always, other tools' output with -v.
func toolError(c *cli.Context, err error) error {
	var detail string
	var d interface{ Detail() string }
	if errors.As(err, &d) {
		detail = d.Detail()
	}
	var be *build.Error
	if errors.As(err, &be) {
		detail = be.Output
	}
	var fe *fetch.Error
	if errors.As(err, &fe) && c.Bool("verbose") {
		detail = fe.Output
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return withDetail(ExitFnrun, err, detail)
}

// progress shows what fetch and build are doing: a live status line on a
// terminal, plain lines otherwise, nothing with -q.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	live  bool
	shown bool
	off   bool
	start time.Time
	log   *slog.Logger // JSON mode: progress goes through the event logger
}

func (env *appEnv) progress(c *cli.Context) *progress {
	p := &progress{w: env.stderr, live: env.stderrTTY && !isCI(), off: c.Bool("quiet"), start: time.Now()}
	if env.jsonLog {
		p.log = env.log
	}
	return p
}

func (p *progress) say(msg string) {
	if p.off {
		return
	}
	if p.log != nil {
		p.log.Info(msg)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live {
		fmt.Fprintf(p.w, "\r\033[Kfnrun: %s…", msg)
		p.shown = true
		return
	}
	fmt.Fprintf(p.w, "fnrun: %s\n", msg)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// localMains turns the import paths of a local module's main packages into
// directories relative to the working directory ("./cmd/fn"), as a user
// would type them after `fnrun run`.
func localMains(co fetch.Checkout, mains []string) []string {
	rel, err := filepath.Rel(co.ModuleDir, co.PackageDir)
	if err != nil {
		return mains
	}
	modPath := co.ImportPath
	if rel != "." {
		modPath = strings.TrimSuffix(co.ImportPath, "/"+filepath.ToSlash(rel))
	}
	wd, _ := os.Getwd()
	out := make([]string, 0, len(mains))
	for _, m := range mains {
		sub, ok := strings.CutPrefix(m, modPath)
		if !ok || (sub != "" && sub[0] != '/') {
			out = append(out, m)
			continue
		}
		dir := filepath.Join(co.ModuleDir, filepath.FromSlash(sub))
		if r, err := filepath.Rel(wd, dir); err == nil && !strings.HasPrefix(r, "..") {
			dir = "." + string(filepath.Separator) + r
		}
		out = append(out, dir)
	}
	return out
}
