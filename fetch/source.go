package fetch

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	getter "github.com/hashicorp/go-getter/v2"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

/*
Parsing rules, decided once so that a SOURCE never means two things:

  - local directory iff it is ".", "..", or starts with "./", "../" or "/".
    A bare name such as "fn" is never a directory: it would be ambiguous with
    a module path and depend on the current directory's contents.
  - getter URL iff it contains "::" (a forced getter; only "git::" is
    accepted) or "://". Schemes: https, http, file (archives), and with git::
    also ssh. Everything else (ftp, s3::, git::ext::, …) is refused.
  - otherwise a module or package path, optionally followed by @query; the
    path must pass module.CheckImportPath and its first element must contain
    a dot, like a module path the go command can download.
*/

// Kind says what a Source refers to.
type Kind int

// The kinds of Source.
const (
	KindLocal  Kind = iota + 1 // a directory on this machine, used in place
	KindModule                 // a Go module or package path, resolved by the go command
	KindGetter                 // an explicit go-getter URL (git repository or archive)
)

// String returns "local", "module" or "getter".
func (k Kind) String() string {
	switch k {
	case KindLocal:
		return "local"
	case KindModule:
		return "module"
	case KindGetter:
		return "getter"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Source is a parsed SOURCE argument.
type Source struct {
	Kind Kind
	Raw  string // the argument as given

	Dir string // KindLocal: absolute, cleaned directory

	Path  string // KindModule: module or package path
	Query string // KindModule: version query after "@"; "" means latest

	URL    string // KindGetter: URL with its forced getter and query, without //subdir
	Subdir string // KindGetter: subdirectory inside the fetched tree, "" for the root
}

// ParseError reports a malformed SOURCE (a usage error). A URL password in
// Source and Reason is replaced by "xxxxx".
type ParseError struct {
	Source string
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("malformed source %q: %s", e.Source, e.Reason)
}

// validRef matches branch, tag and commit names accepted in queries and
// ?ref=: conservative, and never an option to git or go.
var validRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._/+-]+$`) })

// Parse parses a SOURCE argument. Errors are *ParseError.
func Parse(s string) (Source, error) {
	bad := func(format string, args ...any) (Source, error) {
		return Source{}, &ParseError{Source: redactURLs(s), Reason: redactURLs(fmt.Sprintf(format, args...))}
	}
	switch {
	case s == "":
		return bad("empty")
	case strings.ContainsAny(s, "\x00\n\r"):
		return bad("contains a control character")
	case isLocal(s):
		abs, err := filepath.Abs(s)
		if err != nil {
			return bad("%v", err)
		}
		return Source{Kind: KindLocal, Raw: s, Dir: abs}, nil
	case strings.Contains(s, "::") || strings.Contains(s, "://"):
		return parseGetter(s)
	}

	path, query, hasAt := strings.Cut(s, "@")
	if err := module.CheckImportPath(path); err != nil {
		return bad("not a local path (start it with ./ or /), a module path, or a URL: %v", err)
	}
	if first, _, _ := strings.Cut(path, "/"); !strings.Contains(first, ".") {
		return bad("module path %q: first element must contain a dot (start a local directory with ./)", path)
	} else if err := module.CheckPath(first); err != nil {
		return bad("%v", err)
	}
	if hasAt {
		if err := checkRef(query); err != nil {
			return bad("version %v", err)
		}
		if query == "none" {
			return bad(`version "none" names no version`)
		}
		if query == "latest" {
			query = ""
		}
	}
	return Source{Kind: KindModule, Raw: s, Path: path, Query: query}, nil
}

func isLocal(s string) bool {
	return s == "." || s == ".." || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") ||
		strings.HasPrefix(s, "/") || (filepath.Separator != '/' && filepath.IsAbs(s))
}

// checkRef validates a version query or git ref.
func checkRef(ref string) error {
	switch {
	case ref == "":
		return fmt.Errorf("is empty")
	case strings.HasPrefix(ref, "-"):
		return fmt.Errorf("%q starts with '-'", ref)
	case semver.IsValid(ref):
		return nil
	case !validRef().MatchString(ref) || strings.Contains(ref, ".."):
		return fmt.Errorf("%q is not a version, branch, tag or commit", ref)
	}
	return nil
}

func parseGetter(s string) (Source, error) {
	bad := func(format string, args ...any) (Source, error) {
		return Source{}, &ParseError{Source: redactURLs(s), Reason: redactURLs(fmt.Sprintf(format, args...))}
	}
	forced, rest := "", s
	if i := strings.Index(s, "::"); i >= 0 && (!strings.Contains(s, "://") || i < strings.Index(s, "://")) {
		forced, rest = s[:i], s[i+2:]
		if forced != "git" {
			return bad("unsupported getter %q (only git:: is accepted)", forced)
		}
		if strings.Contains(rest, "::") {
			return bad("nested getter in %q", rest)
		}
	}
	base, subdir := getter.SourceDirSubdir(rest)
	u, err := url.Parse(base)
	if err != nil {
		return bad("%v", err)
	}
	switch u.Scheme {
	case "https", "http":
		if u.Host == "" {
			return bad("URL has no host")
		}
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return bad("file URL with a host")
		}
		if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
			return bad("file URL needs an absolute path")
		}
	case "ssh":
		if forced != "git" {
			return bad("ssh URLs need git::")
		}
		if u.Host == "" {
			return bad("URL has no host")
		}
	default:
		return bad("unsupported URL scheme %q (want https, http or file)", u.Scheme)
	}
	if u.Opaque != "" {
		return bad("malformed URL")
	}
	if forced == "" && strings.HasSuffix(u.Path, ".git") {
		return bad("a git repository needs the git:: prefix: git::%s", rest)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("query: %v", err)
	}
	if q.Has("ref") {
		if forced != "git" {
			return bad("?ref= needs git::")
		}
		if err := checkRef(q.Get("ref")); err != nil {
			return bad("ref %v", err)
		}
		if len(q["ref"]) > 1 {
			return bad("more than one ref")
		}
	}
	for _, k := range []string{"sshkey", "filename"} {
		if q.Has(k) {
			return bad("query parameter %q is not supported", k)
		}
	}
	if subdir != "" {
		if err := checkSubdir(subdir); err != nil {
			return bad("%v", err)
		}
	}
	url := base
	if forced != "" {
		url = forced + "::" + base
	}
	return Source{Kind: KindGetter, Raw: s, URL: url, Subdir: subdir}, nil
}

// checkSubdir refuses subdirectories that could leave the fetched tree by
// name alone; symlinks are checked after the fetch.
func checkSubdir(sub string) error {
	if strings.HasPrefix(sub, "/") || filepath.IsAbs(sub) || strings.Contains(sub, "\\") {
		return fmt.Errorf("subdirectory %q is absolute", sub)
	}
	for _, el := range strings.Split(sub, "/") {
		if el == ".." {
			return fmt.Errorf("subdirectory %q leaves the fetched tree", sub)
		}
	}
	if strings.ContainsAny(sub, "*?[") {
		return fmt.Errorf("subdirectory %q contains a pattern", sub)
	}
	return nil
}
