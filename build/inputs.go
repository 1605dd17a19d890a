package build

/*
The packages a local build reads.

The key of a local source covers every build input of its trees, so that it
is right whatever the program imports; but a watcher that computed a key for
every save in the module would rebuild and restart a program for an edit of
a package it does not import. So a cold build of a local source also records
which directories of its trees hold the packages of its import graph
(scanInputs), in the entry's meta.json, and a cache hit reads them back
(Result.Inputs): the watcher asks Inputs.Matters whether a change can
matter before it computes a key at all. The key stays the only judge of
whether to rebuild; the record only spares the question.

The scan follows imports from the main package through the directories the
trees provide: an import path is mapped into a tree by the module paths the
tree serves (the main module, the old path of a local replace, a workspace
module; see localTrees), and into vendor/ when the module vendors. It errs
on the side of too many directories, never too few: every non-test .go
file of a directory is read whatever its build constraints (a file for
another GOOS or tag imports what it imports), every module that could
provide an import path is followed, and a package with a //go:embed line
counts with its whole subtree (embed patterns reach into subdirectories).
It parses import blocks only, once per cold build; a warm start reads the
record. An entry built before the record existed has none: Result.Inputs
is nil and every change counts, as before.

Matters is deliberately loose outside the import graph as well: go.mod,
go.sum, go.work and go.work.sum anywhere count, and so do non-Go compiler
inputs (.c, .h, .s, ...), which cgo and assembly may include from any
directory. A new directory counts only when it is (or leads to) a recorded
package directory: a new package becomes part of the set once an edit of a
recorded package imports it, which rebuilds and records it.

Paths are stored relative to their tree (label and slash path), because
the key of a local source does not depend on where the module lies: two
copies of a module share an entry, each resolving the record against its
own trees.
*/

import (
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Inputs are the directories whose files a local build reads, as recorded
// when its entry was built. Use Matters; the zero value matters nothing, a
// nil *Inputs everything. Read-only once returned: safe for concurrent use.
type Inputs struct {
	// Packages are the directories of the packages of the program's import
	// graph that lie in the build's local trees: absolute, cleaned, sorted;
	// a directory reached through a symbolic link is listed under both its
	// lexical and its resolved name.
	Packages []string
	// Trees are directories whose whole subtree counts: the packages with
	// a //go:embed line. Absolute, cleaned, sorted.
	Trees []string
}

// metaInputs is the record of Inputs in meta.json: tree label → slash
// directories inside that tree ("." for its root).
type metaInputs struct {
	Packages map[string][]string `json:"packages"`
	Embeds   map[string][]string `json:"embeds,omitempty"`
}

// alwaysMatters are file names that change what any build of the trees
// reads, wherever they are.
var alwaysMatters = map[string]bool{"go.mod": true, "go.sum": true, "go.work": true, "go.work.sum": true}

// Matters reports whether a change of path (a file or directory created,
// written, removed or renamed) can change the build, so that a watcher
// should compute the build key again: a file in a package directory, a
// package directory or one of its ancestors, anything under a Trees
// directory, a go.mod, go.sum, go.work or go.work.sum anywhere, or a non-Go
// compiler input (.c, .h, .s, ...) anywhere. A nil *Inputs (nothing
// recorded) matters for every path. It stats path only when path lies
// directly in a package directory, to tell a new subdirectory (a new
// package: it counts once imported) from a file.
func (in *Inputs) Matters(path string) bool {
	if in == nil {
		return true
	}
	path = filepath.Clean(path)
	base := filepath.Base(path)
	if alwaysMatters[base] || buildExts[filepath.Ext(base)] ||
		(base == "modules.txt" && filepath.Base(filepath.Dir(path)) == "vendor") {
		return true
	}
	for _, dirs := range [][]string{in.Packages, in.Trees} {
		for _, d := range dirs {
			if d == path || within(d, path) { // the directory itself, or one above it
				return true
			}
		}
	}
	for _, t := range in.Trees {
		if within(path, t) {
			return true
		}
	}
	if _, found := slices.BinarySearch(in.Packages, filepath.Dir(path)); found {
		if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
			return false // a new directory inside a package: a package of its own
		}
		return true
	}
	return false
}

// within reports whether path lies strictly inside dir.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) &&
		!filepath.IsAbs(rel)
}

