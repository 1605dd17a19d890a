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
	"time"
	"unicode/utf8"

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

/*
The status line. On a terminal fnrun keeps what it is doing on the bottom
line (for `up`, one line per entry at work): "fnrun: building
example.com/fn… 3.4s", its elapsed time ticking while a fetch or build
runs, and, while a rebuild under --watch is broken, "fnrun: NAME: BUILD
FAILED…" until the next good build. Every write to the terminal goes
through one screen: fnrun's events and the program's lines on stdout and
stderr alike. The screen erases the status lines, writes, and draws them
again below, so nothing is ever glued to a status line; a status line is
cut to the terminal's width, so it never wraps and erasing it leaves no
debris. A write that ends mid-line (a prompt without newline) keeps the
status hidden until a line ends. Not on a terminal there is no status
line: progress comes as plain lines.
*/

// statusTick is how often the elapsed time on the status line moves.
const statusTick = 100 * time.Millisecond

// progress shows what fetch and build are doing: a live status line on a
// terminal (for `up`, one line per entry at work), plain lines otherwise,
// nothing with -q. Safe for concurrent use.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	scr   *screen // the terminal's status lines; nil: plain lines
	color bool    // BUILD FAILED in red
	off   bool
	multi bool         // one line per name (fnrun up)
	log   *slog.Logger // JSON mode: progress goes through the event logger

	items []statusItem  // what is at work (or broken), in order
	stop  chan struct{} // closed to stop the ticker; nil when none runs
}

// statusItem is one status line: a name at work, or a broken rebuild.
type statusItem struct {
	name    string
	msg     string
	since   time.Time // when the work began (zero for a broken rebuild)
	rebuild bool      // a rebuild under --watch: its progress is not printed as lines
	broken  bool      // a failed rebuild: said until the next good one
}

func (env *appEnv) progress(c *cli.Context) *progress {
	p := &progress{w: env.stderr, off: c.Bool("quiet")}
	if env.jsonLog {
		p.log = env.log
	} else if env.stderrTTY && !isCI() {
		p.scr = env.screen()
		p.color = colorOK(true)
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
	it := p.item(name)
	if p.scr == nil {
		switch {
		case it != nil && it.rebuild: // "change detected … building…" said it
		case p.multi && name != "":
			fmt.Fprintf(p.w, "fnrun: %s: %s\n", name, msg)
		default:
			fmt.Fprintf(p.w, "fnrun: %s\n", msg)
		}
		return
	}
	if it == nil || it.broken {
		p.drop(name)
		p.items = append(p.items, statusItem{name: name, since: time.Now()})
		it = &p.items[len(p.items)-1]
	}
	it.msg = msg
	p.redraw()
}

// rebuilding shows that a rebuild of name began: its time runs from now,
// and a broken build is no longer said.
func (p *progress) rebuilding(name string) {
	if p.off || p.log != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop(name)
	p.items = append(p.items, statusItem{name: name, msg: "building", since: time.Now(), rebuild: true})
	p.redraw()
}

// done ends what name was doing; its status line goes (a broken rebuild
// stays).
func (p *progress) done(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if it := p.item(name); it != nil && !it.broken {
		p.drop(name)
		p.redraw()
	}
}

// broken says on the status line that name's rebuild failed, until the
// next build or fixed.
func (p *progress) broken(name string, running bool) {
	if p.off || p.log != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	msg := "fix the error to start the program"
	if running {
		msg = "the previous build keeps running"
	}
	p.drop(name)
	p.items = append(p.items, statusItem{name: name, msg: msg, broken: true})
	p.redraw()
}

// fixed ends what name was doing, a broken rebuild included.
func (p *progress) fixed(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop(name)
	p.redraw()
}

// end clears every status line: nothing runs any more.
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.items = nil
	p.redraw()
}

func (p *progress) item(name string) *statusItem {
	for i := range p.items {
		if p.items[i].name == name {
			return &p.items[i]
		}
	}
	return nil
}

func (p *progress) drop(name string) {
	p.items = slices.DeleteFunc(p.items, func(it statusItem) bool { return it.name == name })
}

// redraw shows the items as status lines, and keeps the ticker running
// while one of them has a time that runs. Called with p.mu held.
func (p *progress) redraw() {
	if p.scr == nil {
		return
	}
	var lines []statusText
	ticking := false
	for _, it := range p.items {
		switch {
		case it.broken:
			lines = append(lines, statusText{prefix: "fnrun: " + it.name + ": ", red: "BUILD FAILED", text: "; " + it.msg, color: p.color})
		case p.multi:
			lines = append(lines, statusText{prefix: "fnrun: " + it.name + ": ", text: it.msg + "… " + elapsed(time.Since(it.since))})
			ticking = true
		default:
			lines = append(lines, statusText{prefix: "fnrun: ", text: it.msg + "… " + elapsed(time.Since(it.since))})
			ticking = true
		}
	}
	p.scr.setStatus(lines)
	switch {
	case ticking && p.stop == nil:
		p.stop = make(chan struct{})
		go p.tick(p.stop)
	case !ticking && p.stop != nil:
		close(p.stop)
		p.stop = nil
	}
}

