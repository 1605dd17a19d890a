package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fnrun/fnrun/internal/toolcmd"
)

/*
A published checkout never changes, and it is built with -mod=readonly:
two builds may share it, and a build must not depend on (or rewrite) what
another left behind. So before publishing, while the tree is still a
private staging directory and the network is there, the go command
completes it the way `go build -mod=mod` would have:

 1. `go list -mod=mod -deps` of the requested package, which must succeed:
    missing requirements are added to go.mod, and the go.sum entries of
    every module the package needs are added (downloaded into the module
    cache and verified against GOSUMDB as usual; replace directives of the
    checkout apply);
 2. `go list -mod=mod -e -deps ./...` in every module of the tree, best
    effort, so that other packages of the same checkout (another //subdir
    or package path at the same version) build too;
 3. `go list -mod=readonly -deps` of the requested package, to be sure.

Every go command runs with -buildvcs=false: a fetched tree's version
control metadata must never make it run git (or hg, …) there.

Then every file of the tree is made read-only, and directories lose their
group and other write bits (they stay writable by the owner so that the
cache can be cleaned with an ordinary recursive remove).
A later build needs only the module cache: it works offline.
*/

// maxPreparedModules bounds step 2 in a repository holding many modules.
const maxPreparedModules = 50

// goError is a failed go command with its output.
type goError struct {
	args   []string
	output string
	err    error
}

func (e *goError) Error() string {
	msg := firstLine(e.output)
	if msg == "" {
		msg = e.err.Error()
	}
	return "go " + e.args[0] + ": " + msg
}

func (e *goError) Unwrap() error { return e.err }

// firstLine returns the first line of the go command's stderr s that is
// not a progress note, without a "go: " prefix.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimPrefix(strings.TrimSpace(l), "go: ")
		switch {
		case l == "", strings.HasPrefix(l, "downloading "), strings.HasPrefix(l, "finding "),
			strings.HasPrefix(l, "extracting "), strings.HasPrefix(l, "added "), strings.HasPrefix(l, "upgraded "):
			continue
		}
		return l
	}
	return ""
}

// goRun runs the go command in dir, discarding stdout.
func (f *Fetcher) goRun(ctx context.Context, dir string, args ...string) error {
	var stderr bytes.Buffer
	cmd := toolcmd.Command(ctx, "go", args...)
	cmd.Dir = dir
	env, err := f.goEnv()
	if err != nil {
		return err
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	f.log.Debug("fetch: run", "dir", dir, "args", args)
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return &goError{args: args, output: strings.TrimSpace(stderr.String()), err: err}
	}
	return nil
}

// prepareTree completes the go.mod and go.sum files of the modules in tree
// (the staging copy of a checkout) so that pkgDir, in the module modDir,
// builds with -mod=readonly, and makes the tree read-only. See above.
func (f *Fetcher) prepareTree(ctx context.Context, tree, modDir, pkgDir, what string) error {
	f.progress("downloading dependencies of %s", what)
	listDeps := func(flags ...string) []string {
		return append([]string{"list", "-buildvcs=false", "-deps", "-test=false", "-f", "{{.ImportPath}}"}, flags...)
	}
	if err := f.goRun(ctx, pkgDir, listDeps("-mod=mod", ".")...); err != nil {
		return err
	}
	mods := []string{modDir}
	for _, m := range findModules(tree) {
		if m != modDir && len(mods) < maxPreparedModules {
			mods = append(mods, m)
		}
	}
	for _, m := range mods {
		// Best effort: a package that cannot be loaded keeps its error
		// for its own build.
		if err := f.goRun(ctx, m, listDeps("-mod=mod", "-e", "./...")...); err != nil {
			if ctx.Err() != nil {
				return err
			}
			f.log.Debug("fetch: completing go.sum", "module", m, "err", err)
		}
	}
	if err := f.goRun(ctx, pkgDir, listDeps("-mod=readonly", ".")...); err != nil {
		return err
	}
	return makeReadOnly(tree)
}

// findModules returns the directories of tree holding a go.mod file, in the
// places `./...` would look: not in vendor, testdata, or directories whose
// name starts with "." or "_".
func findModules(tree string) []string {
	var mods []string
	filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			name := d.Name()
			if p != tree && (name == "vendor" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == "go.mod" && d.Type().IsRegular() {
			mods = append(mods, filepath.Dir(p))
		}
		return nil
	})
	return mods
}

// makeReadOnly removes write permission from every regular file in dir,
// and group and other write permission from every directory.
func makeReadOnly(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var mask fs.FileMode
		switch {
		case d.IsDir():
			mask = 0o022
		case d.Type().IsRegular():
			mask = 0o222
		default:
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm&mask != 0 {
			return os.Chmod(p, perm&^mask)
		}
		return nil
	})
}

// vcsMetadata are the names of version control metadata (directories, or
// files pointing elsewhere) that make the go command or a user's tools run
// a version control tool, configured by the fetched content, in the tree.
var vcsMetadata = map[string]bool{
	".git": true, ".hg": true, ".svn": true, ".bzr": true,
	".fslckout": true, "_FOSSIL_": true,
}

// removeVCSMetadata removes version control metadata at any depth of dir,
// an extracted archive or module copy (never a clone, whose .git is ours).
func removeVCSMetadata(dir string) error {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && vcsMetadata[d.Name()] {
			found = append(found, p)
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range found {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}

// prepareError turns a prepareTree failure into an *Error of src.
func prepareError(src Source, err error) error {
	var fe *Error
	if errors.As(err, &fe) {
		return err
	}
	out := ""
	var ge *goError
	if errors.As(err, &ge) {
		out = ge.output
	}
	return &Error{Source: src.Raw, Op: "prepare", Err: fmt.Errorf("dependencies: %w", err), Output: out}
}
