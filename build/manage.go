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
}

// List returns the cache entries under root, most recently used first.
// Directories that are not complete entries are skipped; symlinks are never
// followed.
func List(root string) ([]Entry, error) {
	binDir := filepath.Join(root, cache.BinDir)
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
		keys, err := os.ReadDir(filepath.Join(binDir, s.Name()))
		if err != nil {
			return nil, fmt.Errorf("list cache: %w", err)
		}
		for _, k := range keys {
			if !k.IsDir() || !isHexHash(k.Name()) || k.Name()[:2] != s.Name() {
				continue
			}
			if e, ok := readEntry(filepath.Join(binDir, s.Name(), k.Name())); ok {
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
		Size: m.Size, Created: m.Created, LastUsed: fi.ModTime()}, true
}

// Prune removes entries: the keep most recently used are kept; of the others,
// those last used before now-olderThan are removed (olderThan <= 0: all of
// them). So Prune(root, 0, 0) removes every entry. Each entry is renamed out
// of bin/ under its build lock before being deleted, so no reader sees half an
// entry and no concurrent build is disturbed. Stale temporary entries are
// swept as well.
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
		if err := removeEntry(root, e.Key); err != nil {
			return removed, err
		}
		removed = append(removed, e)
	}
	if err := sweepDir(filepath.Join(root, cache.FingerDir), StaleFingerprintAge); err != nil {
		return removed, err
	}
	return removed, SweepTmp(root, StaleTmpAge)
}

func removeEntry(root, key string) error {
	unlock, err := cache.Lock(context.Background(), root, "build "+key)
	if err != nil {
		return err
	}
	defer unlock()
	trash, err := cache.TempDir(root, "prune-")
	if err != nil {
		return err
	}
	if err := os.Rename(entryDir(root, key), filepath.Join(trash, key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		os.Remove(trash)
		return fmt.Errorf("prune cache entry %s: %w", key, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("prune cache entry %s: %w", key, err)
	}
	return nil
}

// Clean removes every built binary and temporary file: root/bin and root/tmp.
// bin/ is first renamed aside so that it disappears at once. Symlinks are
// removed, never followed.
func Clean(root string) error {
	tmpDir := filepath.Join(root, cache.TmpDir)
	if fi, err := os.Lstat(tmpDir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if err := os.Remove(tmpDir); err != nil { // never move anything through a symlink
			return fmt.Errorf("clean cache: %w", err)
		}
	}
	binDir := filepath.Join(root, cache.BinDir)
	if _, err := os.Lstat(binDir); err == nil {
		trash, err := cache.TempDir(root, "clean-")
		if err != nil {
			return err
		}
		if err := os.Rename(binDir, filepath.Join(trash, cache.BinDir)); err != nil {
			return fmt.Errorf("clean cache: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clean cache: %w", err)
	}
	if err := os.RemoveAll(tmpDir); err != nil {
		return fmt.Errorf("clean cache: %w", err)
	}
	return nil
}

// SweepTmp removes entries of root/tmp last modified more than olderThan ago:
// leftovers of builds that were killed midway.
func SweepTmp(root string, olderThan time.Duration) error {
	return sweepDir(filepath.Join(root, cache.TmpDir), olderThan)
}

// sweepDir removes the entries of dir modified more than olderThan ago.
func sweepDir(dir string, olderThan time.Duration) error {
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
