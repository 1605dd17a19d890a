package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/fnrun/fnrun/internal/cache"
	"github.com/fnrun/fnrun/internal/toolcmd"
)

/*
Module sources are resolved by the go command itself (`go mod download
-json`), so GOPROXY lists, GOPRIVATE/GONOPROXY/GONOSUMDB, GOINSECURE,
GOFLAGS, GOAUTH/netrc and checksum verification against GOSUMDB behave
exactly as for `go get` and `go run pkg@version`. For a package path, every
prefix that may be a module path is asked for in one go invocation; the
longest one that downloads and contains the package directory wins, as in
`go run pkg@version`.

The module cache is read-only and its directories must not become a main
module of someone else's build, so the module is copied into
src/<hash(module@version)>/tree. That copy is built as the main module: its
own replace directives apply. An incomplete go.sum is completed (and
verified) in the copy before it is published (prepareTree); the build then
runs with -mod=readonly and never writes into the published tree.
*/

// modDownload is one object of `go mod download -json` output.
type modDownload struct {
	Path    string
	Version string
	Error   string
	Dir     string
	Sum     string
}

func modKey(modPath, version string) string {
	return cache.Hash("module " + modPath + "@" + version)
}

// isExactVersion reports whether q names one immutable module version.
func isExactVersion(q string) bool {
	if !semver.IsValid(q) || semver.Build(q) != "" && semver.Build(q) != "+incompatible" {
		return false
	}
	return semver.Canonical(q)+semver.Build(q) == q
}

// moduleCandidates returns the possible module paths of pkg, longest first.
func moduleCandidates(pkg string) []string {
	var out []string
	for p := pkg; ; p = path.Dir(p) {
		if module.CheckPath(p) == nil {
			out = append(out, p)
		}
		if !strings.Contains(p, "/") {
			return out
		}
	}
}

// moduleMemory returns the resolution record key of a module source and
// whether its query names one version.
func moduleMemory(src Source) (key string, pinned bool) {
	return cache.Hash("resolve module " + src.Path + "@" + src.Query), isExactVersion(src.Query)
}

func (f *Fetcher) fetchModule(ctx context.Context, src Source) (Checkout, error) {
	key, pinned := moduleMemory(src)
	return f.remembered(ctx, src, key, pinned, func(ctx context.Context) (resolution, error) {
		return f.resolveModule(ctx, src, pinned)
	})
}

func (f *Fetcher) resolveModule(ctx context.Context, src Source, pinned bool) (resolution, error) {
	cands := moduleCandidates(src.Path)
	if len(cands) == 0 {
		return resolution{}, &Error{Source: src.Raw, Op: "resolve", Err: fmt.Errorf("%s is not a module or package path", src.Path)}
	}
	if pinned {
		for _, mod := range cands {
			if r, ok := f.moduleResolution(mod, src.Query, src.Path); ok {
				return r, nil
			}
		}
	}
	query := src.Query
	if query == "" {
		query = "latest"
	}
	f.progress("resolving %s@%s", src.Path, query)
	results, output, runErr := f.goModDownload(ctx, cands, query)
	if ctx.Err() != nil {
		return resolution{}, &Error{Source: src.Raw, Op: "download", Err: context.Cause(ctx), Output: output}
	}
	var firstErr error
	var notPkg []string
	for _, mod := range cands {
		d, ok := results[mod]
		if !ok || d.Error != "" || d.Dir == "" || d.Version == "" {
			if firstErr == nil && ok && d.Error != "" {
				firstErr = errors.New(d.Error)
			}
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(src.Path, mod), "/")
		if !hasGoFiles(filepath.Join(d.Dir, filepath.FromSlash(rel))) {
			notPkg = append(notPkg, mod+"@"+d.Version)
			continue
		}
		if r, ok := f.moduleResolution(mod, d.Version, src.Path); ok {
			return r, nil
		}
		if err := f.copyModule(ctx, d, rel); err != nil {
			var pe *prepError
			if errors.As(err, &pe) {
				return resolution{}, prepareError(src, pe.err)
			}
			return resolution{}, &Error{Source: src.Raw, Op: "copy", Err: err}
		}
		if r, ok := f.moduleResolution(mod, d.Version, src.Path); ok {
			return r, nil
		}
		return resolution{}, &Error{Source: src.Raw, Op: "copy", Err: errors.New("checkout vanished after publishing")}
	}
	var err error
	switch {
	case len(notPkg) > 0:
		err = fmt.Errorf("module %s found, but does not contain package %s", notPkg[0], src.Path)
	case firstErr != nil:
		err = firstErr
	case runErr != nil:
		err = fmt.Errorf("go mod download: %w", runErr)
	default:
		err = fmt.Errorf("no module provides package %s", src.Path)
	}
	return resolution{}, &Error{Source: src.Raw, Op: "download", Err: err, Output: output}
}

