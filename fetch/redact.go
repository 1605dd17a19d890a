package fetch

import (
	"errors"
	"net/url"
	"strings"
)

/*
A getter URL may carry credentials (https://user:token@host/repo.git). The
full URL is handed to go-getter and git and hashed into cache keys, but
whatever is shown or stored (progress, errors and tool output, resolution
records, Checkout.Source and Identity, the clone's remote) has the password
replaced, as url.URL.Redacted does.
*/

const redactedPassword = "xxxxx"

// redactURLs replaces the password of every URL with userinfo in s by
// "xxxxx" (user:xxxxx@host), as url.URL.Redacted does. It works on
// free text (tool output) as well as on a single URL or SOURCE.
func redactURLs(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, "/?#\\ \t\r\n'\"`<>()[]{}")
		if end < 0 {
			end = len(s)
		}
		auth := s[:end]
		at := strings.LastIndex(auth, "@")
		if at < 0 {
			continue
		}
		user, _, hasPassword := strings.Cut(auth[:at], ":")
		if !hasPassword {
			continue
		}
		b.WriteString(user + ":" + redactedPassword)
		s = s[at:] // "@host…"
	}
}

// redactor hides the credentials of one SOURCE in text: every URL's
// password, and the SOURCE's own password wherever it appears (a tool may
// print it outside a URL, unescaped).
type redactor struct {
	secrets []string
}

// minSecretLen is the shortest password also replaced outside URLs: a
// shorter one would garble ordinary words.
const minSecretLen = 4

func newRedactor(src Source) redactor {
	if src.Kind != KindGetter {
		return redactor{}
	}
	_, u, err := getterURL(src.URL)
	if err != nil || u.User == nil {
		return redactor{}
	}
	pw, ok := u.User.Password()
	if !ok {
		return redactor{}
	}
	var r redactor
	_, escaped, _ := strings.Cut(u.User.String(), ":")
	for _, s := range []string{pw, escaped, url.QueryEscape(pw)} {
		if len(s) >= minSecretLen && s != redactedPassword {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

func (r redactor) redact(s string) string {
	s = redactURLs(s)
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, redactedPassword)
	}
	return s
}

// redactError wraps e so that its message is redacted; errors.Is and
// errors.As still see e.
func (r redactor) redactError(e error) error {
	if e == nil {
		return nil
	}
	msg := e.Error()
	if red := r.redact(msg); red != msg {
		return &redactedError{msg: red, err: e}
	}
	return e
}

// redactFetchError redacts the credentials of src in err, a fetch failure:
// an *Error's Source, message and Output.
func redactFetchError(src Source, err error) error {
	red := newRedactor(src)
	var fe *Error
	if errors.As(err, &fe) {
		fe.Source = red.redact(fe.Source)
		fe.Output = red.redact(fe.Output)
		fe.Err = red.redactError(fe.Err)
		return err
	}
	return red.redactError(err)
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Redacted returns the SOURCE as given with the password of its URL, if
// any, replaced by "xxxxx": the form to show or store.
func (s Source) Redacted() string {
	return newRedactor(s).redact(s.Raw)
}
