package fetch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

/*
Cache layout owned by this package:

	src/<key>/meta.json   identity and version of the checkout (written first)
	src/<key>/tree/       the checkout itself (module copy, clone or archive)
	resolve/<key>.json    what a moving reference resolved to last time

A src entry is complete once its directory exists: it is assembled in a
fresh directory under tmp/ and renamed into place, so a reader sees all of
it or nothing. src keys are hashes of "module PATH@VERSION" for modules and
of the identity for getter sources; resolve keys are hashes of the
normalised source. Nothing under src/ changes once published.
*/

const (
	metaFile = "meta.json"
	treeDir  = "tree"
)

// meta describes a published checkout.
type meta struct {
	Identity string `json:"identity"`
	Version  string `json:"version,omitempty"`
}

// resolution is what a moving reference resolved to.
type resolution struct {
	Source     string    `json:"source"`
	SrcKey     string    `json:"src_key"`
	Identity   string    `json:"identity"`
	Version    string    `json:"version,omitempty"`
	ModuleRel  string    `json:"module_dir"`  // slash path inside the tree
	PackageRel string    `json:"package_dir"` // slash path inside the tree
	ImportPath string    `json:"import_path"`
	Time       time.Time `json:"time"`
	// Reused is set once a later Fetch reused the resolution and
	// FirstReuse reported it (see memory.go).
	Reused bool `json:"reused,omitempty"`
}

func (f *Fetcher) srcDir(key string) string { return filepath.Join(f.root, cache.SrcDir, key) }

// loadMeta reads the meta of a published checkout; ok is false when there
// is none.
func (f *Fetcher) loadMeta(key string) (meta, bool) {
	var m meta
	data, err := os.ReadFile(filepath.Join(f.srcDir(key), metaFile))
	if err != nil || json.Unmarshal(data, &m) != nil || m.Identity == "" {
		return meta{}, false
	}
	if fi, err := os.Stat(filepath.Join(f.srcDir(key), treeDir)); err != nil || !fi.IsDir() {
		return meta{}, false
	}
	return m, true
}

// newStaging returns a fresh directory under tmp/ to assemble a src entry
// in; its tree goes to staging/tree.
func (f *Fetcher) newStaging() (string, error) {
	return cache.TempDir(f.root, "src-")
}

// publish writes m into staging and renames staging to src/<key>. If another
// fetcher published the same key first, staging is removed and theirs kept.
func (f *Fetcher) publish(staging, key string, m meta) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := cache.WriteFileAtomic(filepath.Join(staging, metaFile), data, 0o600); err != nil {
		return err
	}
	if _, err := cache.Sub(f.root, cache.SrcDir); err != nil {
		return err
	}
	dst := f.srcDir(key)
	if err := os.Rename(staging, dst); err != nil {
		if _, ok := f.loadMeta(key); ok {
			removeAll(staging)
			return nil
		}
		return fmt.Errorf("publish checkout: %w", err)
	}
	return nil
}

func (f *Fetcher) resolvePath(key string) string {
	return filepath.Join(f.root, cache.ResolveDir, key+".json")
}

// loadResolution returns the remembered resolution of key if its checkout
// still exists.
func (f *Fetcher) loadResolution(key string) (resolution, bool) {
	var r resolution
	data, err := os.ReadFile(f.resolvePath(key))
	if err != nil || json.Unmarshal(data, &r) != nil || !r.valid() {
		return resolution{}, false
	}
	if _, ok := f.loadMeta(r.SrcKey); !ok {
		return resolution{}, false
	}
	return r, true
}

// valid reports whether r, read from a file, names a checkout by its key
// (a lowercase hex hash, as cache.Hash returns) and directories inside it.
// An invalid record is ignored: the source is resolved again.
func (r resolution) valid() bool {
	if len(r.SrcKey) != len(cache.Hash("")) || strings.Trim(r.SrcKey, "0123456789abcdef") != "" {
		return false
	}
	for _, rel := range []string{r.ModuleRel, r.PackageRel} {
		if rel == "" || strings.Contains(rel, "\\") || !filepath.IsLocal(filepath.FromSlash(rel)) {
			return false
		}
	}
	return true
}

func (f *Fetcher) saveResolution(key string, r resolution) error {
	if _, err := cache.Sub(f.root, cache.ResolveDir); err != nil {
		return err
	}
	r.Time = time.Now().UTC()
	return f.writeResolution(key, r)
}

// writeResolution writes r as it is.
func (f *Fetcher) writeResolution(key string, r resolution) error {
	data, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return err
	}
	return cache.WriteFileAtomic(f.resolvePath(key), append(data, '\n'), 0o600)
}

// checkoutOf turns a resolution into a Checkout.
func (f *Fetcher) checkoutOf(r resolution) Checkout {
	tree := filepath.Join(f.srcDir(r.SrcKey), treeDir)
	return Checkout{
		ModuleDir:  filepath.Join(tree, filepath.FromSlash(r.ModuleRel)),
		PackageDir: filepath.Join(tree, filepath.FromSlash(r.PackageRel)),
		ImportPath: r.ImportPath,
		Identity:   r.Identity,
		Version:    r.Version,
	}
}

// removeAll removes dir even when parts of it are read-only.
func removeAll(dir string) {
	if err := os.RemoveAll(dir); err == nil {
		return
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	os.RemoveAll(dir)
}

// relTo returns p relative to base as a slash path.
func relTo(base, p string) (string, error) {
	rel, err := filepath.Rel(base, p)
	if err != nil {
		return "", err
	}
	if !within(base, p) {
		return "", errors.New("path outside the checkout")
	}
	return filepath.ToSlash(rel), nil
}
