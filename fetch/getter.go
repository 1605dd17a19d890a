package fetch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	getter "github.com/hashicorp/go-getter/v2"

	"github.com/fnrun/fnrun/internal/cache"
)

/*
Getter sources go through go-getter v2 with everything risky turned off:
an explicit getter list (git through our own gitGetter so that the git
environment is ours, HTTP with a whole-request timeout and X-Terraform-Get
disabled, file for local archives), decompression limits, no symlinks.
Archives are downloaded into the staging directory and extracted by fnrun
(download.go): go-getter would put them under os.TempDir().

The //subdir part is never handed to go-getter (CVE-2025-8959: a symlinked
subdirectory escapes the tree): the whole root is fetched into a fresh
directory, published under src/<hash(identity)>, and the subdirectory is
resolved by resolveSubdir inside it, refusing symlinks that lead out.
Before publishing, the module of the requested package (and, best effort,
every other module of the tree) is completed by prepareTree, and the tree
made read-only.

Credentials in the URL (https://user:token@host/…, https://TOKEN@host/…,
?X-Amz-Signature=…) are used as given but never shown or stored: see
redact.go. Version control metadata is removed from an extracted archive
before it is hashed and prepared (removeVCSMetadata); a clone keeps the
.git that git itself wrote, with its origin reset to a URL without
credentials.
*/

