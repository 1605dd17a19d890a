package build

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
	"github.com/fnrun/fnrun/internal/toolcmd"
)

// metaFile is the entry's metadata; its mtime records the entry's last use.
const metaFile = "meta.json"

// Options configures a Builder. The zero value is usable.
type Options struct {
	CacheDir   string   // cache root; "" means cache.DefaultDir()
	Tags       string   // -tags, comma-separated
	Ldflags    string   // -ldflags
	Race       bool     // -race
	BuildFlags []string // extra raw `go build` arguments; -o and -C are refused
	Env        []string // environment for the go command; nil means os.Environ()
	// Progress, if set, receives short human-readable messages
	// ("building example.com/fn"). It may be called from several goroutines.
	Progress func(msg string)
	Logger   *slog.Logger // fnrun's own debug events; nil discards
}

// Request names what to build.
type Request struct {
	ModuleDir  string // the module root (holds go.mod)
	PackageDir string // the main package's directory inside ModuleDir; "" means ModuleDir
	// Identity is an immutable identity of a remote source ("module example.com/fn v1.0.0 h1:…",
	// "git <commit>"). Empty means a local source: the module tree is hashed.
	Identity string
	Source   string // the user's SOURCE, recorded in the entry for `cache ls`
	// Flags and Env are what the source itself needs for go build (a fetched
	// module: -mod=readonly, GOWORK=off): Flags go before the package, Env entries
	// after the user's environment. Both are part of the cache key.
	Flags []string
	Env   []string
	// Watch marks a build for a watch (`fnrun run --watch`): an entry it
	// creates records it (Entry.Watch), and the watch removes it once
	// superseded (Builder.Remove). Not part of the key: the binary is the same.
	Watch bool
}

// Result is a built (or cached) binary.
type Result struct {
	Path     string // the binary
	Key      string
	Manifest string
	CacheHit bool
	Duration time.Duration
	// Dirs are the directories whose files the key of a local source covers,
	// to be watched recursively for changes: the module root, every local
	// replace target and, when a go.work applies, its use directories and
	// the go.work file's own directory (for go.work and go.work.sum).
	// Absolute, cleaned, sorted, none inside another unless a walk may skip
	// it (see dirs.go). Nil for a remote source (Request.Identity set).
	// Builder.Dirs computes the same list without building.
	Dirs []string
	// Inputs are the directories of the packages the program imports
	// within Dirs, recorded when the entry was built (see inputs.go): a
	// watcher asks Inputs.Matters whether a change can matter before it
	// computes a key. Nil for a remote source and for an entry built
	// before fnrun recorded them: then every change can matter.
	Inputs *Inputs
}

// Builder builds packages into a cache directory. It is safe for concurrent
// use; several Builders and processes may share one cache directory.
type Builder struct {
	opts     Options
	root     string
	env      []string
	logger   *slog.Logger
	fpCutoff time.Duration

	mu    sync.Mutex
	facts map[string]*facts // toolchain key → facts
}

// New validates opts and returns a Builder. It does not touch the disk.
func New(opts Options) (*Builder, error) {
	for _, f := range opts.BuildFlags {
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if strings.HasPrefix(f, "-") && (name == "o" || name == "C") {
			return nil, fmt.Errorf("build: flag %s is not allowed in build flags (fnrun sets the output and directory)", f)
		}
	}
	b := &Builder{opts: opts, root: opts.CacheDir, env: opts.Env, logger: opts.Logger,
		fpCutoff: 2 * time.Second, facts: map[string]*facts{}}
	if b.root == "" {
		dir, err := cache.DefaultDir()
		if err != nil {
			return nil, err
		}
		b.root = dir
	}
	root, err := filepath.Abs(b.root)
	if err != nil {
		return nil, fmt.Errorf("build: cache directory: %w", err)
	}
	b.root = root
	if b.env == nil {
		b.env = os.Environ()
	}
	if b.logger == nil {
		b.logger = slog.New(slog.DiscardHandler)
	}
	return b, nil
}

