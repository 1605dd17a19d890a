package build

/*
The build key.

The key is the sha256 of a manifest with one line per input that can change
the binary. EVERY NEW INPUT TO THE BUILD MUST BE ADDED TO THE MANIFEST in
(*Builder).plan, and manifestVersion bumped when the meaning of a line changes.
The manifest is stored next to the binary (meta.json) so that a surprising
rebuild can be explained by diffing two manifests. A new local input (a
tree, a file outside the trees) must be added to localTrees or
workspace.files, which both the identity and dependencyDirs (dirs.go) read,
so that a watcher sees it change.
*/

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fnrun/fnrun/internal/cache"
	"golang.org/x/mod/modfile"
)

const manifestVersion = "fnrun-build 1"

// platformVars are the `go env` settings that select the target and its
// code generation; those present are part of the key.
var platformVars = []string{
	"GOOS", "GOARCH", "GO386", "GOAMD64", "GOARM", "GOARM64", "GOMIPS", "GOMIPS64",
	"GOPPC64", "GORISCV64", "GOWASM", "GOEXE", "CGO_ENABLED", "GOEXPERIMENT", "GOFIPS140", "GOFLAGS",
}

// cgoVars matter only when cgo is enabled.
var cgoVars = []string{"CC", "CXX", "CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_FFLAGS", "CGO_LDFLAGS"}

// plan is everything known about one request before building.
type plan struct {
	req        Request
	modRoot    string
	pkgDir     string
	relDir     string // slash path of the package inside the module, "." for the root
	modFile    string // path of go.mod
	modData    []byte
	modPath    string        // the module path
	mf         *modfile.File // go.mod parsed; nil until parseMod
	importPath string
	name       string // binary file name
	work       *workspace
	trees      []tree // local sources: what the identity covers (localTrees)
	facts      *facts
	manifest   string
	key        string
}

type workspace struct {
	file string
	wf   *modfile.WorkFile
}

// files returns the workspace files that are part of a local build's
// identity: the go.work file and its checksum file, which may not exist.
func (w *workspace) files() []string { return []string{w.file, w.file + ".sum"} }

// Key returns the build key of req and the manifest it hashes. It runs no go
// command when the toolchain facts are cached; it is cheap enough to call on
// every file change to decide whether a rebuild is needed.
func (b *Builder) Key(ctx context.Context, req Request) (key, manifest string, err error) {
	p, err := b.plan(ctx, req)
	if err != nil {
		return "", "", err
	}
	return p.key, p.manifest, nil
}

// plan resolves req and computes its manifest and key.
func (b *Builder) plan(ctx context.Context, req Request) (*plan, error) {
	p, err := b.resolve(ctx, req)
	if err != nil {
		return nil, err
	}
	identity := req.Identity
	gowork := "off"
	if identity == "" {
		if identity, err = b.localIdentity(p.modRoot, p.trees, p.work); err != nil {
			return nil, err
		}
		if p.work != nil {
			gowork = p.work.file
		}
	}

	// The manifest: one line per input. Every new input must be added here.
	var m strings.Builder
	line := func(k, v string) { fmt.Fprintf(&m, "%s %q\n", k, v) }
	m.WriteString(manifestVersion + "\n")
	line("goversion", p.facts.get("GOVERSION"))
	for _, k := range platformVars {
		if v, ok := p.facts.Env[k]; ok {
			line(strings.ToLower(k), v)
		}
	}
	if p.facts.get("CGO_ENABLED") == "1" {
		for _, k := range cgoVars {
			line(strings.ToLower(k), p.facts.get(k))
		}
	}
	line("gowork", gowork)
	line("tags", b.opts.Tags)
	line("ldflags", b.opts.Ldflags)
	line("race", fmt.Sprint(b.opts.Race))
	line("buildflags", fmt.Sprintf("%q", b.opts.BuildFlags))
	line("sourceflags", fmt.Sprintf("%q", p.req.Flags))
	line("sourceenv", fmt.Sprintf("%q", p.req.Env))
	line("package", p.importPath)
	line("dir", p.relDir)
	line("binary", p.name)
	line("identity", identity)
	p.manifest = m.String()
	p.key = cache.Hash(p.manifest)
	return p, nil
}

