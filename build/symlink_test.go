package build

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fnrun/fnrun/internal/cache"
)

// fakeKey is a valid entry key whose shard is "ab".
var fakeKey = "ab" + strings.Repeat("0", 62)

// writeFakeEntry writes a complete-looking entry (meta.json and binary) into
// dir, last used two days ago.
func writeFakeEntry(t *testing.T, dir, key string) {
	t.Helper()
	data, err := json.Marshal(meta{Key: key, Source: "./x", Package: "example.com/x", Binary: "x", Size: 1,
		Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{metaFile: string(data), "x": "binary"})
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, metaFile), old, old); err != nil {
		t.Fatal(err)
	}
}

// writeOldFiles writes files and a subdirectory into dir, older than both
// StaleTmpAge and StaleFingerprintAge.
func writeOldFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	old := time.Now().Add(-2 * StaleFingerprintAge)
	for _, n := range names {
		writeFiles(t, dir, map[string]string{n: "victim"})
		if err := os.Chtimes(filepath.Join(dir, n), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, filepath.Join(dir, "sub"), map[string]string{"f": "victim"})
	if err := os.Chtimes(filepath.Join(dir, "sub"), old, old); err != nil {
		t.Fatal(err)
	}
}

// snapshot lists every path under dir with its size.
func snapshot(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[rel] = fi.Size()
		if d.IsDir() {
			m[rel] = -1
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSymlinksNeverFollowed: a symlink anywhere in the cache's own tree
// (tmp/, fp/, bin/, bin/<shard>/, an entry directory) pointing outside the
// cache is never read, locked, renamed or removed through by List, Prune,
// SweepTmp or CleanEntries.
func TestSymlinksNeverFollowed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		link string // path of the symlink under root
		fill func(t *testing.T, victim string)
		// linkKept: the operation may leave the link in place (bin/ for
		// Prune and List); otherwise it may remove the link itself.
	}{
		{"tmp", cache.TmpDir, func(t *testing.T, v string) { writeOldFiles(t, v, "a", "b") }},
		{"fp", cache.FingerDir, func(t *testing.T, v string) { writeOldFiles(t, v, "a", "b") }},
		{"bin", cache.BinDir, func(t *testing.T, v string) {
			writeFakeEntry(t, filepath.Join(v, fakeKey[:2], fakeKey), fakeKey)
		}},
		{"shard", filepath.Join(cache.BinDir, fakeKey[:2]), func(t *testing.T, v string) {
			writeFakeEntry(t, filepath.Join(v, fakeKey), fakeKey)
		}},
		{"entry", filepath.Join(cache.BinDir, fakeKey[:2], fakeKey), func(t *testing.T, v string) {
			writeFakeEntry(t, v, fakeKey)
		}},
	}
	ops := []struct {
		name string
		run  func(t *testing.T, root string) error
	}{
		{"List", func(t *testing.T, root string) error {
			entries, err := List(root)
			if err == nil && len(entries) != 0 {
				t.Errorf("List returned %v through a symlink", entries)
			}
			return err
		}},
		{"Prune", func(t *testing.T, root string) error {
			removed, err := Prune(root, 0, 0)
			if err == nil && len(removed) != 0 {
				t.Errorf("Prune removed %v through a symlink", removed)
			}
			return err
		}},
		{"SweepTmp", func(t *testing.T, root string) error { return SweepTmp(root, time.Hour) }},
		{"CleanEntries", func(t *testing.T, root string) error {
			removed, skipped, err := CleanEntries(root)
			if err == nil && (removed != 0 || skipped != 0) {
				t.Errorf("CleanEntries = %d removed, %d skipped through a symlink", removed, skipped)
			}
			return err
		}},
	}
	for _, c := range cases {
		for _, op := range ops {
			t.Run(c.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				root, victim := t.TempDir(), t.TempDir()
				c.fill(t, victim)
				// A real cache to prune alongside, with a stale tmp entry.
				for _, d := range []string{cache.LockDir, filepath.Dir(c.link)} {
					if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
						t.Fatal(err)
					}
				}
				link := filepath.Join(root, c.link)
				if err := os.Symlink(victim, link); err != nil {
					t.Fatal(err)
				}
				before := snapshot(t, victim)
				if err := op.run(t, root); err != nil {
					t.Fatalf("%s: %v", op.name, err)
				}
				if after := snapshot(t, victim); !reflect.DeepEqual(before, after) {
					t.Errorf("%s changed the victim through %s:\nbefore %v\nafter  %v", op.name, c.link, before, after)
				}
				// Whatever is at the link's path now, it is not a symlink
				// turned into something that points elsewhere.
				if fi, err := os.Lstat(link); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
					if dst, _ := os.Readlink(link); dst != victim {
						t.Errorf("link now points to %s", dst)
					}
				}
			})
		}
	}
}

// TestPruneSymlinkedTmpStillPrunes: a symlinked tmp/ is dropped (the link
// only) and real entries are still pruned, their trash made in a real tmp/.
func TestPruneSymlinkedTmpStillPrunes(t *testing.T) {
	t.Parallel()
	root, victim := t.TempDir(), t.TempDir()
	writeOldFiles(t, victim, "a")
	dir := filepath.Join(root, cache.BinDir, fakeKey[:2], fakeKey)
	writeFakeEntry(t, dir, fakeKey)
	if err := os.Symlink(victim, filepath.Join(root, cache.TmpDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(root, cache.FingerDir)); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, victim)
	removed, err := Prune(root, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Key != fakeKey {
		t.Errorf("Prune removed %v, want the one real entry", removed)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("entry after Prune: %v, want it gone", err)
	}
	if after := snapshot(t, victim); !reflect.DeepEqual(before, after) {
		t.Errorf("Prune changed the victim:\nbefore %v\nafter  %v", before, after)
	}
	for _, d := range []string{cache.TmpDir, cache.FingerDir} {
		if fi, err := os.Lstat(filepath.Join(root, d)); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			t.Errorf("%s is still a symlink after Prune", d)
		}
	}
}

// TestRemoveEntrySymlink: an entry replaced by a symlink after List (or a
// symlinked bin/ or shard) is left alone by removeEntry: no pin lock is
// created in, and nothing renamed out of, the victim.
func TestRemoveEntrySymlink(t *testing.T) {
	t.Parallel()
	for _, link := range []string{cache.BinDir, filepath.Join(cache.BinDir, fakeKey[:2]),
		filepath.Join(cache.BinDir, fakeKey[:2], fakeKey)} {
		root, victim := t.TempDir(), t.TempDir()
		switch link {
		case cache.BinDir:
			writeFakeEntry(t, filepath.Join(victim, fakeKey[:2], fakeKey), fakeKey)
		case filepath.Join(cache.BinDir, fakeKey[:2]):
			writeFakeEntry(t, filepath.Join(victim, fakeKey), fakeKey)
		default:
			writeFakeEntry(t, victim, fakeKey)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, link)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, victim)
		ok, err := removeEntry(root, fakeKey)
		if err != nil || ok {
			t.Errorf("removeEntry through symlinked %s = %v, %v; want false, nil", link, ok, err)
		}
		if after := snapshot(t, victim); !reflect.DeepEqual(before, after) {
			t.Errorf("removeEntry changed the victim through %s:\nbefore %v\nafter  %v", link, before, after)
		}
	}
}