// tick moves the elapsed times until stop is closed.
func (p *progress) tick(stop chan struct{}) {
	t := time.NewTicker(statusTick)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.mu.Lock()
			select {
			case <-stop: // closed while waiting for the lock
			default:
				p.redraw()
			}
			p.mu.Unlock()
		case <-stop:
			return
		}
	}
}

// elapsed is a running time on the status line: 0.4s, 12.3s, 1m05s.
func elapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	d = d.Truncate(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
}

// statusText is one status line: prefix, then red in red (with color),
// then text.
type statusText struct {
	prefix, red, text string
	color             bool
}

// render returns the line cut to cols columns (0: no limit), coloured.
func (t statusText) render(cols int) string {
	plain := t.prefix + t.red + t.text
	if cols > 0 && utf8.RuneCountInString(plain) > cols {
		r := []rune(plain)[:cols-1]
		plain = string(r) + "…"
	}
	if !t.color || t.red == "" {
		return plain
	}
	// Colour the red part of what is left of it.
	start := utf8.RuneCountInString(t.prefix)
	r := []rune(plain)
	if start >= len(r) {
		return plain
	}
	end := min(start+utf8.RuneCountInString(t.red), len(r))
	return string(r[:start]) + "\033[31m" + string(r[start:end]) + "\033[0m" + string(r[end:])
}

// screen is fnrun's terminal: it owns the status lines at the bottom and
// every write to the terminal goes through it (screenWriter). Safe for
// concurrent use.
type screen struct {
	mu      sync.Mutex
	w       io.Writer  // the terminal (fnrun's stderr)
	width   func() int // its columns now; 0 when unknown
	lines   []statusText
	shown   int  // status lines on the terminal now; the cursor is at the end of the last
	partial bool // the last write ended mid-line: no status until a line ends
	echo    bool // a key's echo (^C) may follow the cursor
}

// setStatus replaces the status lines.
func (s *screen) setStatus(lines []statusText) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.erase()
	s.lines = lines
	s.draw()
}

// keyEcho notes that the terminal may have echoed a key (^C) after the
// cursor: the next write starts on a line of its own.
func (s *screen) keyEcho() {
	s.mu.Lock()
	s.echo = true
	s.mu.Unlock()
}

// write writes p to w, a stream on this terminal, above the status lines.
func (s *screen) write(w io.Writer, p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.echo && s.shown == 0 {
		io.WriteString(s.w, "\n") // erasing a status line erases the echo with it
	}
	s.echo = false
	s.erase()
	n, err := w.Write(p)
	if n > 0 {
		s.partial = p[n-1] != '\n'
	}
	s.draw()
	return n, err
}

// erase removes the status lines; the cursor ends where the first was.
func (s *screen) erase() {
	if s.shown == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("\r\033[K")
	for range s.shown - 1 {
		b.WriteString("\033[1A\r\033[K")
	}
	io.WriteString(s.w, b.String())
	s.shown = 0
}

// draw writes the status lines, the cursor staying at the end of the last
// (nothing follows it: every write erases it first).
func (s *screen) draw() {
	if s.partial || len(s.lines) == 0 {
		return
	}
	cols := s.width() - 1 // the last column would wrap on some terminals
	if cols < 1 {
		cols = 0
	}
	var b strings.Builder
	for i, l := range s.lines {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(l.render(cols))
	}
	io.WriteString(s.w, b.String())
	s.shown = len(s.lines)
}

// screenWriter is a stream on the terminal, written through its screen.
type screenWriter struct {
	s *screen
	w io.Writer
}

func (sw *screenWriter) Write(p []byte) (int, error) { return sw.s.write(sw.w, p) }

// screenOf returns the screen under the stderr guard g, installing it the
// first time; nil when g is not a terminal. It is first called from Main
// (newLogger), before anything else writes.
func screenOf(w io.Writer) *screen {
	g, ok := w.(*outGuard)
	if !ok || !g.tty {
		return nil
	}
	if sw, ok := g.w.(*screenWriter); ok {
		return sw.s
	}
	f, _ := g.w.(*os.File)
	s := &screen{w: g.w, width: func() int {
		if f == nil {
			return 0
		}
		return termWidth(f) // help.go
	}}
	g.w = &screenWriter{s: s, w: g.w}
	return s
}

// screen returns fnrun's terminal screen, with the program's stdout going
// through it too when stdout is the same terminal; nil when stderr is not
// a terminal. Call it before the program runs.
func (env *appEnv) screen() *screen {
	s := screenOf(env.stderr)
	if s == nil {
		return nil
	}
	if og, ok := env.stdout.(*outGuard); ok && og.tty {
		if _, done := og.w.(*screenWriter); !done && sameFile(og.w, s.w) {
			og.w = &screenWriter{s: s, w: og.w}
		}
	}
	return s
}

// sameFile reports whether a and b are the same open file (one terminal).
func sameFile(a, b io.Writer) bool {
	fa, ok1 := a.(*os.File)
	fb, ok2 := b.(*os.File)
	if !ok1 || !ok2 {
		return false
	}
	sa, err1 := fa.Stat()
	sb, err2 := fb.Stat()
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
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