// meta is an entry's meta.json. Size, ModTime, CTime, Inode and SHA256
// describe the binary as published or last hashed (see verify.go); entries
// written before they existed have only Size and are hashed once.
type meta struct {
	Key      string    `json:"key"`
	Source   string    `json:"source"`
	Package  string    `json:"package"`
	Binary   string    `json:"binary"`
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"mtime,omitzero"`
	CTime    time.Time `json:"ctime,omitzero"` // inode change time; zero where unknown
	Inode    uint64    `json:"inode,omitempty"`
	SHA256   string    `json:"sha256,omitempty"`
	Created  time.Time `json:"created"`
	Manifest string    `json:"manifest"`
	// Watch is set when the entry was built for a watch (Request.Watch);
	// entries written before it existed read as false.
	Watch bool `json:"watch,omitempty"`
	// Inputs are the package directories of a local build (inputs.go);
	// nil for a remote source and in entries written before it existed.
	Inputs *metaInputs `json:"inputs,omitempty"`
}

// Build returns the cached binary for req, building it first on a miss. A
// cache entry whose binary or meta.json changed since it was published is
// built again, with a warning on the logger (see Verify).
func (b *Builder) Build(ctx context.Context, req Request) (Result, error) {
	start := time.Now()
	p, err := b.plan(ctx, req)
	if err != nil {
		return Result{}, err
	}
	final := entryDir(b.root, p.key)
	res := Result{Path: filepath.Join(final, p.name), Key: p.key, Manifest: p.manifest,
		Dirs: dependencyDirs(p.trees, p.work)}
	done := func(hit bool) (Result, error) {
		res.CacheHit, res.Duration = hit, time.Since(start)
		b.logger.Debug("build", "package", p.importPath, "key", p.key, "hit", hit, "duration", res.Duration)
		return res, nil
	}
	hit := func(m meta) (Result, error) {
		if p.req.Identity == "" {
			res.Inputs = resolveInputs(m.Inputs, p.trees)
		}
		return done(true)
	}
	if m, ok := b.cached(ctx, p, final, res.Path, true); ok {
		return hit(m)
	}
	if p.facts.noGo {
		return Result{}, ErrNoGo
	}
	if err := checkGoVersion(p); err != nil {
		return Result{}, err
	}
	if err := b.checkMain(ctx, p); err != nil {
		return Result{}, err
	}

	unlock, err := cache.Lock(ctx, b.root, "build "+p.key)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	if m, ok := b.cached(ctx, p, final, res.Path, false); ok { // built by someone else while we waited
		return hit(m)
	}
	m, err := b.buildEntry(ctx, p, final)
	if err != nil {
		return Result{}, err
	}
	if p.req.Identity == "" {
		res.Inputs = resolveInputs(m.Inputs, p.trees)
	}
	return done(false)
}

func entryDir(root, key string) string {
	return filepath.Join(root, cache.BinDir, key[:2], key)
}

// buildEntry runs go build into a fresh temporary directory and renames it to
// final, and returns the entry's meta. The caller holds the key's lock.
func (b *Builder) buildEntry(ctx context.Context, p *plan, final string) (meta, error) {
	if b.opts.Progress != nil {
		b.opts.Progress("building " + p.importPath)
	}
	tmp, err := cache.TempDir(b.root, "build-")
	if err != nil {
		return meta{}, err
	}
	published := false
	defer func() {
		if !published {
			os.RemoveAll(tmp)
		}
	}()
	out := filepath.Join(tmp, p.name)
	args := []string{"build", "-trimpath"}
	if b.opts.Tags != "" {
		args = append(args, "-tags", b.opts.Tags)
	}
	if b.opts.Ldflags != "" {
		args = append(args, "-ldflags", b.opts.Ldflags)
	}
	if b.opts.Race {
		args = append(args, "-race")
	}
	args = append(args, b.opts.BuildFlags...)
	args = append(args, p.req.Flags...)
	args = append(args, "-o", out, ".")

	cmd := toolcmd.Command(ctx, p.facts.GoPath, args...)
	cmd.Dir = p.pkgDir
	cmd.Env = b.goCmdEnv()
	if p.req.Identity != "" {
		cmd.Env = append(cmd.Env, "GOWORK=off") // a fetched module is built on its own
	}
	cmd.Env = append(cmd.Env, p.req.Env...)
	// The go command's work directory goes in a directory of ours, removed
	// whatever happens: an interrupted go command leaves its work directory.
	work, err := goTmpDir(b.root, cmd.Env)
	if err != nil {
		return meta{}, err
	}
	defer os.RemoveAll(work)
	cmd.Env = append(cmd.Env, "GOTMPDIR="+work)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	b.logger.Debug("running go build", "dir", cmd.Dir, "args", args)
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return meta{}, fmt.Errorf("build %s: %w", p.importPath, context.Cause(ctx))
		}
		return meta{}, &Error{Package: p.importPath, Cmd: append([]string{"go"}, args...), Dir: cmd.Dir, Output: output.String(), Err: err}
	}

	m := meta{Key: p.key, Source: p.req.Source, Package: p.importPath, Binary: p.name,
		Created: time.Now().UTC(), Manifest: p.manifest, Watch: p.req.Watch}
	if p.req.Identity == "" {
		// After the key's hash: an edit the scan sees but the hash did not
		// changes the key, so the watcher rebuilds (inputs.go).
		if rec, ok := scanInputs(p); ok {
			m.Inputs = rec
		}
	}
	if err := sealBinary(out, &m); err != nil {
		return meta{}, fmt.Errorf("build %s: %w", p.importPath, err)
	}
	if err := writeMeta(tmp, m); err != nil {
		return meta{}, fmt.Errorf("build %s: %w", p.importPath, err)
	}
	bin, err := cache.Sub(b.root, cache.BinDir)
	if err != nil {
		return meta{}, err
	}
	parent, err := cache.Sub(bin, p.key[:2])
	if err != nil {
		return meta{}, err
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, err := checkEntry(final, filepath.Join(final, p.name), p.key); err == nil {
			return m, nil // published by a process not honouring the lock; ours is identical
		}
		// An incomplete or damaged entry: we hold the lock, move it aside.
		if err := removeIncomplete(b.root, final); err != nil {
			return meta{}, fmt.Errorf("build %s: publish: %w", p.importPath, err)
		}
		if err := os.Rename(tmp, final); err != nil {
			return meta{}, fmt.Errorf("build %s: publish: %w", p.importPath, err)
		}
	}
	published = true
	syncDir(parent)
	return m, nil
}

// goTmpDir creates a fresh directory for the go command's work directory:
// inside the user's GOTMPDIR if env sets one, else under root/tmp.
func goTmpDir(root string, env []string) (string, error) {
	if dir, _ := lookupEnv(env, "GOTMPDIR"); dir != "" {
		work, err := os.MkdirTemp(dir, "fnrun-")
		if err != nil {
			return "", fmt.Errorf("create go work directory: %w", err)
		}
		return work, nil
	}
	return cache.TempDir(root, "gowork-")
}

// removeIncomplete moves the directory at final to root/tmp and deletes it.
func removeIncomplete(root, final string) error {
	trash, err := cache.TempDir(root, "broken-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(trash)
	return os.Rename(final, filepath.Join(trash, "entry"))
}

// syncDir makes a rename in dir durable; best effort (not all systems allow it).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}
