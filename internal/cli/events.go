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
	mu    *sync.Mutex
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
}

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

// roundDuration keeps event lines short: 1.234567s → 1.23s, 12.3456ms → 12.3ms.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d
}

// newLogger returns fnrun's event logger for the given flags.
func newLogger(w io.Writer, format string, quiet, verbose bool) *slog.Logger {
	if quiet {
		return slog.New(slog.DiscardHandler)
	}
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	if format == "json" {
		// Durations as milliseconds (key_ms), not Go's nanoseconds.
		ms := func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				return slog.Float64(a.Key+"_ms", float64(a.Value.Duration())/float64(time.Millisecond))
			}
			return a
		}
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: ms})).With("source", "fnrun")
	}
	return slog.New(newTextHandler(w, level))
}
