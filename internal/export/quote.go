package export

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

/*
Quoting for unit files. systemd reads a line in three passes: specifiers
(%n, %i...) are replaced in the whole value first, so a literal '%' is
written "%%"; then the value is split into words, honouring double quotes
and C escapes (\" \\ \n \xNN); and, for ExecStart= only, $NAME and ${NAME}
are replaced from the environment when the command runs, so a literal '$'
is written "$$" there. In Environment= a '$' has no meaning.

A word is written bare when it has only characters no pass touches, else in
double quotes with '"', '\' and control characters escaped.
*/

// quote writes one ExecStart= word.
func quote(s string) string { return quoteWord(s, true) }

// quoteEnv writes one Environment= assignment KEY=VALUE.
func quoteEnv(kv string) string { return quoteWord(kv, false) }

func quoteWord(s string, dollar bool) string {
	if s != "" && bare(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if r, n := utf8.DecodeRuneInString(s[i:]); r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i]) // systemd ignores lines that are not UTF-8
			continue
		}
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < ' ' || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		case c == '%':
			b.WriteString("%%")
		case c == '$' && dollar:
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// bare reports whether s can be written without quotes: letters, digits
// and punctuation that no pass of systemd's treats specially.
func bare(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("_./,=+:@-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// execPrefixes are the characters systemd reads as prefixes of
// ExecStart='s first word, quoted or not (-/path: ignore failure...).
const execPrefixes = "-@:+!"

// escapePercent writes a value that systemd takes whole (a path, a name):
// only specifiers apply to it.
func escapePercent(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// seconds writes d as a systemd time span in the largest exact unit (s, ms
// or us; systemd counts microseconds, so a rest below 1us rounds up).
func seconds(d time.Duration) string {
	switch {
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return fmt.Sprintf("%dus", (d+time.Microsecond-1)/time.Microsecond)
}
