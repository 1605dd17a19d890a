package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

// StaleTmpAge is the age after which a temporary entry under root/tmp is
// considered abandoned (a killed build) and may be swept.
const StaleTmpAge = time.Hour

// StaleFingerprintAge is the age after which Prune deletes a recorded stat
// fingerprint of a local tree. Reading a record does not refresh it; an
// expired record only costs one content hash.
const StaleFingerprintAge = 7 * 24 * time.Hour

// Entry is one built binary in the cache.
type Entry struct {
	Key      string
	Path     string // the binary
	Source   string
	Package  string
	Size     int64
	Created  time.Time
	LastUsed time.Time
	// InUse reports that the entry was pinned (see Pin) when listed: Prune
	// and Clean leave it alone.
	InUse bool
	// Watch reports that the entry was built for a watch (`run --watch`,
	// Request.Watch): one state of a source being edited, removed by that
	// watch once superseded. False for entries written before fnrun
	// recorded it.
	Watch bool
}

// List returns the cache entries under root, most recently used first.
// Directories that are not complete entries are skipped; symlinks are never
// followed: a bin/ that is a symlink (or not a directory) holds no entries.
func List(root string) ([]Entry, error) {
	binDir := filepath.Join(root, cache.BinDir)
	if ok, err := isRealDir(binDir); err != nil {
		return nil, fmt.Errorf("list cache: %w", err)
	} else if !ok {
		return nil, nil
	}
	shards, err := os.ReadDir(binDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list cache: %w", err)
	}
	var entries []Entry
	for _, s := range shards {
		if !s.IsDir() || len(s.Name()) != 2 { // IsDir is false for symlinks
			continue
		}
		sp := filepath.Join(binDir, s.Name())
		if ok, err := isRealDir(sp); err != nil {
			return nil, fmt.Errorf("list cache: %w", err)
		} else if !ok { // replaced since ReadDir
			continue
		}
		keys, err := os.ReadDir(sp)
		if err != nil {
			return nil, fmt.Errorf("list cache: %w", err)
		}
		for _, k := range keys {
			if !k.IsDir() || !isHexHash(k.Name()) || k.Name()[:2] != s.Name() {
				continue
			}
			dir := filepath.Join(sp, k.Name())
			if ok, _ := isRealDir(dir); !ok {
				continue
			}
			if e, ok := readEntry(dir); ok {
				e.InUse = inUse(dir)
				entries = append(entries, e)
			}
		}
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].LastUsed.After(entries[j].LastUsed) })
	return entries, nil
}

func readEntry(dir string) (Entry, bool) {
	mp := filepath.Join(dir, metaFile)
	fi, err := os.Lstat(mp)
	if err != nil || !fi.Mode().IsRegular() {
		return Entry{}, false
	}
	data, err := os.ReadFile(mp)
	if err != nil {
		return Entry{}, false
	}
	var m meta
	if json.Unmarshal(data, &m) != nil || !validName(m.Binary) || m.Key != filepath.Base(dir) {
		return Entry{}, false
	}
	return Entry{Key: m.Key, Path: filepath.Join(dir, m.Binary), Source: m.Source, Package: m.Package,
		Size: m.Size, Created: m.Created, LastUsed: fi.ModTime(), Watch: m.Watch}, true
}

// Prune removes entries: the keep most recently used are kept; of the others,
// those last used before now-olderThan are removed (olderThan <= 0: all of
// them). So Prune(root, 0, 0) removes every entry that is not in use: entries
// pinned by a running process (see Pin) are skipped, whatever their age, and
// are not in removed. Each entry is renamed out of bin/ under its build lock
// and its pin lock before being deleted, so no reader sees half an entry and
// no concurrent build is disturbed. Stale temporary entries are swept as well.
//
// Symlinks under root are never followed: a bin/ (or bin/<shard>/, or entry
// directory) that is a symlink is left alone and holds no entries; a tmp/ or
// fp/ that is a symlink or not a directory is removed itself, never what it
// points to, as CleanEntries does.
func Prune(root string, olderThan time.Duration, keep int) (removed []Entry, err error) {
	entries, err := List(root)
	if err != nil {
		return nil, err
	}
	cutoff := time.Now().Add(-olderThan)
	for i, e := range entries {
		if i < keep || (olderThan > 0 && !e.LastUsed.Before(cutoff)) {
			continue
		}
		ok, err := removeEntry(root, e.Key)
		if err != nil {
			return removed, err
		}
		if ok {
			removed = append(removed, e)
		}
	}
	if err := sweepDir(filepath.Join(root, cache.FingerDir), StaleFingerprintAge); err != nil {
		return removed, err
	}
	return removed, SweepTmp(root, StaleTmpAge)
}

// Remove removes the cache entry key from the Builder's cache as Prune
// removes an entry: under its build lock and, exclusively, its pin lock,
// renamed out of bin/ before it is deleted. removed is false and err nil
// when a process (this one included) pins the entry; err wraps
// fs.ErrNotExist when there is no such entry. A watch removes with it the
// entries it built that later edits superseded. Safe for concurrent use.
func (b *Builder) Remove(key string) (removed bool, err error) {
	if !isHexHash(key) {
		return false, fmt.Errorf("remove cache entry %q: not a key", key)
	}
	st, err := removeEntryStatus(b.root, key)
	switch {
	case err != nil:
		return false, err
	case st == gone:
		return false, fmt.Errorf("remove cache entry %s: %w", key, fs.ErrNotExist)
	}
	return st == moved, nil
}

// removeEntry removes the entry key unless it is pinned, and reports whether
// it did.
func removeEntry(root, key string) (bool, error) {
	st, err := removeEntryStatus(root, key)
	return err == nil && st == moved, err
}

