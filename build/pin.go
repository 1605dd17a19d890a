package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/fnrun/fnrun/internal/cache"
	"github.com/gofrs/flock"
)

// pinFile, inside an entry directory, is locked shared by every process that
// pins the entry and exclusively (without waiting) by Prune and Clean while
// they remove it.
const pinFile = "pin.lock"

// Pin marks the cache entry holding binaryPath (a Result.Path or Entry.Path)
// as in use until release is called (or the process exits): Prune and Clean
// skip pinned entries. A process that supervises a cached binary, and so may
// exec it again, holds a pin for as long as it does. Several processes may pin
// the same entry.
//
// Pin refuses a path that is not a binary of a cache entry, and returns an
// error wrapping fs.ErrNotExist if the entry was removed before it could be
// pinned. release may be called more than once.
//
// Within one process the pins of an entry share one lock: the first pins,
// the others count (an `up` of ten entries of one program reads the entry
// once), and the lock is released with the last.
func Pin(binaryPath string) (release func(), err error) {
	abs, err := filepath.Abs(binaryPath)
	if err != nil {
		return nil, fmt.Errorf("pin %s: %w", binaryPath, err)
	}
	pins.mu.Lock()
	defer pins.mu.Unlock()
	ref := pins.m[abs]
	if ref != nil {
		// Held shared: Prune and Clean cannot have moved the entry; only
		// a removal by hand can have taken the binary.
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("pin %s: %w", binaryPath, err)
		}
	} else {
		fl, err := pinEntry(binaryPath, abs)
		if err != nil {
			return nil, err
		}
		ref = &pinRef{fl: fl}
		if pins.m == nil {
			pins.m = make(map[string]*pinRef)
		}
		pins.m[abs] = ref
	}
	ref.n++
	var once sync.Once
	return func() {
		once.Do(func() {
			pins.mu.Lock()
			defer pins.mu.Unlock()
			if ref.n--; ref.n == 0 {
				delete(pins.m, abs)
				ref.fl.Unlock()
			}
		})
	}, nil
}

// pins are the entries this process holds, by binary path.
var pins struct {
	mu sync.Mutex
	m  map[string]*pinRef
}

type pinRef struct {
	n  int // Pin calls not yet released
	fl *flock.Flock
}

// pinEntry takes the shared lock of the entry whose binary is abs.
func pinEntry(binaryPath, abs string) (*flock.Flock, error) {
	dir := filepath.Dir(abs)
	e, ok := readEntry(dir)
	if !ok || e.Path != abs || !isHexHash(e.Key) ||
		filepath.Base(filepath.Dir(dir)) != e.Key[:2] || filepath.Base(filepath.Dir(filepath.Dir(dir))) != cache.BinDir {
		if _, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pin %s: %w", binaryPath, err)
		}
		return nil, fmt.Errorf("pin %s: not a binary in fnrun's cache", binaryPath)
	}
	lockPath := filepath.Join(dir, pinFile)
	if fi, err := os.Lstat(lockPath); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("pin %s: %s is not a regular file", binaryPath, lockPath)
	}
	fl := flock.New(lockPath, flock.SetPermissions(0o600))
	if err := fl.RLock(); err != nil { // waits only while an entry is being removed
		return nil, fmt.Errorf("pin %s: %w", binaryPath, err)
	}
	// The entry may have been removed while we waited: it was moved away
	// with its lock file, so the lock we hold must still be at lockPath.
	held, err1 := fl.Stat()
	cur, err2 := os.Lstat(lockPath)
	_, err3 := os.Stat(abs)
	if err1 != nil || err2 != nil || err3 != nil || !os.SameFile(held, cur) {
		fl.Unlock()
		return nil, fmt.Errorf("pin %s: cache entry removed: %w", binaryPath, fs.ErrNotExist)
	}
	return fl, nil
}

// removeStatus is the outcome of moveAside.
type removeStatus int

const (
	moved  removeStatus = iota // the directory was moved to dest
	pinned                     // the directory is a pinned entry; left alone
	gone                       // the directory did not exist
)

// moveAside renames the entry directory dir to dest unless it is pinned. It
// holds the entry's pin lock exclusively while renaming, so a concurrent Pin
// either pins the entry first (and the entry stays) or fails. A dir that is a
// symlink or not a directory is left alone (gone): nothing is locked, created
// or renamed through it.
func moveAside(dir, dest string) (removeStatus, error) {
	if ok, err := isRealDir(dir); err != nil {
		return 0, err
	} else if !ok {
		return gone, nil
	}
	lockPath := filepath.Join(dir, pinFile)
	release := func() {}
	fi, err := os.Lstat(lockPath)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		// Pin refuses such an entry: nobody can hold it.
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return 0, err
	default:
		if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			return gone, nil // do not create the lock file's directory
		}
		fl := flock.New(lockPath, flock.SetPermissions(0o600))
		ok, err := fl.TryLock()
		if errors.Is(err, fs.ErrNotExist) {
			return gone, nil
		}
		if err != nil {
			return 0, err
		}
		if !ok {
			return pinned, nil
		}
		release = func() { fl.Unlock() }
	}
	if runtime.GOOS == "windows" {
		// Windows cannot rename a directory holding an open file. The
		// window between unlocking and renaming is accepted there.
		release()
		release = func() {}
	}
	defer release()
	if err := os.Rename(dir, dest); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return gone, nil
		}
		return 0, err
	}
	return moved, nil
}

// inUse reports whether the entry directory dir is pinned. It takes the pin
// lock exclusively for a moment, without creating it.
func inUse(dir string) bool {
	lockPath := filepath.Join(dir, pinFile)
	if fi, err := os.Lstat(lockPath); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	fl := flock.New(lockPath, flock.SetFlag(os.O_RDONLY))
	ok, err := fl.TryLock()
	if err != nil {
		return false
	}
	if ok {
		fl.Unlock()
	}
	return !ok
}
