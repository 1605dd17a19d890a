//go:build unix

package runner

import (
	"bytes"
	"io"
	"sync"
	"time"
	"unicode/utf8"
)

/*
Line writing. The program's stdout and stderr are read in large chunks
(64 KiB, like cat) by one goroutine per stream. lineWriter cuts each chunk
at newlines, formats all complete lines of the chunk into one reused buffer
and hands that buffer to the destination with a single Write under a mutex
shared by both streams: lines (and the pieces of long lines, below) are
never split or interleaved, and a chunk that arrived together costs one
syscall. An incomplete last line is carried
over to the next chunk and is delivered when the stream ends, with a newline
added in the text and JSON formats. Output is written as soon as a read
returns, so interactive output is never held back. One timestamp is taken
per chunk: the lines of a chunk were read at the same instant.

Lines are bounded: a line longer than MaxLine bytes is delivered in pieces
of at most MaxLine bytes, each formatted as soon as it is complete (text:
its own output line with the prefix; JSON: "partial":true on all pieces but
the last; raw: the bytes unchanged). So the carried line never holds more
than MaxLine+1 bytes (one byte of look-ahead tells a line of exactly MaxLine
bytes from a longer one, and shows whether the cut falls inside a UTF-8
sequence, in which case it moves back to the sequence's start, at most 3
bytes), and the formatted output of one Write is bounded by the chunk plus
one piece, escaped. This holds for any input, such as a progress bar that
only ever writes '\r'. Pieces depend only on the bytes of the line, not on
how they were read. The fast paths pay one comparison per chunk: a chunk
no longer than MaxLine (64 KiB reads against the default 1 MiB) holds no
line to cut, and its lines go through the plain loop.

With Options.LogFile, each line and piece is also formatted as a log-file
record (logrecord.go) into a second reused buffer, written with one more
Write per chunk under the same mutex. The raw format's pass-through is
then not taken: the lines are needed one by one.
*/

const (
	readBufSize  = 64 << 10
	keepBufBytes = 2 << 20 // larger buffers are dropped after use; room for a text piece of DefaultMaxLine
	tsLayout     = "2006-01-02T15:04:05.000Z07:00"
	colorName    = "\x1b[36m" // cyan
	colorReset   = "\x1b[0m"
)

// lineWriter turns a byte stream into formatted, whole lines, and lines
// longer than maxLine into pieces. Write and Close must be called from one
// goroutine at a time.
type lineWriter struct {
	mu     *sync.Mutex // shared by the writers of one supervisor
	dst    io.Writer
	stream Stream
	format Format
	stamps bool
	onLine func(Stream, []byte)
	now    func() time.Time

	maxLine int    // longest piece of a line, > 0
	prefix  []byte // text: "name | " (coloured); json: `","name":…,"line":"`
	carry   []byte // incomplete last line, at most maxLine+1 bytes
	out     []byte // formatted output, reused
	ts      []byte // formatted timestamp of the current chunk

	// Options.LogFile (logrecord.go); nil: none, and the rest is unused.
	log       io.Writer
	logOut    []byte // log-file records, reused
	logTag    []byte // " <run> <stream> " of the current run
	logPart   []byte // " <run> <stream>+ ", for pieces
	logHead   []byte // "<time>" + logTag: the start of the current chunk's records
	pieceHead []byte // "<time>" + logPart
}

