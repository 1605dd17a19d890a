package logfile

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// startCompression compresses, in one background goroutine that Close waits for, every
// rotated file from PATH.2 on that is not compressed yet. Called with w.mu held (or before
// w is shared) and with no compression running.
func (w *Writer) startCompression() {
	w.pending.Add(1)
	go func() {
		defer w.pending.Done()
		for i := 2; i <= w.opts.MaxFiles; i++ {
			if err := compressFile(w.rotated(i)); err != nil {
				w.errMu.Lock()
				if w.bgErr == nil {
					w.bgErr = err
				}
				w.errMu.Unlock()
			}
		}
	}()
}

// compressFile writes name.gz (through a temporary name, synced, renamed into place) and
// removes name. A missing name is not an error. If name.gz already exists (a crash between
// the rename and the removal), name is only removed.
func compressFile(name string) (err error) {
	src, err := os.OpenFile(name, os.O_RDONLY|oNoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("compress log file: %w", err)
	}
	defer src.Close()
	if _, err := os.Lstat(name + ".gz"); err == nil {
		return removeErr(os.Remove(name))
	}
	tmp := name + ".gz.tmp"
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|oNoFollow, fileMode)
	if err != nil {
		return fmt.Errorf("compress log file: %w", err)
	}
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(tmp)
			err = fmt.Errorf("compress log file %s: %w", name, err)
		}
	}()
	zw := gzip.NewWriter(dst)
	if _, err = io.Copy(zw, src); err != nil {
		return err
	}
	if err = zw.Close(); err != nil {
		return err
	}
	if err = dst.Sync(); err != nil {
		return err
	}
	if err = dst.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, name+".gz"); err != nil {
		return err
	}
	return removeErr(os.Remove(name))
}

func removeErr(err error) error {
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("compress log file: %w", err)
	}
	return nil
}