// removeEntryStatus is removeEntry, saying why nothing was removed (the
// status means nothing when err is set).
func removeEntryStatus(root, key string) (removeStatus, error) {
	unlock, err := cache.Lock(context.Background(), root, "build "+key)
	if err != nil {
		return 0, err
	}
	defer unlock()
	// Never lock, rename or remove through a symlink: bin/, bin/<shard>/ and
	// the entry directory must all be real directories.
	dir := entryDir(root, key)
	for _, d := range []string{filepath.Dir(filepath.Dir(dir)), filepath.Dir(dir), dir} {
		ok, err := isRealDir(d)
		if err != nil {
			return 0, fmt.Errorf("prune cache entry %s: %w", key, err)
		}
		if !ok {
			return gone, nil
		}
	}
	if err := dropNonDir(filepath.Join(root, cache.TmpDir)); err != nil {
		return 0, fmt.Errorf("prune cache entry %s: %w", key, err)
	}
	trash, err := cache.TempDir(root, "prune-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(trash)
	st, err := moveAside(dir, filepath.Join(trash, key))
	if err != nil {
		return 0, fmt.Errorf("prune cache entry %s: %w", key, err)
	}
	if st != moved {
		return st, nil
	}
	if err := os.RemoveAll(trash); err != nil {
		return 0, fmt.Errorf("prune cache entry %s: %w", key, err)
	}
	return moved, nil
}

// Clean removes every built binary that is not in use, and root/tmp. It is
// CleanEntries without the counts.
func Clean(root string) error {
	_, _, err := CleanEntries(root)
	return err
}

// CleanEntries removes every directory under root/bin except the entries
// pinned by a running process (see Pin), and root/tmp. Each entry is renamed
// out of bin/ before being deleted, so it disappears at once; bin/ itself is
// removed when nothing is left in it. Symlinks are removed, never followed.
// removed counts the entry directories removed, skipped the pinned ones kept.
func CleanEntries(root string) (removed, skipped int, err error) {
	tmpDir := filepath.Join(root, cache.TmpDir)
	if err := dropNonDir(tmpDir); err != nil { // never move anything through a symlink
		return 0, 0, fmt.Errorf("clean cache: %w", err)
	}
	binDir := filepath.Join(root, cache.BinDir)
	fi, err := os.Lstat(binDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return 0, 0, fmt.Errorf("clean cache: %w", err)
	case !fi.IsDir(): // a symlink or a file
		if err := os.Remove(binDir); err != nil {
			return 0, 0, fmt.Errorf("clean cache: %w", err)
		}
	default:
		trash, err := cache.TempDir(root, "clean-")
		if err != nil {
			return 0, 0, err
		}
		removed, skipped, err = cleanBin(binDir, trash)
		if err != nil {
			os.RemoveAll(trash)
			return removed, skipped, fmt.Errorf("clean cache: %w", err)
		}
	}
	if err := os.RemoveAll(tmpDir); err != nil {
		return removed, skipped, fmt.Errorf("clean cache: %w", err)
	}
	return removed, skipped, nil
}

// cleanBin moves every unpinned directory of binDir/<shard>/ into trash and
// removes anything else that is not a directory.
func cleanBin(binDir, trash string) (removed, skipped int, err error) {
	shards, err := os.ReadDir(binDir)
	if err != nil {
		return 0, 0, err
	}
	for _, s := range shards {
		sp := filepath.Join(binDir, s.Name())
		if ok, err := isRealDir(sp); err != nil {
			return removed, skipped, err
		} else if !ok { // a symlink (never followed) or a file
			if err := os.Remove(sp); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, skipped, err
			}
			continue
		}
		keys, err := os.ReadDir(sp)
		if err != nil {
			return removed, skipped, err
		}
		for _, k := range keys {
			kp := filepath.Join(sp, k.Name())
			if ok, err := isRealDir(kp); err != nil {
				return removed, skipped, err
			} else if !ok { // a symlink (never followed) or a file
				if err := os.Remove(kp); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return removed, skipped, err
				}
				continue
			}
			st, err := moveAside(kp, filepath.Join(trash, s.Name()+"-"+k.Name()))
			if err != nil {
				return removed, skipped, err
			}
			switch st {
			case moved:
				removed++
			case pinned:
				skipped++
			}
		}
		_ = os.Remove(sp) // fails while it holds pinned entries
	}
	_ = os.Remove(binDir)
	return removed, skipped, nil
}

// SweepTmp removes entries of root/tmp last modified more than olderThan ago:
// leftovers of builds that were killed midway. A root/tmp that is a symlink
// (or not a directory) is removed itself, never followed.
func SweepTmp(root string, olderThan time.Duration) error {
	return sweepDir(filepath.Join(root, cache.TmpDir), olderThan)
}

// sweepDir removes the entries of dir modified more than olderThan ago. A dir
// that is a symlink or not a directory is removed itself, never followed;
// entries that are symlinks are removed as links.
func sweepDir(dir string, olderThan time.Duration) error {
	if err := dropNonDir(dir); err != nil {
		return fmt.Errorf("sweep cache: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sweep cache: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	var first error
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil && first == nil {
			first = fmt.Errorf("sweep cache: %w", err)
		}
	}
	return first
}

// isRealDir reports whether path is a directory and not a symlink to one. A
// missing path is not an error.
func isRealDir(path string) (bool, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil // false for a symlink
}

// dropNonDir removes path if it exists and is not a real directory: a symlink
// (the link itself, never what it points to) or a file. The cache only ever
// puts directories there.
func dropNonDir(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