var fullCommit = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`) })

// getterURL splits a Source.URL into its forced getter ("git" or "") and
// parsed URL.
func getterURL(raw string) (forced string, u *url.URL, err error) {
	rest := raw
	if f, r, ok := strings.Cut(raw, "::"); ok && !strings.Contains(f, "/") {
		forced, rest = f, r
	}
	u, err = url.Parse(rest)
	return forced, u, err
}

// identityURL is the URL as it appears in a git identity: no user
// information, no ref, and the values of other query parameters redacted
// (the identity also holds the commit, which names the content).
func identityURL(u *url.URL) string {
	c := *u
	c.User = nil
	q := c.Query()
	q.Del("ref")
	q.Del("depth")
	c.RawQuery = redactQuery(q.Encode())
	return c.String()
}

func (f *Fetcher) fetchGetter(ctx context.Context, src Source) (Checkout, error) {
	forced, u, err := getterURL(src.URL)
	if err != nil {
		return Checkout{}, &Error{Source: src.Raw, Op: "parse", Err: err}
	}
	isGit := forced == "git"
	ref := u.Query().Get("ref")
	if strings.HasPrefix(ref, "-") {
		return Checkout{}, &Error{Source: src.Raw, Op: "parse", Err: fmt.Errorf("ref %q starts with '-'", ref)}
	}
	key, pinned := getterMemory(src, isGit, ref, u)
	return f.remembered(ctx, src, key, pinned, func(ctx context.Context) (resolution, error) {
		if pinned {
			id := "git " + identityURL(u) + " " + ref
			if _, ok := f.loadMeta(cache.Hash(id)); ok {
				return f.getterResolution(src, cache.Hash(id), !isGit)
			}
		}
		return f.resolveGetter(ctx, src, forced, u)
	})
}

// getterMemory returns the resolution record key of a getter source and
// whether it names fixed content: a full commit, or an archive with a
// checksum (an update has nothing to resolve then).
func getterMemory(src Source, isGit bool, ref string, u *url.URL) (key string, pinned bool) {
	pinned = isGit && fullCommit().MatchString(ref) || !isGit && u.Query().Has("checksum")
	return cache.Hash("resolve getter " + src.URL + "//" + src.Subdir), pinned
}

func (f *Fetcher) resolveGetter(ctx context.Context, src Source, forced string, u *url.URL) (resolution, error) {
	isGit := forced == "git"
	fail := func(op string, err error) (resolution, error) {
		var fe *Error
		if errors.As(err, &fe) {
			return resolution{}, err
		}
		var ge *gitError
		out := ""
		if errors.As(err, &ge) {
			out = ge.output
		}
		return resolution{}, &Error{Source: src.Raw, Op: op, Err: err, Output: out}
	}
	decompressors := getter.LimitedDecompressors(f.opts.MaxArchiveFiles, f.opts.MaxArchiveBytes)
	if !isGit {
		if !isArchive(u, decompressors) {
			return fail("download", errors.New("no archive or repository at URL (want an archive such as .tar.gz or .zip, or git::URL)"))
		}
		if u.Scheme == "file" {
			if fi, err := os.Stat(filepath.FromSlash(u.Path)); err == nil && fi.IsDir() {
				return fail("download", errors.New("file URL names a directory: use the path itself, or git::file:// for a repository"))
			}
		}
	}
	staging, err := f.newStaging()
	if err != nil {
		return fail("download", err)
	}
	defer removeAll(staging) // no-op once published
	dst := filepath.Join(staging, treeDir)

	client := &getter.Client{
		Getters: []getter.Getter{
			&gitGetter{env: f.gitEnv()},
			&getter.HttpGetter{
				Client:                &http.Client{Timeout: f.opts.HTTPTimeout},
				Netrc:                 true,
				MaxBytes:              maxBytes(f.opts.MaxArchiveBytes),
				XTerraformGetDisabled: true,
				XTerraformGetLimit:    1,
				HeadFirstTimeout:      f.opts.HTTPTimeout,
				ReadTimeout:           f.opts.HTTPTimeout,
			},
			&getter.FileGetter{},
		},
		Decompressors:   decompressors,
		DisableSymlinks: true,
	}
	shown := newRedactor(src).redact(src.URL)
	f.progress("downloading %s", shown)
	f.log.Debug("fetch: go-getter", "url", shown, "dst", dst)
	if isGit {
		_, err = client.Get(ctx, &getter.Request{
			Src:             src.URL,
			Dst:             dst,
			Pwd:             staging,
			GetMode:         getter.ModeDir,
			DisableSymlinks: true,
		})
	} else {
		err = f.downloadArchive(ctx, client, forced, u, staging, dst, decompressors)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fail("download", context.Cause(ctx))
		}
		var ce *getter.ChecksumError
		if errors.As(err, &ce) {
			err = fmt.Errorf("checksum mismatch: want %x, got %x", ce.Expected, ce.Actual)
		}
		return fail("download", err)
	}
	if isEmptyDir(dst) {
		return fail("download", errors.New("no archive or repository at URL"))
	}

	var m meta
	if isGit {
		commit, err := gitOutput(ctx, f.gitEnv(), dst, "rev-parse", "HEAD")
		if err != nil {
			return fail("download", err)
		}
		m = meta{Identity: "git " + identityURL(u) + " " + commit, Version: commit}
	} else {
		if err := makeWritable(dst); err != nil {
			return fail("download", err)
		}
		if err := removeVCSMetadata(dst); err != nil {
			return fail("download", err)
		}
		sum, err := hashTree(dst)
		if err != nil {
			return fail("download", err)
		}
		m = meta{Identity: "archive " + sum}
	}
	key := cache.Hash(m.Identity)
	if _, ok := f.loadMeta(key); !ok {
		modDir, pkgDir, err := locate(dst, src, !isGit)
		if err != nil {
			return resolution{}, &Error{Source: src.Raw, Op: "locate", Err: err}
		}
		imp, err := importPath(modDir, pkgDir)
		if err != nil {
			return resolution{}, &Error{Source: src.Raw, Op: "locate", Err: err}
		}
		if err := f.prepareTree(ctx, dst, modDir, pkgDir, imp); err != nil {
			return resolution{}, prepareError(src, err)
		}
		if err := f.publish(staging, key, m); err != nil {
			return fail("download", err)
		}
	}
	return f.getterResolution(src, key, !isGit)
}

// getterResolution locates the package and module of src inside the
// published checkout key.
func (f *Fetcher) getterResolution(src Source, key string, isArchive bool) (resolution, error) {
	fail := func(err error) (resolution, error) {
		return resolution{}, &Error{Source: src.Raw, Op: "locate", Err: err}
	}
	m, ok := f.loadMeta(key)
	if !ok {
		return fail(errors.New("checkout vanished after publishing"))
	}
	tree, err := filepath.EvalSymlinks(filepath.Join(f.srcDir(key), treeDir))
	if err != nil {
		return fail(err)
	}
	modDir, pkgDir, err := locate(tree, src, isArchive)
	if err != nil {
		return fail(err)
	}
	imp, err := importPath(modDir, pkgDir)
	if err != nil {
		return fail(err)
	}
	modRel, err := relTo(tree, modDir)
	if err != nil {
		return fail(err)
	}
	pkgRel, err := relTo(tree, pkgDir)
	if err != nil {
		return fail(err)
	}
	return resolution{
		SrcKey:     key,
		Identity:   m.Identity,
		Version:    m.Version,
		ModuleRel:  modRel,
		PackageRel: pkgRel,
		ImportPath: imp,
	}, nil
}

// locate returns the module and package directories of src inside tree.
func locate(tree string, src Source, isArchive bool) (modDir, pkgDir string, err error) {
	tree, err = filepath.EvalSymlinks(tree)
	if err != nil {
		return "", "", err
	}
	root := tree
	if isArchive && src.Subdir == "" {
		root = singleTopDir(tree)
	}
	pkgDir, err = resolveSubdir(root, src.Subdir)
	if err != nil {
		return "", "", err
	}
	modDir, err = findModuleDir(pkgDir, tree)
	if err != nil {
		// Not a *NoModuleError: there is no directory to run go mod init in.
		return "", "", errors.New("the source has no go.mod")
	}
	return modDir, pkgDir, nil
}

// singleTopDir returns the only entry of dir when that is a directory
// without go.mod beside it (archives like repo-v1.2.0/…), else dir.
func singleTopDir(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || !entries[0].IsDir() {
		return dir
	}
	return filepath.Join(dir, entries[0].Name())
}

// maxBytes is HttpGetter.MaxBytes for an archive limit: one byte more, so
// that a download cut there is known to be over the limit.
func maxBytes(limit int64) int64 {
	if limit == math.MaxInt64 {
		return limit
	}
	return limit + 1
}

// isArchive reports whether go-getter will decompress u.
func isArchive(u *url.URL, decompressors map[string]getter.Decompressor) bool {
	if a := u.Query().Get("archive"); a != "" {
		_, ok := decompressors[a]
		return ok
	}
	for k := range decompressors {
		if strings.HasSuffix(u.Path, "."+k) {
			return true
		}
	}
	return false
}