// moduleResolution builds the resolution of pkg from the published checkout
// of mod@version, if there is one and it holds the package.
func (f *Fetcher) moduleResolution(mod, version, pkg string) (resolution, bool) {
	key := modKey(mod, version)
	m, ok := f.loadMeta(key)
	if !ok {
		return resolution{}, false
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, mod), "/")
	if rel == "" {
		rel = "."
	}
	tree := filepath.Join(f.srcDir(key), treeDir)
	if !hasGoFiles(filepath.Join(tree, filepath.FromSlash(rel))) {
		return resolution{}, false
	}
	return resolution{
		SrcKey:     key,
		Identity:   m.Identity,
		Version:    m.Version,
		ModuleRel:  ".",
		PackageRel: rel,
		ImportPath: pkg,
	}, true
}

// prepError is a failure of prepareTree.
type prepError struct{ err error }

func (e *prepError) Error() string { return e.err.Error() }
func (e *prepError) Unwrap() error { return e.err }

// copyModule publishes a copy of a downloaded module, prepared to build
// the package at rel (a slash path, "" for the module root) read-only.
func (f *Fetcher) copyModule(ctx context.Context, d modDownload, rel string) error {
	staging, err := f.newStaging()
	if err != nil {
		return err
	}
	defer removeAll(staging) // no-op once renamed
	tree := filepath.Join(staging, treeDir)
	if err := copyTree(tree, d.Dir); err != nil {
		return err
	}
	if err := removeVCSMetadata(tree); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	pkg := filepath.Join(tree, filepath.FromSlash(rel))
	if err := f.prepareTree(ctx, tree, tree, pkg, d.Path+"@"+d.Version); err != nil {
		return &prepError{err}
	}
	return f.publish(staging, modKey(d.Path, d.Version), meta{
		Identity: fmt.Sprintf("module %s %s %s", d.Path, d.Version, d.Sum),
		Version:  d.Version,
	})
}

// goModDownload runs `go mod download -json` for every mod@query at once
// and returns the objects by module path, with the command's stderr.
func (f *Fetcher) goModDownload(ctx context.Context, mods []string, query string) (map[string]modDownload, string, error) {
	dir, err := cache.TempDir(f.root, "go-")
	if err != nil {
		return nil, "", err
	}
	defer removeAll(dir)
	args := []string{"mod", "download", "-json"}
	for _, m := range mods {
		args = append(args, m+"@"+query)
	}
	var stdout, stderr bytes.Buffer
	cmd := toolcmd.Command(ctx, "go", args...)
	cmd.Dir = dir
	if cmd.Env, err = f.goEnv(); err != nil {
		return nil, "", err
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	f.log.Debug("fetch: run", "dir", dir, "args", args)
	runErr := cmd.Run()
	out := map[string]modDownload{}
	dec := json.NewDecoder(&stdout)
	for {
		var d modDownload
		if err := dec.Decode(&d); err != nil {
			if err != io.EOF && runErr == nil {
				runErr = fmt.Errorf("decode go mod download output: %w", err)
			}
			break
		}
		if d.Error != "" {
			d.Error = cleanGoError(d.Error)
		}
		// Errors may name the query rather than the resolved version.
		if _, seen := out[d.Path]; !seen || d.Error == "" {
			out[d.Path] = d
		}
	}
	return out, strings.TrimSpace(stderr.String()), runErr
}

// cleanGoError keeps the first line of a go command error.
func cleanGoError(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// goEnv is the environment of go commands: the user's, with the local
// toolchain unless GOTOOLCHAIN is set, module mode, no workspace, and a
// private HOME when there is none.
func (f *Fetcher) goEnv() ([]string, error) {
	env := append([]string(nil), f.env...)
	if f.getenv("GOTOOLCHAIN") == "" {
		env = append(env, "GOTOOLCHAIN=local")
	}
	env = append(env, "GO111MODULE=on", "GOWORK=off")
	if f.getenv("GIT_TERMINAL_PROMPT") == "" {
		env = append(env, "GIT_TERMINAL_PROMPT=0")
	}
	if f.getenv("HOME") == "" {
		// The go command needs a home for its defaults (GOENV, GOPATH,
		// GOCACHE): never a shared directory such as /tmp, where another
		// user could plant a go env file. A private one in the cache.
		home, err := cache.Sub(f.root, homeDir)
		if err != nil {
			return nil, fmt.Errorf("HOME is not set, and no private home for the go command: %w", err)
		}
		if fi, err := os.Lstat(home); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("HOME is not set, and %s is not a directory", home)
		}
		if err := os.Chmod(home, 0o700); err != nil {
			return nil, fmt.Errorf("HOME is not set, and no private home for the go command: %w", err)
		}
		env = append(env, "HOME="+home)
	}
	return env, nil
}

// homeDir is the directory of the cache used as HOME by the go command
// when the environment has none.
const homeDir = "home"

// hasGoFiles reports whether dir is a directory holding a .go file.
func hasGoFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") {
			return true
		}
	}
	return false
}
