package build

/*
Local source identity.

A local module is identified by the content of the files that can affect its
build: non-test .go files, other compiler inputs (.s, .c, .syso, ...), go.mod,
go.sum, the vendor tree and files that //go:embed may pick up (simplified: every
file under a directory holding a .go file with a //go:embed line). The trees
walked are the module root, every local `replace` target, and, when a go.work
applies, the go.work file and its `use` directories (with their replaces).

Hashing contents on every run costs milliseconds, so a stat fingerprint of the
walked files (path, size, mtime, mode, inode) is computed first and looked up
in root/fp/; only a new fingerprint triggers a content hash. The fingerprint
covers every walked file, not only the build inputs, so that a new file that
could become a build input (an embedded asset, a new .go file) is noticed; a
changed README therefore costs a rehash but yields the same identity. A
fingerprint whose files were modified within fpCutoff of now is not recorded
(a second write within the filesystem's timestamp granularity would go
unseen), the same precaution cmd/go takes.
*/

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
	"golang.org/x/mod/modfile"
)

// tree is one directory whose files are part of a local build's identity.
type tree struct {
	label string // stable name in the manifest: ".", "replace <path>", "use <path>"
	dir   string // absolute
	// mods are the module paths whose packages the tree provides (the main
	// module, a replaced path, a workspace module); the import scan
	// (inputs.go) maps imports into the tree with them.
	mods []string
}

type treeFile struct {
	rel  string // label + ":" + slash path inside the tree
	abs  string
	info fs.FileInfo
	dir  string // label + ":" + slash dir inside the tree
	// input is true for files that are build inputs by name alone.
	input bool
}

// buildExts are the file extensions the go command compiles or links besides .go.
var buildExts = map[string]bool{
	".s": true, ".S": true, ".sx": true, ".c": true, ".h": true, ".cc": true, ".cpp": true,
	".cxx": true, ".hh": true, ".hpp": true, ".hxx": true, ".m": true, ".f": true, ".F": true,
	".for": true, ".f90": true, ".syso": true, ".swig": true, ".swigcxx": true,
}

// localTrees lists the trees of a local build: the module, its local replace
// targets and the workspace (if any) with its use directories and replaces.
func localTrees(modRoot, mainMod string, reps []*modfile.Replace, w *workspace) []tree {
	seen := map[string]int{} // dir → index in trees
	var trees []tree
	add := func(label, dir, mod string) {
		dir = filepath.Clean(dir)
		i, ok := seen[dir]
		if !ok {
			i = len(trees)
			seen[dir] = i
			trees = append(trees, tree{label: label, dir: dir})
		}
		if mod != "" && !slices.Contains(trees[i].mods, mod) {
			trees[i].mods = append(trees[i].mods, mod)
		}
	}
	addReplaces := func(base string, reps []*modfile.Replace) {
		for _, r := range reps {
			if r.New.Version == "" && modfile.IsDirectoryPath(r.New.Path) {
				dir := r.New.Path
				if !filepath.IsAbs(dir) {
					dir = filepath.Join(base, dir)
				}
				add("replace "+r.New.Path, dir, r.Old.Path)
			}
		}
	}
	add(".", modRoot, mainMod)
	addReplaces(modRoot, reps)
	if w != nil {
		wdir := filepath.Dir(w.file)
		for _, u := range w.wf.Use {
			dir := u.Path
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(wdir, dir)
			}
			if filepath.Clean(dir) == filepath.Clean(modRoot) {
				add("use "+u.Path, dir, mainMod) // read already, replaces added above
				continue
			}
			umf := readModLax(dir)
			mod := ""
			if umf != nil && umf.Module != nil {
				mod = umf.Module.Mod.Path
			}
			add("use "+u.Path, dir, mod)
			if umf != nil {
				addReplaces(dir, umf.Replace)
			}
		}
		addReplaces(wdir, w.wf.Replace)
	}
	return trees
}

// readModLax parses dir/go.mod leniently; nil if it cannot be read.
func readModLax(dir string) *modfile.File {
	name := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	mf, err := modfile.ParseLax(name, data, nil)
	if err != nil {
		return nil
	}
	return mf
}

// walkTree appends the files of t: everything except hidden files and
// directories, directories starting with _ , testdata and nested modules.
func walkTree(t tree, files []treeFile) ([]treeFile, error) {
	var walk func(dir, rel string, vendor bool) error
	walk = func(dir, rel string, vendor bool) error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		if rel != "." && !vendor {
			for _, e := range ents {
				if e.Name() == "go.mod" && !e.IsDir() {
					return nil // nested module
				}
			}
		}
		for _, e := range ents {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			abs := filepath.Join(dir, name)
			r := path.Join(rel, name)
			typ := e.Type()
			if typ&fs.ModeSymlink != 0 {
				fi, err := os.Stat(abs)
				if err != nil || fi.IsDir() {
					continue // dangling link or symlinked directory: the go command ignores them too
				}
				typ = fi.Mode().Type()
			}
			if typ.IsDir() {
				if !vendor && (strings.HasPrefix(name, "_") || name == "testdata") {
					continue
				}
				if err := walk(abs, r, vendor || (rel == "." && name == "vendor")); err != nil {
					return err
				}
				continue
			}
			if !typ.IsRegular() {
				continue
			}
			fi, err := os.Stat(abs)
			if err != nil {
				if os.IsNotExist(err) {
					continue // removed while walking
				}
				return err
			}
			ext := path.Ext(name)
			input := vendor ||
				(ext == ".go" && !strings.HasSuffix(name, "_test.go")) ||
				buildExts[ext] ||
				(rel == "." && (name == "go.mod" || name == "go.sum"))
			files = append(files, treeFile{
				rel: t.label + ":" + r, abs: abs, info: fi,
				dir: t.label + ":" + rel, input: input,
			})
		}
		return nil
	}
	if err := walk(t.dir, ".", false); err != nil {
		return files, fmt.Errorf("read source tree %s: %w", t.dir, err)
	}
	return files, nil
}

