package control

/*
The runtime directory.

Sockets live in $XDG_RUNTIME_DIR/fnrun when the session has a runtime
directory (a tmpfs that the system empties at logout, so dead instances
leave nothing behind across reboots), else in the run/ directory of fnrun's
cache. Either way the directory is the first line of defence: 0700 and owned
by us, so no other user can reach a socket in it, whatever its mode. It is
checked through a descriptor opened with O_NOFOLLOW, so a symlink swapped in
between the check and the use is refused rather than followed; only the last
path component is checked (a home directory behind a symlink is common and
harmless, and the parents are not ours to judge).
*/

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// RuntimeDirName is the name of fnrun's directory under $XDG_RUNTIME_DIR;
// CacheRunDirName the name of the fallback under the cache directory.
const (
	RuntimeDirName  = "fnrun"
	CacheRunDirName = "run"
)

// ErrUnsafeDir is wrapped by Dir's errors when the directory exists but is
// a symlink, not a directory, or owned by another user.
var ErrUnsafeDir = errors.New("unsafe runtime directory")

// Dir returns fnrun's per-user runtime directory, creating it with mode
// 0700: $XDG_RUNTIME_DIR/fnrun if XDG_RUNTIME_DIR is set, else
// cacheDir/run. It refuses a directory that is a symlink, is not a
// directory or is not owned by the current user, and removes group and
// other permissions from one that is ours.
func Dir(cacheDir string) (string, error) {
	var dir string
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
		dir = filepath.Join(xdg, RuntimeDirName)
	} else {
		if cacheDir == "" {
			return "", errors.New("runtime directory: no XDG_RUNTIME_DIR and no cache directory")
		}
		if err := os.MkdirAll(cacheDir, 0o700); err != nil {
			return "", fmt.Errorf("runtime directory: %w", err)
		}
		dir = filepath.Join(cacheDir, CacheRunDirName)
	}
	if err := ensureDir(dir); err != nil {
		return "", fmt.Errorf("runtime directory %s: %w", dir, err)
	}
	return dir, nil
}

func ensureDir(dir string) error {
	if err := unix.Mkdir(dir, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return err
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return fmt.Errorf("%w: is a symlink", ErrUnsafeDir)
		}
		if errors.Is(err, unix.ENOTDIR) {
			return fmt.Errorf("%w: not a directory", ErrUnsafeDir)
		}
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%w: owned by uid %d, not %d", ErrUnsafeDir, st.Uid, os.Getuid())
	}
	if st.Mode&0o077 != 0 {
		if err := unix.Fchmod(fd, 0o700); err != nil {
			return fmt.Errorf("restrict mode: %w", err)
		}
	}
	return nil
}
