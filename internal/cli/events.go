package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// textHandler prints fnrun's own events as short lines on stderr:
//
//	fnrun: greeter exited run=2 code=3 uptime=1.2s
//
// It is a slog.Handler so that the runner, build and fetch packages can log
// through an injected *slog.Logger without knowing about the terminal.
type textHandler struct {
	mu     *sync.Mutex
	w      io.Writer
	level  slog.Level
	attrs  []slog.Attr
	stamps bool // --timestamps: the time first, as on the program's lines
}

// stampLayout matches the runner's timestamps on the program's lines.
const stampLayout = "2006-01-02T15:04:05.000Z07:00"

func newTextHandler(w io.Writer, level slog.Level) *textHandler {
	return &textHandler{mu: new(sync.Mutex), w: w, level: level}
}

func (h *textHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *textHandler) Handle(_ context.Context, r slog.Record) error {
	var subject string
	var rest strings.Builder
	write := func(a slog.Attr) bool {
		if a.Key == "" {
			return true
		}
		v := a.Value.Resolve()
		s := v.String()
		if v.Kind() == slog.KindDuration {
			s = roundDuration(v.Duration()).String()
		}
		if a.Key == "name" && subject == "" {
			subject = s
			return true
		}
		if strings.ContainsAny(s, " \t\"=") || s == "" {
			s = fmt.Sprintf("%q", s)
		}
		rest.WriteString(" ")
		rest.WriteString(a.Key)
		rest.WriteString("=")
		rest.WriteString(s)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	var b strings.Builder
	if h.stamps {
		b.WriteString(r.Time.Format(stampLayout))
		b.WriteString(" ")
	}
	b.WriteString("fnrun: ")
	if subject != "" {
		b.WriteString(subject)
		b.WriteString(" ")
	}
	b.WriteString(r.Message)
	b.WriteString(rest.String())
	b.WriteString("\n")
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *textHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &n
}

func (h *textHandler) WithGroup(string) slog.Handler { return h }

// roundDuration keeps event lines short: three significant digits
// (283.672µs → 284µs, 1.23456s → 1.23s, 975.1ms → 975ms).
func roundDuration(d time.Duration) time.Duration {
	p := time.Duration(1)
	for d/p >= 1000 {
		p *= 10
	}
	return d.Round(p)
}

// newLogger returns fnrun's event logger for the given flags.
func newLogger(w io.Writer, format string, quiet, verbose, stamps bool) *slog.Logger {
	if quiet {
		return slog.New(slog.DiscardHandler)
	}
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	if format == "json" {
		// Durations as milliseconds (key_ms), not Go's nanoseconds.
		ms := func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 && a.Value.Kind() == slog.KindTime {
				return slog.String(slog.TimeKey, a.Value.Time().Format(stampLayout))
			}
			if a.Value.Kind() == slog.KindDuration {
				return slog.Float64(a.Key+"_ms", float64(a.Value.Duration())/float64(time.Millisecond))
			}
			return a
		}
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: ms})).With("source", "fnrun")
	}
	h := newTextHandler(w, level)
	h.stamps = stamps
	return slog.New(h)
}
