package build

/*
Checking a cached binary before it runs.

A cache entry is trusted only while its binary is what was published: meta.json
records the binary's size, mtime, inode, ctime and sha256. A check costs one
stat and one read of meta.json when those are unchanged (the warm path stays a
hash of the source and an exec); when one differs the content is hashed and
compared with the recorded sha256. The ctime (inode change time) is what
catches a binary overwritten with same-size content and its mtime set back:
the kernel updates it on every write and chmod, and nothing can set it. A binary overwritten or truncated, a
binary that is not a regular file, and a meta.json that is missing, garbage
or names another entry all make the entry damaged: Build rebuilds it (with a
warning on its logger), Verify reports ErrEntryDamaged.

Entries published before the sha256 was recorded have only a size: their
content is hashed once, trusted if the size matches, and the sum and mtime
recorded. A hash that matches under a new stat (the file touched, the cache
copied elsewhere) records the new one. Recording takes the entry's build lock without
waiting, so it never rewrites the meta.json of an entry rebuilt meanwhile.
*/

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

// ErrEntryDamaged is wrapped by the errors of Verify (and logged by Build)
// when a cache entry no longer holds what Build published: its binary was
// overwritten or truncated, or its meta.json is missing or unreadable.
// Calling Builder.Build again for the same request rebuilds the entry.
var ErrEntryDamaged = errors.New("cache entry damaged")

// Verify checks that binaryPath (a Result.Path) is still the binary Build
// published: one stat and one read of the entry's meta.json, plus a hash of
// the binary only when its stat (mtime, ctime, inode) changed. It returns nil when the binary may
// be run, an error wrapping fs.ErrNotExist when it (or its entry) is gone,
// and an error wrapping ErrEntryDamaged when it or its record changed; in both
// cases Builder.Build builds it again. A supervisor calls Verify before each
// (re)start of a cached binary. Safe for concurrent use.
func Verify(binaryPath string) error {
	abs, err := filepath.Abs(binaryPath)
	if err != nil {
		return fmt.Errorf("verify %s: %w", binaryPath, err)
	}
	dir := filepath.Dir(abs)
	key := filepath.Base(dir)
	root := filepath.Dir(filepath.Dir(filepath.Dir(dir)))
	if !isHexHash(key) || filepath.Base(filepath.Dir(dir)) != key[:2] ||
		filepath.Base(filepath.Dir(filepath.Dir(dir))) != cache.BinDir {
		return fmt.Errorf("verify %s: not a binary in fnrun's cache", binaryPath)
	}
	c, err := checkEntry(dir, abs, key)
	if err != nil {
		return fmt.Errorf("verify %s: %w", binaryPath, err)
	}
	c.record(root)
	return nil
}

// damagedError is a damaged entry: it wraps ErrEntryDamaged.
type damagedError struct{ reason string }

func (e *damagedError) Error() string { return ErrEntryDamaged.Error() + ": " + e.reason }
func (e *damagedError) Unwrap() error { return ErrEntryDamaged }

// entryCheck is a successful check of an entry; record saves what it learnt.
type entryCheck struct {
	dir, bin, key string
	m             meta
	fi            fs.FileInfo // the binary as hashed
	hashed        bool        // the content was hashed: record sum and stat
}

// checkEntry checks the binary bin of the entry directory dir against its
// meta.json. The error wraps fs.ErrNotExist when bin does not exist (a plain
// miss) and ErrEntryDamaged when the entry must be rebuilt.
func checkEntry(dir, bin, key string) (entryCheck, error) {
	fi, err := os.Stat(bin)
	if err != nil {
		return entryCheck{}, err
	}
	damaged := func(format string, args ...any) (entryCheck, error) {
		return entryCheck{}, &damagedError{reason: fmt.Sprintf(format, args...)}
	}
	if !fi.Mode().IsRegular() {
		return damaged("%s is not a regular file", bin)
	}
	m, err := readMeta(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return damaged("%s is missing", metaFile)
	}
	if err != nil {
		return damaged("%s: %v", metaFile, err)
	}
	if m.Key != key || m.Binary != filepath.Base(bin) {
		return damaged("%s describes another binary", metaFile)
	}
	if fi.Size() != m.Size {
		return damaged("binary changed since it was built (size %d, built %d)", fi.Size(), m.Size)
	}
	c := entryCheck{dir: dir, bin: bin, key: key, m: m, fi: fi}
	if m.SHA256 != "" && sameStat(fi, m) {
		return c, nil // the cheap path: the file as published
	}
	sum, err := hashBinary(bin)
	if err != nil {
		return damaged("%v", err)
	}
	if m.SHA256 != "" && sum != m.SHA256 {
		return damaged("binary changed since it was built (sha256 %.12s, built %.12s)", sum, m.SHA256)
	}
	c.m.SHA256, c.hashed = sum, true
	setStat(&c.m, fi)
	return c, nil
}

// sameStat reports whether fi is the file m describes, untouched since.
func sameStat(fi fs.FileInfo, m meta) bool {
	return fi.ModTime().Equal(m.ModTime) && changeTime(fi).Equal(m.CTime) && inode(fi) == m.Inode
}

// setStat records in m what sameStat compares.
func setStat(m *meta, fi fs.FileInfo) {
	m.Size, m.ModTime, m.CTime, m.Inode = fi.Size(), fi.ModTime(), changeTime(fi), inode(fi)
}

// record writes the sum and stat learnt by hashing into meta.json, so the
// next check is cheap again. Best effort: it is skipped while someone holds
// the entry's build lock, and when the binary was replaced since it was
// hashed.
func (c entryCheck) record(root string) {
	if !c.hashed {
		return
	}
	unlock, ok, err := cache.TryLock(root, "build "+c.key)
	if err != nil || !ok {
		return
	}
	defer unlock()
	fi, err := os.Stat(c.bin)
	if err != nil || !os.SameFile(fi, c.fi) || !sameStat(fi, c.m) || fi.Size() != c.m.Size {
		return
	}
	_ = writeMeta(c.dir, c.m)
}

// readMeta reads and parses the meta.json of the entry directory dir.
func readMeta(dir string) (meta, error) {
	var m meta
	data, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, err
	}
	return m, nil
}

// writeMeta writes m as dir's meta.json, atomically.
func writeMeta(dir string, m meta) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return cache.WriteFileAtomic(filepath.Join(dir, metaFile), append(data, '\n'), 0o600)
}

// hashBinary returns the hex sha256 of the file name.
func hashBinary(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sealBinary flushes the built binary name to stable storage and records in
// m what checkEntry compares: size, mtime, inode, ctime and sha256.
func sealBinary(name string, m *meta) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	m.SHA256 = hex.EncodeToString(h.Sum(nil))
	setStat(m, fi)
	return nil
}

// cached reports whether the entry dir holds a sound binary bin for p, and
// records the use; m is the entry's meta. A damaged entry is logged as a
// warning: the caller rebuilds it.
func (b *Builder) cached(ctx context.Context, p *plan, dir, bin string, warn bool) (m meta, ok bool) {
	c, err := checkEntry(dir, bin, p.key)
	if err != nil {
		var de *damagedError
		if warn && errors.As(err, &de) {
			b.logger.WarnContext(ctx, "cached binary damaged, rebuilding",
				"package", p.importPath, "reason", de.reason, "path", bin)
		}
		return meta{}, false
	}
	c.record(b.root)
	now := time.Now()
	_ = os.Chtimes(filepath.Join(dir, metaFile), now, now) // best effort: last-use record
	return c.m, true
}
