package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/internal/cache"
	"github.com/fnrun/fnrun/internal/fn"
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
		dir = os.Getenv("FNRUN_CACHE_DIR") // for commands without the flag (exec): the same control sockets
	}
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

// buildConfig reads the build flags.
func buildConfig(c *cli.Context) (fn.BuildConfig, error) {
	for _, f := range c.StringSlice("build-flag") {
		if !strings.HasPrefix(f, "-") {
			return fn.BuildConfig{}, usageError("--build-flag %q: not a flag", f)
		}
	}
	return fn.BuildConfig{
		Tags:    c.String("tags"),
		Ldflags: c.String("ldflags"),
		Race:    c.Bool("race"),
		Flags:   c.StringSlice("build-flag"),
	}, nil
}

// progress shows what fetch and build are doing: a live status line on a
// terminal (for `up`, one line per entry at work), plain lines otherwise,
// nothing with -q.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	live  bool
	off   bool
	multi bool         // one line per name (fnrun up)
	log   *slog.Logger // JSON mode: progress goes through the event logger

	shown int               // status lines on the screen now
	names []string          // multi: the names at work, in order
	msgs  map[string]string // multi: name → what it does
}

func (env *appEnv) progress(c *cli.Context) *progress {
	p := &progress{w: env.stderr, live: env.stderrTTY && !isCI(), off: c.Bool("quiet"), msgs: map[string]string{}}
	if env.jsonLog {
		p.log = env.log
	}
	return p
}

// say shows what name is doing now.
func (p *progress) say(name, msg string) {
	if p.off {
		return
	}
	if p.log != nil {
		if name == "" {
			p.log.Info(msg)
		} else {
			p.log.Info(msg, "name", name)
		}
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !p.live && p.multi && name != "":
		fmt.Fprintf(p.w, "fnrun: %s: %s\n", name, msg)
	case !p.live:
		fmt.Fprintf(p.w, "fnrun: %s\n", msg)
	case !p.multi:
		fmt.Fprintf(p.w, "\r\033[Kfnrun: %s…", msg)
		p.shown = 1
	default:
		if _, ok := p.msgs[name]; !ok {
			p.names = append(p.names, name)
		}
		p.msgs[name] = msg
		p.redraw()
	}
}

// done ends what name was doing; its status line goes.
func (p *progress) done(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.multi {
		if p.shown > 0 {
			fmt.Fprint(p.w, "\r\033[K")
			p.shown = 0
		}
		return
	}
	if _, ok := p.msgs[name]; !ok {
		return
	}
	delete(p.msgs, name)
	p.names = slices.DeleteFunc(p.names, func(n string) bool { return n == name })
	if p.live {
		p.redraw()
	}
}

// redraw replaces the status lines with one line per name at work (the
// cursor stays below them).
func (p *progress) redraw() {
	var b strings.Builder
	for range p.shown {
		b.WriteString("\033[1A\r\033[K")
	}
	for _, n := range p.names {
		fmt.Fprintf(&b, "fnrun: %s: %s…\n", n, p.msgs[n])
	}
	p.shown = len(p.names)
	io.WriteString(p.w, b.String())
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