// resolve reads what req names: the module, the package, the toolchain
// facts and, for a local source, the workspace and the trees its identity
// covers. It runs no go command when the toolchain facts are cached.
func (b *Builder) resolve(ctx context.Context, req Request) (*plan, error) {
	p := &plan{req: req}
	var err error
	if p.modRoot, err = filepath.Abs(req.ModuleDir); err != nil {
		return nil, fmt.Errorf("build: module directory: %w", err)
	}
	if req.PackageDir == "" {
		p.pkgDir = p.modRoot
	} else if p.pkgDir, err = filepath.Abs(req.PackageDir); err != nil {
		return nil, fmt.Errorf("build: package directory: %w", err)
	}
	rel, err := filepath.Rel(p.modRoot, p.pkgDir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("build: package directory %s is not inside module %s", p.pkgDir, p.modRoot)
	}
	p.relDir = filepath.ToSlash(rel)

	p.modFile = filepath.Join(p.modRoot, "go.mod")
	if p.modData, err = os.ReadFile(p.modFile); err != nil {
		return nil, fmt.Errorf("build %s: %w", p.pkgDir, err)
	}
	// Without a replace directive the module path is all that a cache hit
	// needs from go.mod; the full parse (x/mod compiles its regexps on first
	// use: 0.3 ms of a warm start) waits for a miss (checkGoVersion). go.mod
	// is part of the identity: a hit means it is the go.mod of a good build.
	p.modPath = modfile.ModulePath(p.modData)
	if p.modPath == "" || bytes.Contains(p.modData, []byte("replace")) {
		if err := p.parseMod(); err != nil {
			return nil, err
		}
	}
	p.importPath = p.modPath
	if p.relDir != "." {
		p.importPath += "/" + p.relDir
	}

	if p.facts, err = b.toolchain(ctx); err != nil {
		return nil, err
	}
	p.name = binaryName(p.importPath, p.modRoot) + p.facts.get("GOEXE")

	if req.Identity == "" {
		if p.work, err = findWorkspace(p.pkgDir, p.facts); err != nil {
			return nil, err
		}
		var reps []*modfile.Replace
		if p.mf != nil {
			reps = p.mf.Replace
		}
		p.trees = localTrees(p.modRoot, p.modPath, reps, p.work)
	}
	return p, nil
}

// parseMod parses go.mod (once).
func (p *plan) parseMod() error {
	if p.mf != nil {
		return nil
	}
	mf, err := modfile.Parse(p.modFile, p.modData, nil)
	if err != nil {
		return fmt.Errorf("build %s: %w", p.pkgDir, err)
	}
	if mf.Module == nil {
		return fmt.Errorf("build %s: %s has no module directive", p.pkgDir, p.modFile)
	}
	p.mf, p.modPath = mf, mf.Module.Mod.Path
	return nil
}

// findWorkspace returns the go.work that applies to a build in dir: GOWORK
// when set ("off" disables), else the first go.work found walking up.
func findWorkspace(dir string, f *facts) (*workspace, error) {
	file := f.get("GOWORK")
	switch {
	case file == "off":
		return nil, nil
	case file != "":
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
	default:
		stop := ""
		if gr := f.get("GOROOT"); gr != "" {
			stop = filepath.Join(gr, "src")
		}
		for d := dir; ; {
			if d == stop {
				return nil, nil
			}
			if fi, err := os.Stat(filepath.Join(d, "go.work")); err == nil && !fi.IsDir() {
				file = filepath.Join(d, "go.work")
				break
			}
			parent := filepath.Dir(d)
			if parent == d {
				return nil, nil
			}
			d = parent
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("build: read go.work: %w", err)
	}
	wf, err := modfile.ParseWork(file, data, nil)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	return &workspace{file: file, wf: wf}, nil
}

// isMajorSuffix reports whether elem is a major-version suffix (v2, v10;
// not v1 or v02), by the go command's rule for naming binaries.
func isMajorSuffix(elem string) bool {
	if len(elem) < 2 || elem[0] != 'v' || elem[1] == '0' || elem == "v1" {
		return false
	}
	for _, c := range elem[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// binaryName is the name `go build` gives the binary of importPath: its last
// element, or the one before a major-version suffix (example.com/fn/v2 → fn).
// It falls back to the module directory's name, then "main".
func binaryName(importPath, modRoot string) string {
	elem := path.Base(importPath)
	if isMajorSuffix(elem) && strings.Contains(importPath, "/") {
		elem = path.Base(path.Dir(importPath))
	}
	for _, name := range []string{elem, filepath.Base(modRoot)} {
		if validName(name) {
			return name
		}
	}
	return "main"
}

func validName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		!strings.ContainsAny(name, `/\:`+"\x00") && !strings.HasPrefix(name, "-")
}
