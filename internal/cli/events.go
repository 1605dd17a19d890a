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

// textHandler prints fnrun's own events as short lines on stderr, the
// function's name first:
//
//	fnrun: greeter: run 2 exited with code 3 (failed) after 1.2s
//	fnrun: greeter: 6 more clean exits in 6.81s
//	fnrun: greeter: watching for changes dirs=/src/greeter
//
// It is a slog.Handler so that the runner, build and fetch packages can log
// through an injected *slog.Logger without knowing about the terminal. The
// supervisor's records (see runner/eventlog.go for their messages and keys)
// are written as sentences; others as the message and key=value pairs. A
// failure (a non-zero exit, a signal fnrun did not send) says "failed" and
// is red on a terminal. The JSON handler keeps the records as they are.
type textHandler struct {
	mu     *sync.Mutex
	w      io.Writer
	level  slog.Level
	attrs  []slog.Attr
	stamps bool // --timestamps: the time first, as on the program's lines
	color  bool // failures in red
	st     *textState
}

// textState is what the handler remembers between records, shared by its
// copies (WithAttrs); guarded by mu.
type textState struct {
	stopping map[string]bool // names fnrun is stopping: their exit is no failure
}

// stampLayout matches the runner's timestamps on the program's lines.
const stampLayout = "2006-01-02T15:04:05.000Z07:00"

func newTextHandler(w io.Writer, level slog.Level) *textHandler {
	return &textHandler{mu: new(sync.Mutex), w: w, level: level, st: &textState{stopping: map[string]bool{}}}
}

func (h *textHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *textHandler) Handle(_ context.Context, r slog.Record) error {
	var subject string
	var attrs []slog.Attr
	collect := func(a slog.Attr) bool {
		if a.Key == "" {
			return true
		}
		a.Value = a.Value.Resolve()
		if a.Key == "name" && subject == "" {
			subject = a.Value.String()
			return true
		}
		attrs = append(attrs, a)
		return true
	}
	for _, a := range h.attrs {
		collect(a)
	}
	r.Attrs(collect)

	h.mu.Lock()
	defer h.mu.Unlock()
	body, failed, ok := h.sentence(r.Message, subject, attrs)
	if !ok {
		var b strings.Builder
		b.WriteString(r.Message)
		for _, a := range attrs {
			s := a.Value.String()
			if a.Value.Kind() == slog.KindDuration {
				s = roundDuration(a.Value.Duration()).String()
			}
			if strings.ContainsAny(s, " \t\"=") || s == "" {
				s = fmt.Sprintf("%q", s)
			}
			b.WriteString(" " + a.Key + "=" + s)
		}
		body = b.String()
	}
	if failed && h.color {
		body = "\033[31m" + body + "\033[0m"
	}
	var b strings.Builder
	if h.stamps {
		b.WriteString(r.Time.Format(stampLayout))
		b.WriteString(" ")
	}
	b.WriteString("fnrun: ")
	if subject != "" {
		b.WriteString(subject)
		b.WriteString(": ")
	}
	b.WriteString(body)
	b.WriteString("\n")
	_, err := io.WriteString(h.w, b.String())
	return err
}

// sentence writes the supervisor's records (runner/eventlog.go) for people:
// the text, whether it tells of a failure, and whether msg is one of them.
// Called with h.mu held.
func (h *textHandler) sentence(msg, name string, attrs []slog.Attr) (text string, failed, ok bool) {
	get := func(key string) (slog.Value, bool) {
		for _, a := range attrs {
			if a.Key == key {
				return a.Value, true
			}
		}
		return slog.Value{}, false
	}
	num := func(key string) int64 {
		v, _ := get(key)
		if v.Kind() == slog.KindInt64 {
			return v.Int64()
		}
		return 0
	}
	dur := func(key string) string {
		v, _ := get(key)
		if v.Kind() != slog.KindDuration {
			return "?"
		}
		return roundDuration(v.Duration()).String()
	}
	sig := func() string {
		if v, ok := get("signal"); ok {
			return v.String()
		}
		return ""
	}
	switch msg {
	case "started":
		return fmt.Sprintf("started run %d (pid %d)", num("run"), num("pid")), false, true
	case "stopping":
		h.st.stopping[name] = true
		return fmt.Sprintf("stopping run %d (pid %d) with %s", num("run"), num("pid"), sig()), false, true
	case "exited":
		stopped := h.st.stopping[name]
		delete(h.st.stopping, name)
		run, code, after := num("run"), num("code"), dur("uptime")
		switch s := sig(); {
		case s != "" && stopped:
			return fmt.Sprintf("run %d stopped by %s after %s", run, s, after), false, true
		case s != "":
			return fmt.Sprintf("run %d killed by %s (failed) after %s", run, s, after), true, true
		case code == 0 || stopped:
			return fmt.Sprintf("run %d exited with code %d after %s", run, code, after), false, true
		default:
			return fmt.Sprintf("run %d exited with code %d (failed) after %s", run, code, after), true, true
		}
	case "restarting":
		if v, _ := get("delay"); v.Kind() == slog.KindDuration && v.Duration() > 0 {
			return "restarting in " + dur("delay"), false, true
		}
		return "restarting", false, true
	case "gave up":
		if s := sig(); s != "" {
			return fmt.Sprintf("gave up after %d runs; the last was killed by %s (failed)", num("runs"), s), true, true
		}
		if code := num("code"); code != 0 {
			return fmt.Sprintf("gave up after %d runs; the last exited with code %d (failed)", num("runs"), code), true, true
		}
		return fmt.Sprintf("gave up after %d runs; the last exited with code 0", num("runs")), false, true
	case "more clean exits":
		return fmt.Sprintf("%d more clean exits in %s", num("runs"), dur("in")), false, true
	case "more failures":
		how := fmt.Sprintf("code %d", num("code"))
		if s := sig(); s != "" {
			how = s
		}
		return fmt.Sprintf("%d more failures (%s) in %s", num("runs"), how, dur("in")), true, true
	}
	return "", false, false
}

// keyEcho tells the terminal's screen, if fnrun writes to one, that a key
// (Ctrl-C) was echoed after the cursor: the next line starts on its own.
func (h *textHandler) keyEcho() {
	if g, ok := h.w.(*outGuard); ok {
		if sw, ok := g.w.(*screenWriter); ok {
			sw.s.keyEcho()
		}
	}
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
	scr := screenOf(w) // fnrun's terminal: installed from Main, before anything writes
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
	h.color = scr != nil && colorOK(true)
	return slog.New(h)
}
