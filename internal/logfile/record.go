package logfile

/*
Records.

Each line of a function's log file is one record:

	<time> <run> <stream> <text>\n

time is UTC in TimeLayout (24 bytes, milliseconds), run the decimal run number (≥ 1), stream
one of out, err, out+, err+ or evt, and text the raw bytes of the line: any bytes but '\n', no
escaping. A line longer than the writer's limit is written as pieces: out+ (or err+) records
up to and including the next out (err) record of the same stream, which join into one line.

Reading is lenient because a file may hold the work of a crashed or older fnrun: a line that
does not parse is skipped and counted, never fatal; a rotated file that cannot be read to its
end (a damaged .gz) is read as far as it goes. A last line without '\n' in the current file is
still being written: Reader.Next leaves it for Reader.Follow, which reads from the end of the
last complete line.
*/

import (
	"bufio"
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

// TimeLayout is the layout of a record's time, always UTC.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Streams of a record. A piece of a long line has Partial set and Stream StreamOut or StreamErr.
const (
	StreamOut   = "out"
	StreamErr   = "err"
	StreamEvent = "evt" // an event of fnrun's about the function
)

// maxJoin bounds the text a Reader holds for one line: a line longer than this (joined
// from pieces, or a single line in a damaged file) is cut, and the cut-off part comes as a
// record of its own with Partial set.
const maxJoin = 8 << 20

// Record is one record of a log file.
type Record struct {
	Time   time.Time
	Run    int
	Stream string // StreamOut, StreamErr or StreamEvent
	Text   []byte
	// Partial is set on a piece of a line (out+, err+) as parsed; on a record from a
	// Reader it marks a line whose end is not in the log (its run ended, or it was cut).
	Partial bool
}

// ParseRecord parses one line of a log file, with or without its trailing newline. It
// reports false for a line that is not a record. The Text of the result is a sub-slice of
// line, not a copy.
func ParseRecord(line []byte) (Record, bool) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	n := len(TimeLayout)
	if len(line) < n+1 || line[n] != ' ' {
		return Record{}, false
	}
	t, err := time.Parse(TimeLayout, string(line[:n]))
	if err != nil {
		return Record{}, false
	}
	rest := line[n+1:]
	i := bytes.IndexByte(rest, ' ')
	if i < 1 || i > 9 { // up to 999,999,999 runs: no overflow
		return Record{}, false
	}
	run := 0
	for _, c := range rest[:i] {
		if c < '0' || c > '9' {
			return Record{}, false
		}
		run = run*10 + int(c-'0')
	}
	if run < 1 {
		return Record{}, false
	}
	rest = rest[i+1:]
	stream, text := rest, []byte(nil)
	if j := bytes.IndexByte(rest, ' '); j >= 0 {
		stream, text = rest[:j], rest[j+1:]
	}
	r := Record{Time: t, Run: run, Text: text}
	switch string(stream) {
	case StreamOut, StreamErr, StreamEvent:
		r.Stream = string(stream)
	case StreamOut + "+", StreamErr + "+":
		r.Stream, r.Partial = string(stream[:3]), true
	default:
		return Record{}, false
	}
	return r, true
}

// AppendRecord appends r as one line of a log file, newline included, to dst. The time is
// written in UTC to the millisecond (years 0 to 9999 parse back); Partial writes the piece
// stream (out+, err+), and makes sense only with StreamOut and StreamErr. A '\n' in Text
// would end the record early, so each is written as a space.
func AppendRecord(dst []byte, r Record) []byte {
	dst = r.Time.UTC().AppendFormat(dst, TimeLayout)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(r.Run), 10)
	dst = append(dst, ' ')
	dst = append(dst, r.Stream...)
	if r.Partial {
		dst = append(dst, '+')
	}
	dst = append(dst, ' ')
	start := len(dst)
	dst = append(dst, r.Text...)
	for i := start; i < len(dst); i++ {
		if dst[i] == '\n' {
			dst[i] = ' '
		}
	}
	return append(dst, '\n')
}

// joiner joins the pieces of long lines, per stream.
type joiner struct {
	pending [2]*Record // out, err: the pieces so far of a line not finished
}

// add takes the next record in file order and appends what is complete to out.
func (j *joiner) add(r Record, out []Record) []Record {
	for k, p := range j.pending {
		if p != nil && p.Run != r.Run { // the run ended in the middle of the line
			out = append(out, *p)
			j.pending[k] = nil
		}
	}
	k := 0
	switch r.Stream {
	case StreamOut:
	case StreamErr:
		k = 1
	default:
		return append(out, r)
	}
	p := j.pending[k]
	if p == nil {
		if !r.Partial {
			return append(out, r)
		}
		j.pending[k] = &r
		return out
	}
	p.Text = append(p.Text, r.Text...)
	if !r.Partial || len(p.Text) >= maxJoin {
		p.Partial = r.Partial
		out = append(out, *p)
		j.pending[k] = nil
	}
	return out
}

