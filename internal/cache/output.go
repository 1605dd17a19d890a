package cache

/*
Files the user names (--report FILE, build -o FILE) are not the cache's own:
FILE may be a regular file, a symlink, a device, a FIFO or /dev/stdout.
Replacing it by renaming a temporary file over it is right only for a
regular file (readers never see half of it) and wrong for everything else:
`--report /dev/full` turned /dev/full into a regular file, and as root
`build -o /dev/null` would have replaced /dev/null. So WriteOutput resolves
symlinks itself and then:

  - a regular file, or a path that does not exist yet (a dangling symlink's
    target included): temporary file in the same directory, fsync, chmod,
    rename — the atomic replace of WriteFileAtomic;
  - anything else (character or block device, FIFO, socket, a terminal):
    opened O_WRONLY, never created, renamed or truncated, and written in
    place, as the go command does for -o /dev/null. A FIFO blocks until it
    has a reader, as a shell redirection does;
  - a Linux /proc/<pid>/fd/N link (/dev/stdout, /dev/fd/1) is written in
    place too, whatever it points to: replacing the file that a shell
    redirected stdout to would cut off everything else written to it. A
    regular file reached that way is appended to.
*/

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxOutputLinks bounds how many symlinks WriteOutput follows (the kernel's
// own limit is 40).
const maxOutputLinks = 40

// WriteOutput writes the content of r to path, a file named by the user.
// A regular file or a new path (a dangling symlink's target included) is
// replaced atomically with mode perm, as WriteFileAtomic does; a symlink is
// followed first. Anything that is not a regular file (a device such as
// /dev/null, a FIFO, /dev/stdout) is opened for writing and written in
// place: it is never created, replaced or chmod-ed. A directory is an
// error. Errors read "write PATH: cause".
func WriteOutput(path string, r io.Reader, perm os.FileMode) error {
	target, inPlace, err := outputTarget(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if inPlace {
		err = writeInPlace(target, r)
	} else {
		err = replaceFile(target, r, perm)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == target {
		err = pe.Err // "write PATH: cause", not the path twice
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// outputTarget follows the symlinks of path (its last element; the
// directories are left to the kernel) and returns the file to write and
// whether to write it in place.
func outputTarget(path string) (target string, inPlace bool, err error) {
	p := path
	for range maxOutputLinks {
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return p, false, nil // created atomically
		case err != nil:
			return "", false, err
		case fi.Mode().IsRegular():
			return p, false, nil
		case fi.IsDir():
			return "", false, fmt.Errorf("%s is a directory", p)
		case fi.Mode()&fs.ModeSymlink == 0:
			return p, true, nil // device, FIFO, socket
		}
		// A symlink: resolve its directory first, so that a relative
		// target with ".." is read the way the kernel reads it.
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			return "", false, err
		}
		if isProcFDDir(dir) {
			return p, true, nil
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", false, err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(dir, link)
		}
		p = link
	}
	return "", false, errors.New("too many levels of symbolic links")
}

// isProcFDDir reports whether dir is a /proc/<pid>/fd (or task) directory,
// whose entries are links to the process's open files.
func isProcFDDir(dir string) bool {
	return strings.HasPrefix(dir, "/proc/") && filepath.Base(dir) == "fd"
}

// writeInPlace opens an existing file that is not replaced and writes r to
// it. A regular file (only reachable through a /proc fd link) is appended to.
func writeInPlace(path string, r io.Reader) error {
	flag := os.O_WRONLY
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().IsRegular() {
		flag |= os.O_APPEND
	}
	var f *os.File
	if err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		f, err = openFIFO(path)
	} else {
		f, err = os.OpenFile(path, flag, 0)
	}
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replaceFile writes r to a temporary file beside path and renames it over
// path: write, fsync, chmod, rename. The caller wraps errors with path.
func replaceFile(path string, r io.Reader, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, r); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}
