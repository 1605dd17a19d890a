package logfile

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Files returns the existing files of the log at path, oldest first, ending with path
// itself when it exists: PATH.N … PATH.1, each as the .gz name when that exists. Rotated
// files are found by counting up from PATH.1 until one is missing. Open them with OpenFile,
// which copes with a file being compressed between Files and OpenFile.
func Files(path string) ([]string, error) {
	var rev []string
	for i := 1; ; i++ {
		name := path + "." + strconv.Itoa(i)
		if _, err := os.Lstat(name + ".gz"); err == nil {
			rev = append(rev, name+".gz")
			continue
		}
		_, err := os.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			// A compression may have just replaced name with name.gz.
			if _, gzErr := os.Lstat(name + ".gz"); gzErr == nil {
				rev = append(rev, name+".gz")
				continue
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list log files %s: %w", path, err)
		}
		rev = append(rev, name)
	}
	files := make([]string, 0, len(rev)+1)
	for i := len(rev) - 1; i >= 0; i-- {
		files = append(files, rev[i])
	}
	if _, err := os.Lstat(path); err == nil {
		files = append(files, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list log files %s: %w", path, err)
	}
	return files, nil
}

// OpenFile opens one file named by Files for reading, decompressing a .gz file. If a plain
// rotated file has been compressed since it was listed, the .gz file is read instead.
func OpenFile(name string) (io.ReadCloser, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|oNoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) && !strings.HasSuffix(name, ".gz") {
		name += ".gz"
		f, err = os.OpenFile(name, os.O_RDONLY|oNoFollow, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	if !strings.HasSuffix(name, ".gz") {
		return f, nil
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open log file %s: %w", name, err)
	}
	return gzReadCloser{zr, f}, nil
}

type gzReadCloser struct {
	*gzip.Reader
	f *os.File
}

func (g gzReadCloser) Close() error {
	err := g.Reader.Close()
	if cerr := g.f.Close(); err == nil {
		err = cerr
	}
	return err
}
