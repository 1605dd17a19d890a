package fetch

import (
	"errors"
	"net/url"
	"strings"
)

/*
A getter URL may carry credentials: a password (https://user:token@host/…),
a token given as the user name (https://TOKEN@host/…), or a signed query
(…?X-Amz-Signature=…). The full URL is handed to go-getter and git and
hashed into cache keys, but whatever is shown or stored (progress, errors
and tool output, resolution records, Checkout.Source and Identity, the
clone's remote) has them replaced by "xxxxx":

  - user:password@ becomes user:xxxxx@ (as url.URL.Redacted does);
  - a user without password becomes xxxxx@, except in ssh:// URLs, where
    the user is an account name (git@host), not a credential;
  - the value of every query parameter but the getter's own non-secret ones
    (ref, depth, archive, checksum) becomes xxxxx (a parameter without a
    value is replaced as a whole).
*/

const redactedPassword = "xxxxx"

// publicQueryKeys are the query parameters shown as they are.
var publicQueryKeys = map[string]bool{"ref": true, "depth": true, "archive": true, "checksum": true}

// urlEnd are the characters that end a URL in free text.
const urlEnd = "\\ \t\r\n'\"`<>()[]{}"

// redactURLs replaces the credentials of every URL in s (see above). It
// works on free text (tool output) as well as on a single URL or SOURCE.
func redactURLs(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		scheme := s[:i]
		if j := strings.LastIndexAny(scheme, urlEnd+":"); j >= 0 {
			scheme = scheme[j+1:]
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, urlEnd)
		if end < 0 {
			end = len(s)
		}
		b.WriteString(redactOneURL(strings.ToLower(scheme), s[:end]))
		s = s[end:]
	}
}

// redactOneURL redacts rest, the part of one URL after "scheme://".
func redactOneURL(scheme, rest string) string {
	authEnd := strings.IndexAny(rest, "/?#")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	auth, tail := rest[:authEnd], rest[authEnd:]
	if at := strings.LastIndex(auth, "@"); at >= 0 {
		user, _, hasPassword := strings.Cut(auth[:at], ":")
		switch {
		case hasPassword:
			auth = user + ":" + redactedPassword + auth[at:]
		case scheme != "ssh":
			auth = redactedPassword + auth[at:]
		}
	}
	q := strings.IndexByte(tail, '?')
	if q < 0 {
		return auth + tail
	}
	query, frag := tail[q+1:], ""
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query, frag = query[:h], query[h:]
	}
	return auth + tail[:q+1] + redactQuery(query) + frag
}

// redactQuery replaces the values of the non-public parameters of a raw
// query string, keeping its form otherwise.
func redactQuery(raw string) string {
	if raw == "" {
		return raw
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		if p == "" {
			continue
		}
		k, _, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		switch {
		case publicQueryKeys[key]:
		case hasValue:
			parts[i] = k + "=" + redactedPassword
		default:
			parts[i] = redactedPassword
		}
	}
	return strings.Join(parts, "&")
}

// redactor hides the credentials of one SOURCE in text: every URL's
// credentials, and the SOURCE's own secrets (password, token user name,
// secret query values) wherever they appear (a tool may print them outside
// a URL, unescaped).
type redactor struct {
	secrets []string
}

// minSecretLen is the shortest secret also replaced outside URLs: a
// shorter one would garble ordinary words.
const minSecretLen = 4

func newRedactor(src Source) redactor {
	if src.Kind != KindGetter {
		return redactor{}
	}
	_, u, err := getterURL(src.URL)
	if err != nil {
		return redactor{}
	}
	var r redactor
	add := func(raw, plain string) {
		for _, s := range []string{plain, raw, url.QueryEscape(plain), url.PathEscape(plain)} {
			if len(s) >= minSecretLen && s != redactedPassword && !contains(r.secrets, s) {
				r.secrets = append(r.secrets, s)
			}
		}
	}
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			_, escaped, _ := strings.Cut(u.User.String(), ":")
			add(escaped, pw)
		} else if u.Scheme != "ssh" {
			add(u.User.String(), u.User.Username())
		}
	}
	for _, p := range strings.Split(u.RawQuery, "&") {
		k, v, hasValue := strings.Cut(p, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		if publicQueryKeys[key] {
			continue
		}
		if !hasValue {
			v = k
		}
		plain, err := url.QueryUnescape(v)
		if err != nil {
			plain = v
		}
		add(v, plain)
	}
	return r
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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

// Redacted returns the SOURCE as given with the credentials of its URL
// replaced by "xxxxx" (see redact.go): the form to show or store.
func (s Source) Redacted() string {
	return newRedactor(s).redact(s.Raw)
}