// localIdentity returns "local sha256:<hex>" for the trees of a local build
// (localTrees) and the files of its workspace w, if any. What it covers must
// stay what dependencyDirs lists: both take the same trees and workspace.
func (b *Builder) localIdentity(modRoot string, trees []tree, w *workspace) (string, error) {
	var files []treeFile
	var err error
	for _, t := range trees {
		if files, err = walkTree(t, files); err != nil {
			return "", err
		}
	}
	if w != nil {
		for _, name := range w.files() {
			if fi, err := os.Stat(name); err == nil {
				files = append(files, treeFile{rel: "go.work:" + filepath.Base(name), abs: name, info: fi, dir: "go.work:.", input: true})
			}
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })

	fp := sha256.New()
	fmt.Fprintf(fp, "fnrun-fingerprint 1\n")
	for _, t := range trees {
		fmt.Fprintf(fp, "tree %q %q\n", t.label, t.dir)
	}
	recent := false
	cutoff := time.Now().Add(-b.fpCutoff)
	for _, f := range files {
		mt := f.info.ModTime()
		if !mt.Before(cutoff) {
			recent = true
		}
		fmt.Fprintf(fp, "%q %d %d %o %d\n", f.rel, f.info.Size(), mt.UnixNano(), f.info.Mode(), inode(f.info))
	}
	fpDir, err := cache.Sub(b.root, cache.FingerDir)
	if err != nil {
		return "", err
	}
	fpFile := filepath.Join(fpDir, cache.Hash(modRoot+"\n"+hex.EncodeToString(fp.Sum(nil))))
	if data, err := os.ReadFile(fpFile); err == nil {
		if s := strings.TrimSpace(string(data)); isHexHash(s) {
			return "local sha256:" + s, nil
		}
	}
	sum, err := contentHash(files)
	if err != nil {
		return "", err
	}
	if !recent {
		if err := cache.WriteFileAtomic(fpFile, []byte(sum+"\n"), 0o600); err != nil {
			return "", err
		}
	}
	return "local sha256:" + sum, nil
}

// contentHash hashes the build inputs among files: one line "<sha256>  <rel>"
// per file, in order, hashed again (the dirhash "h1" construction).
func contentHash(files []treeFile) (string, error) {
	sums := make([]string, len(files))
	embedDirs := map[string]bool{}
	for i, f := range files {
		if !f.input {
			continue
		}
		s, embeds, err := hashFile(f.abs, strings.HasSuffix(f.abs, ".go"))
		if err != nil {
			return "", err
		}
		sums[i] = s
		if embeds {
			embedDirs[f.dir] = true
		}
	}
	summary := sha256.New()
	for i, f := range files {
		if sums[i] == "" {
			if !underEmbedDir(f.dir, embedDirs) {
				continue
			}
			s, _, err := hashFile(f.abs, false)
			if err != nil {
				return "", err
			}
			sums[i] = s
		}
		fmt.Fprintf(summary, "%s  %s\n", sums[i], f.rel)
	}
	return hex.EncodeToString(summary.Sum(nil)), nil
}

func underEmbedDir(dir string, embedDirs map[string]bool) bool {
	if len(embedDirs) == 0 {
		return false
	}
	label, rel, _ := strings.Cut(dir, ":")
	for {
		if embedDirs[label+":"+rel] {
			return true
		}
		if rel == "." {
			return false
		}
		rel = path.Dir(rel)
	}
}

// hashFile returns the hex sha256 of a file and, when scanEmbed is set,
// whether it has a //go:embed line.
func hashFile(name string, scanEmbed bool) (sum string, embeds bool, err error) {
	f, err := os.Open(name)
	if err != nil {
		return "", false, fmt.Errorf("hash source file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if !scanEmbed {
		if _, err := io.Copy(h, f); err != nil {
			return "", false, fmt.Errorf("hash source file: %w", err)
		}
		return hex.EncodeToString(h.Sum(nil)), false, nil
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "", false, fmt.Errorf("hash source file: %w", err)
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), hasEmbed(data), nil
}

func hasEmbed(src []byte) bool {
	if !bytes.Contains(src, []byte("//go:embed")) {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, len(src)+1)
	for sc.Scan() {
		if bytes.HasPrefix(bytes.TrimSpace(sc.Bytes()), []byte("//go:embed")) {
			return true
		}
	}
	return false
}

func isHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
