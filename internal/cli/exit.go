package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Exit codes fnrun itself chooses (DESIGN.md "Exit codes"); otherwise fnrun
// exits with the program's own code, or 128+N when a signal N killed it.
const (
	ExitOK         = 0
	ExitSmokeFail  = 1
	ExitUsage      = 2
	ExitTimeout    = 124
	ExitFnrun      = 125 // fetch, build, cache: the program never ran
	ExitNoStart    = 126 // the binary exists but could not be started
	ExitHangup     = 129 // 128+SIGHUP: fnrun's terminal was closed
	ExitInterrupt  = 130 // 128+SIGINT
	ExitQuit       = 131 // 128+SIGQUIT (Ctrl-\)
	ExitAbort      = 134 // 128+SIGABRT
	ExitTerminate  = 143 // 128+SIGTERM
	ExitBrokenPipe = 141 // 128+SIGPIPE: fnrun's stdout or stderr was closed
)

// exitError carries an exit code and a one-line message up to Main, with an
// optional detail block printed indented under it.
type exitError struct {
	code   int
	err    error
	detail string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func withDetail(code int, err error, detail string) error {
	return &exitError{code: code, err: err, detail: detail}
}

// usageError is an error in the command line: exit 2.
func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// codeOnly ends fnrun with a code and prints nothing (the program's own exit).
type codeOnly int

func (c codeOnly) Error() string { return fmt.Sprintf("exit %d", int(c)) }

// report prints err as "fnrun: message" plus its indented detail, and returns
// the exit code for it.
func report(w io.Writer, err error) int { return reportTo(w, nil, err) }

// reportTo is report; with a JSON logger (--log-format json) the error is one
// JSON object too: msg, detail, exit_code.
func reportTo(w io.Writer, jsonLog *slog.Logger, err error) int {
	if err == nil {
		return ExitOK
	}
	var c codeOnly
	if errors.As(err, &c) {
		return int(c)
	}
	var sc *stopCause
	if errors.As(err, &sc) {
		return sc.code // said already, as an event
	}
	code := ExitFnrun
	var detail string
	var ee *exitError
	if errors.As(err, &ee) {
		code, detail = ee.code, ee.detail
	}
	msg := strings.TrimSpace(err.Error())
	if rest := restLines(msg); rest != "" && detail == "" {
		detail = rest
	}
	if jsonLog != nil {
		attrs := []any{"exit_code", code}
		if detail != "" {
			attrs = append(attrs, "detail", detail)
		}
		jsonLog.Error(firstLine(msg), attrs...)
		return code
	}
	fmt.Fprintf(w, "fnrun: %s\n", firstLine(msg))
	if detail = strings.TrimRight(detail, "\n"); detail != "" {
		fmt.Fprintln(w, indent(detail, "    "))
	}
	return code
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func restLines(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[i+1:])
	}
	return ""
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
