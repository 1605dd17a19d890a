package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

// Defaults for Options.
const (
	DefaultHTTPTimeout     = 10 * time.Minute
	DefaultMaxArchiveFiles = 10000
	DefaultMaxArchiveBytes = 200 << 20 // 200 MiB
)

// buildFlags are the go build flags a non-local checkout must be built with.
// The checkout is the main module, published read-only with a go.sum that
// fetch completed before publishing (verified as usual against GOSUMDB):
// the build must never write into it, whatever the user's GOFLAGS say.
// And the go command must not run a version control tool in it: a fetched
// repository's own configuration (core.fsmonitor, hooks) would run commands.
var buildFlags = []string{"-mod=readonly", "-buildvcs=false"}

// buildEnv is appended to the build environment of non-local checkouts: a
// user's go.work must not take the checkout over.
var buildEnv = []string{"GOWORK=off"}

// Options configure a Fetcher. The zero value is usable.
type Options struct {
	CacheDir        string        // cache root; "" = cache.DefaultDir()
	Update          bool          // resolve moving references again (-u)
	Env             []string      // environment of go and git; nil = os.Environ()
	Logger          *slog.Logger  // fnrun's own events; nil = discard
	Progress        func(string)  // called with a short message before slow steps; may be nil
	HTTPTimeout     time.Duration // whole-download timeout for HTTP archives; 0 = DefaultHTTPTimeout
	MaxArchiveFiles int           // 0 = DefaultMaxArchiveFiles
	MaxArchiveBytes int64         // per archive and per file; 0 = DefaultMaxArchiveBytes
}

// Checkout is a fetched source, ready to build.
type Checkout struct {
	ModuleDir  string // directory holding go.mod
	PackageDir string // directory of the package to build (inside ModuleDir)
	ImportPath string // import path of that package
	Identity   string // immutable identity of the content; "" for local sources; never holds credentials
	Version    string // resolved module version or git commit; "" for local and archives
	Source     string // the SOURCE as given, with URL credentials replaced by "xxxxx" (Source.Redacted)

	// BuildFlags and BuildEnv must be added to go build for this checkout
	// (flags before the package, env entries after the user's environment).
	BuildFlags []string
	BuildEnv   []string

	Stale     bool  // Options.Update failed: this is the previous checkout
	UpdateErr error // why the update failed, when Stale
}

// Error is a failed fetch. Its message is one line, "fetch SOURCE: cause";
// Output holds the underlying tool's output, for verbose display. Errors
// returned by Fetch have the credentials of a URL (in Source, the message
// and Output) replaced by "xxxxx".
type Error struct {
	Source string
	Op     string // "resolve", "download", "copy", "locate" …
	Err    error
	Output string
}

// Error returns the first line of the cause: the rest is in Output.
func (e *Error) Error() string {
	msg := e.Err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return redactURLs("fetch " + e.Source + ": " + msg)
}
func (e *Error) Unwrap() error { return e.Err }

// Fetcher turns Sources into Checkouts. It is safe for concurrent use.
type Fetcher struct {
	opts Options
	root string
	env  []string
	log  *slog.Logger
}

// New validates opts and returns a Fetcher. It writes nothing: the cache is
// created by the first fetch that needs it.
func New(opts Options) (*Fetcher, error) {
	if opts.CacheDir == "" {
		dir, err := cache.DefaultDir()
		if err != nil {
			return nil, err
		}
		opts.CacheDir = dir
	}
	root, err := filepath.Abs(opts.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	if opts.HTTPTimeout < 0 || opts.MaxArchiveFiles < 0 || opts.MaxArchiveBytes < 0 {
		return nil, errors.New("fetch options: negative timeout or limit")
	}
	if opts.HTTPTimeout == 0 {
		opts.HTTPTimeout = DefaultHTTPTimeout
	}
	if opts.MaxArchiveFiles == 0 {
		opts.MaxArchiveFiles = DefaultMaxArchiveFiles
	}
	if opts.MaxArchiveBytes == 0 {
		opts.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Fetcher{opts: opts, root: root, env: append([]string(nil), env...), log: log}, nil
}

// Fetch resolves src and returns its checkout. Errors are *Error.
func (f *Fetcher) Fetch(ctx context.Context, src Source) (Checkout, error) {
	var co Checkout
	var err error
	switch src.Kind {
	case KindLocal:
		co, err = f.fetchLocal(src)
	case KindModule:
		co, err = f.fetchModule(ctx, src)
	case KindGetter:
		co, err = f.fetchGetter(ctx, src)
	default:
		err = &Error{Source: src.Raw, Op: "parse", Err: fmt.Errorf("unknown source kind %v", src.Kind)}
	}
	if err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			fe = &Error{Source: src.Raw, Op: "fetch", Err: err}
			err = fe
		}
		if msg := fe.Err.Error(); fe.Output == "" && strings.Contains(msg, "\n") {
			fe.Output = msg
		}
		return Checkout{}, redactFetchError(src, err)
	}
	co.Source = src.Redacted()
	if src.Kind != KindLocal {
		co.BuildFlags = append([]string(nil), buildFlags...)
		co.BuildEnv = append([]string(nil), buildEnv...)
	}
	return co, nil
}

func (f *Fetcher) progress(format string, args ...any) {
	if f.opts.Progress != nil {
		f.opts.Progress(fmt.Sprintf(format, args...))
	}
}

// getenv looks key up in the fetcher's environment (last entry wins).
func (f *Fetcher) getenv(key string) string {
	v := ""
	for _, kv := range f.env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// fetchLocal uses a directory in place.
func (f *Fetcher) fetchLocal(src Source) (Checkout, error) {
	fail := func(err error) (Checkout, error) {
		return Checkout{}, &Error{Source: src.Raw, Op: "locate", Err: err}
	}
	dir := src.Dir
	if !filepath.IsAbs(dir) {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fail(err)
		}
		dir = abs
	}
	dir = filepath.Clean(dir)
	fi, err := os.Stat(dir)
	if err != nil {
		return fail(err)
	}
	if !fi.IsDir() {
		return fail(fmt.Errorf("%s is not a directory", dir))
	}
	modDir, err := findModuleDir(dir, "")
	if err != nil {
		return fail(err)
	}
	imp, err := importPath(modDir, dir)
	if err != nil {
		return fail(err)
	}
	return Checkout{ModuleDir: modDir, PackageDir: dir, ImportPath: imp}, nil
}
