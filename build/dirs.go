package build

/*
The directories a build depends on.

A watcher (`fnrun run --watch`) must see every change that can change the
build key of a local source: the files of the trees localIdentity walks
(localTrees: the module root, its local replace targets and, when a go.work
applies, its use directories with their replaces and the workspace's own
replaces) and the workspace files (workspace.files: go.work and go.work.sum,
side by side). dependencyDirs derives its list from the same trees and
workspace that the identity hashes, computed once per request by resolve,
so the key and the directories cannot disagree.

The list is meant to be watched recursively:

  - The go.work file's directory is listed, so that writing, creating,
    removing or renaming over go.work or go.work.sum is seen (a watch on
    the file alone would be lost on an editor's rename-over). That watch also
    sees files that are no build input; Key then returns the same key. When
    the go.work sits far above the modules (GOWORK=$HOME/go.work) this costs
    many watched directories.
  - A directory inside another listed one is dropped: the outer watch covers
    it. It is kept when the path from the outer directory to it passes
    through a directory that walks of Go trees skip (a name starting with "."
    or "_", testdata, vendor: the go command and localIdentity skip the first
    three, fnrun's watcher hidden names, testdata and vendor), since there
    the outer watch may not reach it. A duplicate watch costs little, a
    missing one loses changes.
  - The paths are lexical (absolute, cleaned, not resolved through symbolic
    links; a watcher resolves its roots itself), so nesting through a
    symbolic link is not noticed and yields a duplicate watch, never a
    missing one.

A listed directory may not exist yet (a replace target still to be
created): Key and Build then fail reading it.
*/

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
)

// Dirs returns the directories a build of req depends on, as Result.Dirs
// would list them, without building and without hashing anything: it reads
// go.mod and a go.work, and runs no go command when the toolchain facts are
// cached. For a remote source (req.Identity set) it returns nil.
func (b *Builder) Dirs(ctx context.Context, req Request) ([]string, error) {
	if req.Identity != "" {
		return nil, nil
	}
	p, err := b.resolve(ctx, req)
	if err != nil {
		return nil, err
	}
	return dependencyDirs(p.trees, p.work), nil
}

// dependencyDirs lists the directories to watch recursively for the trees
// and workspace of a local build: sorted, without duplicates, none inside
// another unless a walk may not reach it (see above).
func dependencyDirs(trees []tree, w *workspace) []string {
	var dirs []string
	for _, t := range trees {
		dirs = append(dirs, filepath.Clean(t.dir))
	}
	if w != nil {
		for _, f := range w.files() {
			dirs = append(dirs, filepath.Dir(f))
		}
	}
	slices.Sort(dirs)
	dirs = slices.Compact(dirs)
	var out []string
	for _, d := range dirs {
		if !covered(d, dirs) {
			out = append(out, d)
		}
	}
	return out
}

// covered reports whether d lies inside another of dirs, reached from it by
// a recursive walk.
func covered(d string, dirs []string) bool {
	for _, outer := range dirs {
		rel, err := filepath.Rel(outer, d)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		if walkedInto(rel) {
			return true
		}
	}
	return false
}

// walkedInto reports whether a walk of Go source enters every directory on
// the relative path rel.
func walkedInto(rel string) bool {
	for _, name := range strings.Split(filepath.ToSlash(rel), "/") {
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" {
			return false
		}
	}
	return true
}
