package runner

import (
	"bytes"
	"io"
	"sync"
	"time"
)

/*
Line writing. The program's stdout and stderr are read in large chunks
(64 KiB, like cat) by one goroutine per stream. lineWriter cuts each chunk
at newlines, formats all complete lines of the chunk into one reused buffer
and hands that buffer to the destination with a single Write under a mutex
shared by both streams: lines are never split or interleaved, and a chunk
that arrived together costs one syscall. An incomplete last line is carried
over to the next chunk, growing without limit (there is no line-length
limit), and is delivered when the stream ends, with a newline added in the
text and JSON formats. Output is written as soon as a read returns, so
interactive output is never held back. One timestamp is taken per chunk:
the lines of a chunk were read at the same instant.
*/

const (
	readBufSize  = 64 << 10
	keepBufBytes = 1 << 20 // larger buffers are dropped after use
	tsLayout     = "2006-01-02T15:04:05.000Z07:00"
	colorName    = "\x1b[36m" // cyan
	colorReset   = "\x1b[0m"
)

// lineWriter turns a byte stream into formatted, whole lines. Write and
// Close must be called from one goroutine at a time.
type lineWriter struct {
	mu     *sync.Mutex // shared by the writers of one supervisor
	dst    io.Writer
	stream Stream
	format Format
	stamps bool
	onLine func(Stream, []byte)
	now    func() time.Time

	prefix []byte // text: "name | " (coloured); json: `","name":…,"line":"`
	carry  []byte // incomplete last line
	out    []byte // formatted output, reused
	ts     []byte // formatted timestamp of the current chunk
}

func newLineWriter(mu *sync.Mutex, dst io.Writer, stream Stream, o *Options) *lineWriter {
	w := &lineWriter{mu: mu, dst: dst, stream: stream, format: o.Format, stamps: o.Timestamps, onLine: o.OnLine, now: time.Now}
	switch o.Format {
	case FormatText:
		color := o.Color
		if stream == StreamStderr {
			color = o.ColorStderr
		}
		if color {
			w.prefix = append(w.prefix, colorName...)
			w.prefix = append(w.prefix, o.Name...)
			w.prefix = append(w.prefix, colorReset...)
		} else {
			w.prefix = append(w.prefix, o.Name...)
		}
		w.prefix = append(w.prefix, " | "...)
	case FormatJSON:
		w.prefix = append(w.prefix, `","name":`...)
		w.prefix = appendJSONString(w.prefix, []byte(o.Name))
		w.prefix = append(w.prefix, `,"stream":"`...)
		w.prefix = append(w.prefix, stream.String()...)
		w.prefix = append(w.prefix, `","line":`...)
	}
	return w
}

// Write formats the complete lines in p and writes them with one Write
// call. It always reports len(p), nil: a failing destination must not stop
// the program's output from being drained.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	w.stamp()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out = w.out[:0]
	if len(w.carry) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.carry = append(w.carry, p...)
			return n, nil
		}
		w.carry = append(w.carry, p[:i+1]...)
		w.line(w.carry)
		w.carry = w.carry[:0]
		if cap(w.carry) > keepBufBytes {
			w.carry = nil
		}
		p = p[i+1:]
	}
	if w.format == FormatRaw && w.onLine == nil {
		// Fast path: pass whole lines through unchanged.
		i := bytes.LastIndexByte(p, '\n')
		if len(w.out) == 0 && i >= 0 {
			w.dst.Write(p[:i+1])
		} else if i >= 0 {
			w.out = append(w.out, p[:i+1]...)
		}
		p = p[i+1:]
	} else {
		for {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				break
			}
			w.line(p[:i+1])
			p = p[i+1:]
		}
	}
	w.carry = append(w.carry, p...)
	w.flush()
	return n, nil
}

// Close delivers an incomplete last line, if any.
func (w *lineWriter) Close() error {
	if len(w.carry) == 0 {
		return nil
	}
	w.stamp()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out = w.out[:0]
	w.line(w.carry)
	w.carry = w.carry[:0]
	if cap(w.carry) > keepBufBytes {
		w.carry = nil
	}
	w.flush()
	return nil
}

// stamp records the time of the chunk being written, if the format shows it.
func (w *lineWriter) stamp() {
	if w.format == FormatJSON || (w.format == FormatText && w.stamps) {
		w.ts = w.now().AppendFormat(w.ts[:0], tsLayout)
	}
}

// line formats one line, with or without its trailing newline, into out.
func (w *lineWriter) line(l []byte) {
	body := l
	if n := len(body); n > 0 && body[n-1] == '\n' {
		body = body[:n-1]
	}
	if w.onLine != nil {
		w.onLine(w.stream, body)
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

func (w *lineWriter) flush() {
	if len(w.out) > 0 {
		w.dst.Write(w.out) // errors ignored: see Write
	}
	if cap(w.out) > keepBufBytes {
		w.out = nil
	}
}