// resolveInputs turns the record of an entry into absolute directories for
// the trees of this build; nil when there is no record or a label names no
// tree (the record then cannot be trusted).
func resolveInputs(rec *metaInputs, trees []tree) *Inputs {
	if rec == nil || rec.Packages == nil {
		return nil
	}
	// A watcher reports paths under its roots with symbolic links resolved
	// (internal/watch does so for a root that is a link): each directory is
	// listed under both names.
	byLabel := make(map[string][]string, len(trees))
	for _, t := range trees {
		byLabel[t.label] = []string{t.dir}
		if r, err := filepath.EvalSymlinks(t.dir); err == nil && r != t.dir {
			byLabel[t.label] = append(byLabel[t.label], r)
		}
	}
	abs := func(m map[string][]string) ([]string, bool) {
		var out []string
		for label, rels := range m {
			roots, ok := byLabel[label]
			if !ok {
				return nil, false
			}
			for _, r := range rels {
				if r != "." && !filepath.IsLocal(filepath.FromSlash(r)) {
					return nil, false
				}
				for _, root := range roots {
					out = append(out, filepath.Join(root, filepath.FromSlash(r)))
				}
			}
		}
		slices.Sort(out)
		return slices.Compact(out), true
	}
	pkgs, ok1 := abs(rec.Packages)
	embeds, ok2 := abs(rec.Embeds)
	if !ok1 || !ok2 {
		return nil
	}
	return &Inputs{Packages: pkgs, Trees: embeds}
}

// scanInputs records the package directories of the import graph of p's
// main package inside p's trees (see the top of this file). ok is false when
// the graph could not be read; the entry then records nothing.
func scanInputs(p *plan) (rec *metaInputs, ok bool) {
	if len(p.trees) == 0 {
		return nil, false
	}
	vendored := false
	if fi, err := os.Stat(filepath.Join(p.modRoot, "vendor", "modules.txt")); err == nil && fi.Mode().IsRegular() {
		vendored = true
	}
	type loc struct {
		t   int    // index in p.trees
		rel string // slash path inside the tree
	}
	rec = &metaInputs{Packages: map[string][]string{}, Embeds: map[string][]string{}}
	seen := map[loc]bool{}
	queue := []loc{{0, p.relDir}} // trees[0] is the module root (localTrees)
	enqueue := func(l loc) {
		if !seen[l] {
			seen[l] = true
			queue = append(queue, l)
		}
	}
	seen[queue[0]] = true
	fset := token.NewFileSet()
	for len(queue) > 0 {
		l := queue[0]
		queue = queue[1:]
		t := p.trees[l.t]
		dir := filepath.Join(t.dir, filepath.FromSlash(l.rel))
		imports, embeds, err := readImports(fset, dir)
		if err != nil {
			return nil, false
		}
		rec.Packages[t.label] = append(rec.Packages[t.label], l.rel)
		if embeds {
			rec.Embeds[t.label] = append(rec.Embeds[t.label], l.rel)
		}
		for _, ip := range imports {
			for i, tr := range p.trees {
				for _, mod := range tr.mods {
					if rel, ok := inModule(ip, mod); ok && isDir(filepath.Join(tr.dir, filepath.FromSlash(rel))) {
						enqueue(loc{i, rel})
					}
				}
			}
			if vendored {
				if rel := path.Join("vendor", ip); isDir(filepath.Join(p.modRoot, filepath.FromSlash(rel))) {
					enqueue(loc{0, rel})
				}
			}
		}
	}
	for _, m := range []map[string][]string{rec.Packages, rec.Embeds} {
		for k := range m {
			slices.Sort(m[k])
		}
	}
	return rec, true
}

// inModule returns the slash path inside module mod of the package
// importPath ("." for the module's root package), if mod provides it.
func inModule(importPath, mod string) (string, bool) {
	if importPath == mod {
		return ".", true
	}
	if rest, ok := strings.CutPrefix(importPath, mod+"/"); ok && rest != "" {
		return rest, true
	}
	return "", false
}

func isDir(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.IsDir()
}

// readImports returns the import paths of every non-test .go file of dir
// (whatever its build constraints) and whether one of them has a //go:embed
// line. A file whose imports do not parse contributes those before the
// error: go build has compiled the package, so such a file is not part of
// this build.
func readImports(fset *token.FileSet, dir string) (imports []string, embeds bool, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, err
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") ||
			strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, false, err
		}
		embeds = embeds || hasEmbed(src)
		f, _ := parser.ParseFile(fset, n, src, parser.ImportsOnly)
		if f == nil {
			continue
		}
		for _, is := range f.Imports {
			if ip, err := strconv.Unquote(is.Path.Value); err == nil && ip != "C" && !slices.Contains(imports, ip) {
				imports = append(imports, ip)
			}
		}
	}
	return imports, embeds, nil
}
