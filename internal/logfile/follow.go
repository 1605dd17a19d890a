package logfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fsnotify/fsnotify"
)

// followBackstop bounds how long Follow waits when no file event arrives (an event can be
// missed while PATH is being replaced); events normally wake it at once.
const followBackstop = time.Second

// Follow copies the log file at path to out from offset from, then keeps copying what is
// appended until ctx is done, when it returns ctx.Err(). It writes only whole lines, except
// that the end of a rotated file is written as it is. It notices a rotation by PATH naming
// another inode than the file it has open: it reads the old file to its end, then reads the
// file that followed it from offset 0 (see reopenIfRotated), ending at PATH. A file that shrinks below the offset read (truncated) is read again
// from 0. If from is beyond the end of the file, reading starts at 0.
func Follow(ctx context.Context, path string, from int64, out io.Writer) error {
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("follow log file %s: %w", path, err)
	}
	defer watcher.Close()
	if err := watcher.Add(filepath.Dir(path)); err != nil {
		return fmt.Errorf("follow log file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return fmt.Errorf("follow log file %s: %w", path, err)
	}
	defer func() { f.Close() }()
	fl := &follower{out: out}
	if fi, err := f.Stat(); err == nil && from > 0 && from <= fi.Size() {
		if _, err := f.Seek(from, io.SeekStart); err != nil {
			return fmt.Errorf("follow log file %s: %w", path, err)
		}
		fl.off = from
	}
	timer := time.NewTimer(followBackstop)
	defer timer.Stop()
	for {
		if err := fl.copy(f); err != nil {
			return fmt.Errorf("follow log file %s: %w", path, err)
		}
		next, err := reopenIfRotated(path, f)
		if err != nil {
			return fmt.Errorf("follow log file %s: %w", path, err)
		}
		if next != nil {
			if err := fl.copy(f); err != nil { // the rest of the old file
				next.Close()
				return fmt.Errorf("follow log file %s: %w", path, err)
			}
			if err := fl.flush(); err != nil {
				next.Close()
				return fmt.Errorf("follow log file %s: %w", path, err)
			}
			f.Close()
			f, fl.off = next, 0
			continue
		}
		timer.Reset(followBackstop)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-watcher.Events:
		case <-watcher.Errors:
		case <-timer.C:
		}
	}
}

// reopenIfRotated returns the file that follows f if PATH names another file than f, or nil.
// A missing PATH (between a rotation's rename and create) is not a rotation yet. The file
// that follows f is found by f's identity: if f is now PATH.k, the next is PATH.k-1 (PATH
// for k = 1), so a follower that fell several rotations behind still reads every file that
// is kept uncompressed; files already compressed or removed are skipped.
func reopenIfRotated(path string, f *os.File) (*os.File, error) {
	cur, err := f.Stat()
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if os.SameFile(cur, fi) {
		return nil, nil
	}
	name := path
	for k := 1; ; k++ {
		rfi, err := os.Lstat(path + "." + strconv.Itoa(k))
		if err != nil {
			break
		}
		if os.SameFile(cur, rfi) {
			if k > 1 {
				name = path + "." + strconv.Itoa(k-1)
			}
			break
		}
	}
	next, err := os.OpenFile(name, os.O_RDONLY|oNoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) && name != path {
		next, err = os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return next, err
}

// follower copies whole lines to out, holding back a partial last line.
type follower struct {
	out     io.Writer
	off     int64 // offset read in the current file
	partial []byte
	buf     [32 << 10]byte
}

// copy reads f to its end, first going back to 0 if f was truncated below off.
func (fl *follower) copy(f *os.File) error {
	if fi, err := f.Stat(); err == nil && fi.Size() < fl.off {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		fl.off, fl.partial = 0, fl.partial[:0]
	}
	for {
		n, err := f.Read(fl.buf[:])
		fl.off += int64(n)
		data := fl.buf[:n]
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			if len(fl.partial) > 0 {
				if _, werr := fl.out.Write(fl.partial); werr != nil {
					return werr
				}
				fl.partial = fl.partial[:0]
			}
			if _, werr := fl.out.Write(data[:i+1]); werr != nil {
				return werr
			}
			data = data[i+1:]
		}
		fl.partial = append(fl.partial, data...)
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// flush writes a held-back partial line (the end of a rotated file).
func (fl *follower) flush() error {
	if len(fl.partial) == 0 {
		return nil
	}
	_, err := fl.out.Write(fl.partial)
	fl.partial = fl.partial[:0]
	return err
}