// flush appends the unfinished lines, oldest first, and forgets them.
func (j *joiner) flush(out []Record) []Record {
	a, b := j.pending[0], j.pending[1]
	if a != nil && b != nil && b.Time.Before(a.Time) {
		a, b = b, a
	}
	for _, p := range []*Record{a, b} {
		if p != nil {
			out = append(out, *p)
		}
	}
	j.pending = [2]*Record{}
	return out
}

// Reader reads the records of one log in order: every rotated file, oldest first, then the
// current file; the pieces of long lines joined. It opens every file when created, so that
// a rotation while it reads renames files under it harmlessly. A Reader is not safe for
// concurrent use.
type Reader struct {
	path    string
	files   []io.ReadCloser // oldest first; closed as they are read
	cur     int
	br      *bufio.Reader
	last    *os.File // the current file (path itself) when it existed, for Follow
	off     int64    // bytes of complete lines read from last
	line    []byte
	j       joiner
	queue   []Record
	skipped int
	err     error // the first read error of a file whose rest was skipped
}

// NewReader opens the files of the log at path (see Files). A log with no files yet is not
// an error: its Reader reads nothing, and Follow waits for the file.
func NewReader(path string) (*Reader, error) {
	names, err := Files(path)
	if err != nil {
		return nil, err
	}
	r := &Reader{path: path}
	for _, name := range names {
		var f io.ReadCloser
		if name == path {
			var pf *os.File
			pf, err = os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
			if err == nil {
				f, r.last = pf, pf
			}
		} else {
			f, err = OpenFile(name)
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by a rotation since Files
		}
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("read log %s: %w", path, err)
		}
		r.files = append(r.files, f)
	}
	if len(r.files) > 0 {
		r.br = bufio.NewReaderSize(r.files[0], 64<<10)
	}
	return r, nil
}

// Next returns the next record, or io.EOF after the last complete one. The pieces of a line
// whose end is not written yet are held back (see Flush and Follow).
func (r *Reader) Next() (Record, error) {
	for len(r.queue) == 0 {
		if r.cur >= len(r.files) {
			return Record{}, io.EOF
		}
		line, n, err := r.readLine()
		if err != nil {
			if !errors.Is(err, io.EOF) && r.err == nil {
				r.err = fmt.Errorf("read log %s: %w", r.path, err)
			}
			wasLast := r.isLast(r.cur)
			r.nextFile()
			if len(line) == 0 || wasLast {
				continue // nothing, or the current file's line still being written
			}
		} else if r.isLast(r.cur) {
			r.off += n
		}
		if len(line) > maxJoin {
			r.skipped++ // no record is this long: the writer cuts lines into pieces
			continue
		}
		rec, ok := ParseRecord(line)
		if !ok {
			r.skipped++
			continue
		}
		rec.Text = bytes.Clone(rec.Text) // line is reused
		r.queue = r.j.add(rec, r.queue[:0])
	}
	rec := r.queue[0]
	r.queue = r.queue[1:]
	return rec, nil
}

// isLast reports whether file i is the current file, path itself.
func (r *Reader) isLast(i int) bool { return r.last != nil && i == len(r.files)-1 }

