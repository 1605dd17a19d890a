package logfile

/*
Why not lumberjack or timberjack: lumberjack v2.2.1 starts a mill goroutine that Close does not
stop (its issue #56), rotates inside a Write when the write would overflow (fine), but compresses
PATH.1 at once, and its maintained fork timberjack adds time-based rotation we do not need. Adding
a module for ~200 lines of renames is not worth it, and the rules here are specific: a Write is
never split across files, Close waits for every background compression, and PATH.1 stays plain
for followers.

Concurrency: one mutex guards the file, its size and the rotation. At most one background
compression runs at a time; a rotation waits for the previous one before shifting names, so the
compressor never sees a file renamed under it. That wait is back-pressure on a writer that
fills MaxSize faster than gzip compresses it, and is bounded by one file's compression.
*/

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxSize  int64 = 10 << 20 // 10 MB
	DefaultMaxFiles       = 5
)

// File and directory modes.
const (
	fileMode fs.FileMode = 0o600
	dirMode  fs.FileMode = 0o700
)

// ErrSymlink is returned by Open when the log file path is a symbolic link.
var ErrSymlink = errors.New("log file is a symbolic link")

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("log file closed")

// Options configures a Writer. The zero value is valid and uses the defaults.
type Options struct {
	// MaxSize is the size in bytes a file may reach before the next Write rotates it
	// (DefaultMaxSize when 0). A single Write larger than MaxSize goes whole into a fresh file.
	MaxSize int64
	// MaxFiles is the number of rotated files kept besides the current one
	// (DefaultMaxFiles when 0).
	MaxFiles int
	// Compress gzips rotated files PATH.2 and older in the background.
	Compress bool
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxSize < 0 {
		return o, fmt.Errorf("max size %d: must not be negative", o.MaxSize)
	}
	if o.MaxFiles < 0 {
		return o, fmt.Errorf("max files %d: must not be negative", o.MaxFiles)
	}
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxFiles == 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	return o, nil
}

// Writer appends to a size-rotated log file. It is safe for concurrent use; each Write
// lands in one file, contiguous, never split by a rotation. Callers write whole lines.
type Writer struct {
	path string
	opts Options

	mu      sync.Mutex
	f       *os.File // nil after Close
	size    int64
	closed  bool
	pending sync.WaitGroup // the background compression, at most one
	errMu   sync.Mutex
	bgErr   error // first background compression error, returned by Close
}

// Open opens (appending) or creates the log file at path, creating its directory with mode
// 0700. path must be absolute and must not be a symbolic link. With Compress, rotated files
// left uncompressed by an earlier process are compressed in the background.
func Open(path string, opts Options) (*Writer, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open log file %s: %w", path, err)
	}
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("open log file %s: path is not absolute", path)
	}
	path = filepath.Clean(path)
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return nil, fmt.Errorf("open log file %s: %w", path, err)
	}
	f, size, err := openAppend(path, false)
	if err != nil {
		return nil, fmt.Errorf("open log file %s: %w", path, err)
	}
	w := &Writer{path: path, opts: opts, f: f, size: size}
	if opts.Compress {
		w.startCompression()
	}
	return w, nil
}

// openAppend opens path for appending without following a symlink and checks that it is a
// regular file. excl requires the file to be new.
func openAppend(path string, excl bool) (*os.File, int64, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, 0, ErrSymlink
	}
	flag := os.O_WRONLY | os.O_APPEND | os.O_CREATE | oNoFollow
	if excl {
		flag |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flag, fileMode)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, 0, ErrSymlink // created between Lstat and OpenFile
		}
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	return f, fi.Size(), nil
}

// Path returns the path of the current log file.
func (w *Writer) Path() string { return w.path }

// Write appends p to the current file, first rotating if p would make a non-empty file
// exceed MaxSize. If the rotation fails, p is still appended to the current file and the
// rotation error is returned with n == len(p); the next Write tries again.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	var rotErr error
	if w.size > 0 && w.size+int64(len(p)) > w.opts.MaxSize {
		rotErr = w.rotate()
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write log file %s: %w", w.path, err)
	}
	return n, rotErr
}

// rotate shifts PATH.N to PATH.N+1, renames PATH to PATH.1 and opens a new PATH.
// The old file stays open until the new one exists, so a failure leaves w.f usable.
// Called with w.mu held.
func (w *Writer) rotate() error {
	w.pending.Wait() // the compressor must not see names shift under it
	max := w.opts.MaxFiles
	for _, name := range []string{w.rotated(max), w.rotated(max) + ".gz"} {
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate log file %s: %w", w.path, err)
		}
	}
	for i := max - 1; i >= 1; i-- {
		for _, ext := range []string{"", ".gz"} {
			err := os.Rename(w.rotated(i)+ext, w.rotated(i+1)+ext)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("rotate log file %s: %w", w.path, err)
			}
		}
	}
	if err := os.Rename(w.path, w.rotated(1)); err != nil {
		return fmt.Errorf("rotate log file %s: %w", w.path, err)
	}
	f, _, err := openAppend(w.path, true)
	if err != nil {
		// Put the old file back; either way w.f stays open and no line is lost.
		_ = os.Rename(w.rotated(1), w.path)
		return fmt.Errorf("rotate log file %s: %w", w.path, err)
	}
	oldErr := w.f.Close()
	w.f, w.size = f, 0
	if w.opts.Compress {
		w.startCompression()
	}
	if oldErr != nil {
		return fmt.Errorf("rotate log file %s: close old file: %w", w.path, oldErr)
	}
	return nil
}

// rotated returns the name of rotated file n (uncompressed).
func (w *Writer) rotated(n int) string { return w.path + "." + strconv.Itoa(n) }

// Close closes the current file and waits for a background compression to finish.
// It returns the first error of a close or of any background compression. Close is
// idempotent; Write after Close returns ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.f.Close()
	w.pending.Wait()
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if err != nil {
		return fmt.Errorf("close log file %s: %w", w.path, err)
	}
	return w.bgErr
}
