package system

/*
Shell words without a shell.

A Procfile line is a shell command line, and foreman runs it with `sh -c`.
fnrun runs no shell (DESIGN.md, security baseline), so it splits the line
itself by the POSIX rules for quoting — single quotes, double quotes with
backslash escapes, backslash escapes, blanks between words, `#` at the start
of a word begins a comment — and refuses everything else a shell would do
(pipes, lists, redirections, subshells, command substitution, special
parameters): such a line needs a shell, and the user can say so explicitly
with `sh -c '...'`.

Parameter expansion is left for later: the runtime expands $NAME and ${NAME}
when it starts the entry, from the entry's environment (which holds PORT).
To keep the difference between `$HOME` (expanded) and `'$HOME'` or `\$HOME`
(literal) through the split, words are encoded:

	${NAME}   an expansion (a bare $NAME is written braced, so "$A"B stays
	          the value of A followed by B, not the variable AB)
	$$        a literal dollar sign

and no other `$` appears in a word. ExpandWord decodes a word.
*/

import (
	"fmt"
	"strings"
)

// needsShellError is SplitWords' error for syntax only a shell can run.
type needsShellError struct{ what string }

func (e *needsShellError) Error() string { return fmt.Sprintf("%s needs a shell", e.what) }

// SplitWords splits a command line into words by POSIX shell quoting
// rules, without a shell. Expansions are encoded as described at the top of
// this file: ${NAME} for $NAME and ${NAME}, $$ for a literal dollar sign.
// An unterminated quote, or syntax that needs a shell (| & ; < > ( ) `
// $(...) $1 $? …), is an error.
func SplitWords(s string) ([]string, error) {
	words, _, err := splitWords(s)
	return words, err
}

// splitWords is SplitWords that also returns how many leading words are
// variable assignments (NAME=value with NAME unquoted), which a shell
// applies to the command's environment.
func splitWords(s string) (words []string, assigns int, err error) {
	var (
		b       strings.Builder
		inWord  bool // b holds a word, maybe empty ('')
		name    bool // the word so far is an unquoted NAME: an assignment if = follows
		assign  bool // the word is NAME=value
		leading = true
	)
	flush := func() {
		if !inWord {
			return
		}
		words = append(words, b.String())
		if leading && assign {
			assigns++
		} else {
			leading = false
		}
		b.Reset()
		inWord, name, assign = false, false, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			return words, assigns, nil
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, 0, fmt.Errorf("unterminated ' quote")
			}
			b.WriteString(literal(s[i+1 : i+1+j]))
			i += j + 1
			inWord, name = true, false
		case c == '"':
			n, err := doubleQuoted(s[i+1:], &b)
			if err != nil {
				return nil, 0, err
			}
			i += n // the closing quote
			inWord, name = true, false
		case c == '\\':
			if i+1 == len(s) {
				return nil, 0, fmt.Errorf("trailing backslash")
			}
			i++
			b.WriteString(literal(s[i : i+1]))
			inWord, name = true, false
		case c == '$':
			n, err := dollar(s[i:], &b)
			if err != nil {
				return nil, 0, err
			}
			i += n - 1
			inWord, name = true, false
		case strings.IndexByte("|&;<>()`", c) >= 0:
			return nil, 0, &needsShellError{what: string(c)}
		default:
			switch {
			case c == '=' && name && !assign:
				assign = true
			case isNameByte(c, !inWord) && (name || !inWord):
				name = !assign
			default:
				name = false
			}
			b.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return words, assigns, nil
}

// doubleQuoted reads the inside of a double-quoted string, s starting just
// after the opening quote, into b; it returns the length up to and
// including the closing quote.
func doubleQuoted(s string, b *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
				i++
				b.WriteString(literal(s[i : i+1]))
				continue
			}
			b.WriteByte(c) // any other backslash is itself inside double quotes
		case '`':
			return 0, &needsShellError{what: "`"}
		case '$':
			n, err := dollar(s[i:], b)
			if err != nil {
				return 0, err
			}
			i += n - 1
		default:
			b.WriteByte(c)
		}
	}
	return 0, fmt.Errorf(`unterminated " quote`)
}

// dollar reads an expansion at s[0] == '$' into b, encoded; it returns its
// length.
func dollar(s string, b *strings.Builder) (int, error) {
	if len(s) == 1 {
		b.WriteString("$$")
		return 1, nil
	}
	switch c := s[1]; {
	case c == '{':
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return 0, fmt.Errorf("unterminated ${")
		}
		v := s[2:end]
		if !isName(v) {
			return 0, &needsShellError{what: s[:end+1]}
		}
		b.WriteString(s[:end+1])
		return end + 1, nil
	case isNameByte(c, true):
		n := 2
		for n < len(s) && isNameByte(s[n], false) {
			n++
		}
		b.WriteString("${" + s[1:n] + "}")
		return n, nil
	case c == '(':
		return 0, &needsShellError{what: "$(...)"}
	case c >= '0' && c <= '9' || strings.IndexByte("@*#?$!-", c) >= 0:
		return 0, &needsShellError{what: s[:2]}
	}
	b.WriteString("$$") // a $ before anything else is itself
	return 1, nil
}

// literal encodes text that is not expanded.
func literal(s string) string { return strings.ReplaceAll(s, "$", "$$") }

func isNameByte(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}

// isName reports whether s is a shell variable name.
func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i], i == 0) {
			return false
		}
	}
	return s != ""
}

// quoteWord quotes an encoded word (as SplitWords returns it) so that
// SplitWords reads it back as the same word.
func quoteWord(w string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '$':
			if i+1 < len(w) && w[i+1] == '$' {
				b.WriteString(`\$`)
				i++
				continue
			}
			b.WriteByte(c) // ${NAME}
		case '"', '\\', '`':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// shellQuote quotes s for a POSIX shell as one single-quoted word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ExpandWord decodes a word of a Procfile entry's Command or Env (see
// SplitWords): ${NAME} and $NAME become the value of NAME in env (KEY=VALUE,
// the last one wins; unset is empty), $$ becomes $, and any other $ is
// itself.
func ExpandWord(w string, env []string) string {
	if !strings.Contains(w, "$") {
		return w
	}
	lookup := func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
				return v
			}
		}
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if w[i] != '$' || i+1 == len(w) {
			b.WriteByte(w[i])
			continue
		}
		switch c := w[i+1]; {
		case c == '$':
			b.WriteByte('$')
			i++
		case c == '{':
			end := strings.IndexByte(w[i:], '}')
			if end < 0 || !isName(w[i+2:i+end]) {
				b.WriteByte('$')
				continue
			}
			b.WriteString(lookup(w[i+2 : i+end]))
			i += end
		case isNameByte(c, true):
			n := i + 2
			for n < len(w) && isNameByte(w[n], false) {
				n++
			}
			b.WriteString(lookup(w[i+1 : n]))
			i = n - 1
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