func newLineWriter(mu *sync.Mutex, dst io.Writer, stream Stream, o *Options) *lineWriter {
	w := &lineWriter{mu: mu, dst: dst, stream: stream, format: o.Format, stamps: o.Timestamps, onLine: o.OnLine, now: time.Now,
		maxLine: o.MaxLine, log: o.LogFile}
	if w.maxLine <= 0 { // o did not come from withDefaults
		w.maxLine = DefaultMaxLine
	}
	w.setRun(1)
	switch o.Format {
	case FormatText:
		color := o.Color
		if stream == StreamStderr {
			color = o.ColorStderr
		}
		if color {
			c := o.NameColor
			if c == "" {
				c = colorName
			}
			w.prefix = append(w.prefix, c...)
			w.prefix = append(w.prefix, o.Name...)
			w.prefix = append(w.prefix, colorReset...)
		} else {
			w.prefix = append(w.prefix, o.Name...)
		}
		for n := utf8.RuneCountInString(o.Name); n < o.NameWidth; n++ {
			w.prefix = append(w.prefix, ' ')
		}
		w.prefix = append(w.prefix, " | "...)
	case FormatJSON:
		w.prefix = append(w.prefix, `","name":`...)
		w.prefix = appendJSONString(w.prefix, []byte(o.Name))
		if o.Function != "" {
			w.prefix = append(w.prefix, `,"function":`...)
			w.prefix = appendJSONString(w.prefix, []byte(o.Function))
		}
		w.prefix = append(w.prefix, `,"stream":"`...)
		w.prefix = append(w.prefix, stream.String()...)
		w.prefix = append(w.prefix, `","line":`...)
	}
	return w
}

// Write formats the complete lines (and pieces) in p and writes them with
// one Write call. It always reports len(p), nil: a failing destination must
// not stop the program's output from being drained.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	w.stamp()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out, w.logOut = w.out[:0], w.logOut[:0]
	for len(w.carry) > 0 && len(p) > 0 {
		p = w.continueLine(p)
	}
	if w.format == FormatRaw && w.onLine == nil && w.log == nil {
		// Fast path: pass whole lines through unchanged.
		i := bytes.LastIndexByte(p, '\n')
		if len(w.out) == 0 && i >= 0 {
			w.dst.Write(p[:i+1])
		} else if i >= 0 {
			w.out = append(w.out, p[:i+1]...)
		}
		p = p[i+1:]
	} else {
		if len(p) > w.maxLine {
			p = w.longLines(p)
		}
		for {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				break
			}
			w.line(p[:i+1])
			p = p[i+1:]
		}
	}
	if len(p) > 0 {
		p, _ = w.pieces(p, len(p))
		w.keep(p)
	}
	w.flush()
	return n, nil
}

// longLines formats the lines of p, cutting those longer than maxLine into
// pieces, until the rest of p is no longer than maxLine (so that it holds
// no line to cut); it returns that rest.
func (w *lineWriter) longLines(p []byte) []byte {
	for len(p) > w.maxLine {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		if i > w.maxLine {
			p, i = w.pieces(p, i)
		}
		w.line(p[:i+1])
		p = p[i+1:]
	}
	return p
}

// pieces formats the pieces of p[:n], a line or the start of one, until at
// most maxLine bytes of it are left; it returns the rest of p and of n.
func (w *lineWriter) pieces(p []byte, n int) ([]byte, int) {
	for n > w.maxLine {
		cut := w.cut(p)
		w.piece(p[:cut])
		p, n = p[cut:], n-cut
	}
	return p, n
}

// continueLine adds the start of p to the incomplete line in carry and
// formats the line, or its next piece, once it is complete. It returns the
// rest of p.
func (w *lineWriter) continueLine(p []byte) []byte {
	i := bytes.IndexByte(p, '\n')
	end := i
	if i < 0 {
		end = len(p)
	}
	room := w.maxLine - len(w.carry)
	if end <= room {
		if i < 0 {
			w.keep(p)
			return nil
		}
		w.keep(p[:i+1])
		w.line(w.carry)
		w.dropCarry()
		return p[i+1:]
	}
	// Longer than maxLine: take one byte more than fits (not a newline,
	// since end > room), cut, and keep the rest (1 to 4 bytes).
	w.keep(p[:room+1])
	cut := w.cut(w.carry)
	w.piece(w.carry[:cut])
	w.carry = w.carry[:copy(w.carry, w.carry[cut:])]
	return p[room+1:]
}