// readLine reads the next line of the file at r.cur, without its newline, and the number
// of bytes it took in the file. A last line without newline comes with the error (io.EOF)
// that ended the file. Only the first maxJoin+1 bytes of a longer line are kept.
func (r *Reader) readLine() (line []byte, n int64, err error) {
	r.line = r.line[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		n += int64(len(chunk))
		if room := maxJoin + 1 - len(r.line); room > 0 {
			r.line = append(r.line, chunk[:min(len(chunk), room)]...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil:
			return r.line, n, err
		}
		return bytes.TrimSuffix(r.line, []byte{'\n'}), n, nil
	}
}

// nextFile moves on to the next file, closing the one read unless it is the current file.
func (r *Reader) nextFile() {
	if !r.isLast(r.cur) {
		r.files[r.cur].Close()
	}
	r.cur++
	if r.cur < len(r.files) {
		r.br.Reset(r.files[r.cur])
	}
}

// Flush returns the lines whose pieces Next has held back, with Partial set, oldest first,
// and forgets them. Call it at the end of reading when not following.
func (r *Reader) Flush() []Record { return r.j.flush(nil) }

// Skipped returns how many lines so far were not records and were skipped.
func (r *Reader) Skipped() int { return r.skipped }

// Err returns the first error that ended the reading of a file early (the rest of that file
// was skipped and reading went on with the next), or nil.
func (r *Reader) Err() error { return r.err }

// Close closes the files still open. It is idempotent.
func (r *Reader) Close() error {
	for i := r.cur; i < len(r.files); i++ {
		r.files[i].Close()
	}
	if r.last != nil && r.cur >= len(r.files) {
		r.last.Close()
	}
	r.cur = len(r.files)
	r.last = nil
	return nil
}

// Follow continues the log after the records Next returned: it calls fn with each record
// appended from then on, in order, across rotations and restarts of the writer (see the
// package function Follow), until ctx is done or fn returns an error, and returns ctx.Err()
// or fn's error (wrapped). If the log had no current file, Follow first waits for it to be
// created. Held pieces join with their continuation. Call Follow after Next returned io.EOF.
//
// If the current file was rotated between NewReader and Follow, the rest of it is read
// first, then the new file from its start; a second rotation within that moment is missed.
func (r *Reader) Follow(ctx context.Context, fn func(Record) error) error {
	rw := &recordWriter{j: &r.j, fn: fn, skipped: &r.skipped}
	from := int64(0)
	if r.last != nil {
		old, err := r.last.Stat()
		if err != nil {
			return fmt.Errorf("follow log %s: %w", r.path, err)
		}
		if fi, err := os.Stat(r.path); err == nil && os.SameFile(old, fi) {
			from = r.off
		} else {
			if _, err := r.last.Seek(r.off, io.SeekStart); err != nil {
				return fmt.Errorf("follow log %s: %w", r.path, err)
			}
			if _, err := io.Copy(rw, r.last); err != nil {
				return fmt.Errorf("follow log %s: %w", r.path, err)
			}
			if err := rw.flushLine(); err != nil {
				return fmt.Errorf("follow log %s: %w", r.path, err)
			}
		}
		r.last.Close()
		r.last = nil
	}
	for {
		if err := waitForFile(ctx, r.path); err != nil {
			return err
		}
		err := Follow(ctx, r.path, from, rw)
		if !errors.Is(err, fs.ErrNotExist) || ctx.Err() != nil {
			return err
		}
		from = 0 // removed between the wait and the open: wait again
	}
}

// recordWriter cuts the byte stream that Follow writes into records and passes them to fn.
type recordWriter struct {
	j       *joiner
	fn      func(Record) error
	skipped *int
	partial []byte
	cut     bool // partial reached maxJoin: the rest of the line is dropped
	out     []Record
}

func (w *recordWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.hold(p)
			break
		}
		w.hold(p[:i])
		p = p[i+1:]
		if err := w.flushLine(); err != nil {
			return n - len(p), err
		}
	}
	return n, nil
}

func (w *recordWriter) hold(p []byte) {
	if room := maxJoin - len(w.partial); room < len(p) {
		p, w.cut = p[:max(room, 0)], true
	}
	w.partial = append(w.partial, p...)
}

// flushLine parses the line held and passes on what completes.
func (w *recordWriter) flushLine() error {
	line, cut := w.partial, w.cut
	w.partial, w.cut = w.partial[:0], false
	if len(line) == 0 && !cut {
		return nil
	}
	rec, ok := ParseRecord(line)
	if !ok || cut {
		*w.skipped++
		return nil
	}
	rec.Text = bytes.Clone(rec.Text)
	w.out = w.j.add(rec, w.out[:0])
	for _, r := range w.out {
		if err := w.fn(r); err != nil {
			return err
		}
	}
	return nil
}

// waitForFile returns when path exists, or ctx.Err() when ctx is done first. It watches the
// deepest existing directory above path, with a backstop like Follow's for missed events.
func waitForFile(ctx context.Context, path string) error {
	exists := func() (bool, error) {
		_, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
	if ok, err := exists(); ok || err != nil {
		return err
	}
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("wait for log %s: %w", path, err)
	}
	defer watcher.Close()
	timer := time.NewTimer(followBackstop)
	defer timer.Stop()
	watched := ""
	for {
		dir := filepath.Dir(path)
		for {
			if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
		if dir != watched {
			if watched != "" {
				_ = watcher.Remove(watched)
			}
			watched = ""
			if watcher.Add(dir) == nil {
				watched = dir
			}
		}
		if ok, err := exists(); ok || err != nil { // again, now that the watch is set
			return err
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
