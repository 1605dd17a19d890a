package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// Subdirectories of the cache root.
const (
	BinDir       = "bin"
	SrcDir       = "src"
	ResolveDir   = "resolve"
	FingerDir    = "fp"
	ToolchainDir = "toolchain"
	LockDir      = "locks"
	TmpDir       = "tmp"
)

// DirMode is the mode of every directory fnrun creates in the cache.
const DirMode os.FileMode = 0o700

// DefaultDir returns the default cache root, os.UserCacheDir()/fnrun.
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find cache directory: %w", err)
	}
	return filepath.Join(base, "fnrun"), nil
}

// Ensure makes sure the cache root dir exists. A directory fnrun creates is
// private to the user (0700, whatever the umask). An existing directory is
// left as it is: fnrun never changes the permissions of a directory it did
// not create (FNRUN_CACHE_DIR may point anywhere).
func Ensure(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("cache directory %s: not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cache directory: %w", err)
	}
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("create cache directory: %w", err)
	}
	if err := os.Chmod(dir, DirMode); err != nil {
		return fmt.Errorf("create cache directory: %w", err)
	}
	return nil
}

// Sub returns root/name, creating it with mode 0700 when missing. It refuses
// a name that is a symlink or not a directory: nothing in the cache is ever
// written through a link to somewhere else.
func Sub(root, name string) (string, error) {
	if err := Ensure(root); err != nil {
		return "", err
	}
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, DirMode); err != nil && !os.IsExist(err) {
		return "", fmt.Errorf("create cache directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("cache directory %s is not a directory (a symlink?): remove it", dir)
	}
	return dir, nil
}

// Hash returns the hex SHA-256 of s. Paths inside the cache are derived from
// such hashes, never from raw user strings.
func Hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TempDir creates a fresh private directory under root/tmp whose name starts
// with prefix. Callers rename it into place or remove it.
func TempDir(root, prefix string) (string, error) {
	tmp, err := Sub(root, TmpDir)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(tmp, prefix)
	if err != nil {
		return "", fmt.Errorf("create temporary directory: %w", err)
	}
	return dir, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory: write, fsync, chmod, rename. Readers see the old content or the
// new one, never a part. It is for the cache's own files: whatever is at
// path is replaced, even a symlink or a device. A file the user names
// (--report, -o) goes through WriteOutput.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return ReplaceFile(path, bytes.NewReader(data), perm)
}

// ReplaceFile is WriteFileAtomic with the content read from r: a reader of
// path sees the old file or the new one, whole; a symlink at path is
// replaced, not followed.
func ReplaceFile(path string, r io.Reader, perm os.FileMode) error {
	if err := replaceFile(path, r, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Lock takes the exclusive lock named key (any string; it is hashed) under
// root/locks, blocking until it is free or ctx is done. The returned function
// releases it. Locks are advisory flock(2) locks: a process that dies releases
// its locks.
func Lock(ctx context.Context, root, key string) (unlock func(), err error) {
	dir, err := Sub(root, LockDir)
	if err != nil {
		return nil, err
	}
	fl := flock.New(lockPath(dir, key), flock.SetPermissions(0o600))
	got := make(chan error, 1)
	go func() { got <- fl.Lock() }()
	select {
	case err := <-got:
		if err != nil {
			return nil, fmt.Errorf("lock cache: %w", err)
		}
		return func() { fl.Unlock() }, nil
	case <-ctx.Done():
		// The goroutine still owns the pending lock: release it once taken.
		go func() {
			if <-got == nil {
				fl.Unlock()
			}
		}()
		return nil, fmt.Errorf("lock cache: %w", context.Cause(ctx))
	}
}

// TryLock takes the lock named key, as Lock does, only if it is free now. ok
// is false when another holder has it; unlock is then nil.
func TryLock(root, key string) (unlock func(), ok bool, err error) {
	dir, err := Sub(root, LockDir)
	if err != nil {
		return nil, false, err
	}
	fl := flock.New(lockPath(dir, key), flock.SetPermissions(0o600))
	ok, err = fl.TryLock()
	if err != nil {
		return nil, false, fmt.Errorf("lock cache: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() { fl.Unlock() }, true, nil
}

// lockPath is the lock file of key in the locks directory dir.
func lockPath(dir, key string) string {
	return filepath.Join(dir, Hash(key)[:32]+".lock")
}