// cut returns the length of the next piece of a line that continues past
// b[maxLine]: maxLine, or up to 3 bytes less so as not to split a UTF-8
// sequence. It is at least 1.
func (w *lineWriter) cut(b []byte) int {
	m := w.maxLine
	if utf8.RuneStart(b[m]) {
		return m
	}
	for i := m - 1; i > 0 && i >= m-3; i-- {
		if c := b[i]; c >= 0xc0 { // the leading byte of the split sequence
			return i
		} else if c < 0x80 {
			break // not a sequence: no better place to cut
		}
	}
	return m
}

// keep appends b to carry, whose capacity never exceeds maxLine+1.
func (w *lineWriter) keep(b []byte) {
	if n := len(w.carry) + len(b); n > cap(w.carry) {
		c := make([]byte, len(w.carry), min(max(n, 2*cap(w.carry), 512), w.maxLine+1))
		copy(c, w.carry)
		w.carry = c
	}
	w.carry = append(w.carry, b...)
}

// dropCarry empties carry after a line ended, freeing a large buffer.
func (w *lineWriter) dropCarry() {
	w.carry = w.carry[:0]
	if cap(w.carry) > keepBufBytes {
		w.carry = nil
	}
}

// Close delivers an incomplete last line, if any.
func (w *lineWriter) Close() error {
	if len(w.carry) == 0 {
		return nil
	}
	w.stamp()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out, w.logOut = w.out[:0], w.logOut[:0]
	w.line(w.carry)
	w.dropCarry()
	w.flush()
	return nil
}

// stamp records the time of the chunk being written, if the format or the
// log file shows it.
func (w *lineWriter) stamp() {
	shown := w.format == FormatJSON || (w.format == FormatText && w.stamps)
	if !shown && w.log == nil {
		return
	}
	t := w.now()
	if shown {
		w.ts = t.AppendFormat(w.ts[:0], tsLayout)
	}
	if w.log != nil {
		w.stampRecords(t)
	}
}

// line formats one line, with or without its trailing newline, into out,
// and its record into logOut.
func (w *lineWriter) line(l []byte) {
	body := l
	if n := len(body); n > 0 && body[n-1] == '\n' {
		body = body[:n-1]
	}
	if w.onLine != nil {
		w.onLine(w.stream, body)
	}
	if w.log != nil {
		w.record(w.logHead, body)
	}
	switch w.format {
	case FormatRaw:
		w.out = append(w.out, l...)
		return
	case FormatJSON:
		w.out = append(w.out, `{"time":"`...)
		w.out = append(w.out, w.ts...)
		w.out = append(w.out, w.prefix...)
		w.out = appendJSONString(w.out, body)
		w.out = append(w.out, "}\n"...)
		return
	}
	if w.stamps {
		w.out = append(w.out, w.ts...)
		w.out = append(w.out, ' ')
	}
	w.out = append(w.out, w.prefix...)
	w.out = append(w.out, body...)
	w.out = append(w.out, '\n')
}

// piece formats a piece of a line longer than maxLine (never with a
// newline): like a line, marked "partial":true in JSON and "+" in the log
// file. The marks are added here so that line, on the fast paths, does not
// test for them.
func (w *lineWriter) piece(l []byte) {
	if w.log == nil {
		w.line(l)
	} else { // line writes the record with logHead: lend it the piece's head
		// (the chunk's time, then logPart), made only when a piece comes
		w.pieceHead = append(append(w.pieceHead[:0], w.logHead[:len(w.logHead)-len(w.logTag)]...), w.logPart...)
		w.logHead, w.pieceHead = w.pieceHead, w.logHead
		w.line(l)
		w.logHead, w.pieceHead = w.pieceHead, w.logHead
	}
	if w.format == FormatJSON {
		w.out = append(w.out[:len(w.out)-len("}\n")], `,"partial":true}`+"\n"...)
	}
}

func (w *lineWriter) flush() {
	if len(w.out) > 0 {
		w.dst.Write(w.out) // errors ignored: see Write
	}
	if len(w.logOut) > 0 {
		w.log.Write(w.logOut) // errors ignored, as above
	}
	if cap(w.out) > keepBufBytes {
		w.out = nil
	}
	if cap(w.logOut) > keepBufBytes {
		w.logOut = nil
	}
}
