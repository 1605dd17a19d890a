package watch

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// gitignoreFile is the name of the per-directory ignore file honoured
// inside the roots.
const gitignoreFile = ".gitignore"

// isEditorTemp reports whether a base name is an editor's temporary or
// backup file: vim backups and swap files, vim's "4913" write probe and
// JetBrains' safe-write files. (Hidden names are rejected separately.)
func isEditorTemp(name string) bool {
	return strings.HasSuffix(name, "~") ||
		strings.HasSuffix(name, ".swp") ||
		strings.HasSuffix(name, ".swx") ||
		strings.HasSuffix(name, ".swo") ||
		strings.HasSuffix(name, "___jb_tmp___") ||
		strings.HasSuffix(name, "___jb_old___") ||
		name == "4913"
}

// gitRule is one pattern line of a .gitignore file.
type gitRule struct {
	glob     string // MatchGlob pattern, without leading or trailing "/"
	negate   bool   // "!pattern": re-include
	dirOnly  bool   // "pattern/": directories only
	anchored bool   // contains a "/" other than a trailing one: match the path relative to the .gitignore's directory, not the base name
}

// parseGitignore parses the content of a .gitignore file. It supports
// comments, "!" negation, trailing "/" for directories, leading or inner
// "/" anchoring, "*", "?", "[...]" and "**"; lines whose pattern is not a
// valid glob are skipped, as git does.
func parseGitignore(data []byte) []gitRule {
	var rules []gitRule
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var r gitRule
		if strings.HasPrefix(line, "!") {
			r.negate = true
			line = line[1:]
		} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly = true
			line = strings.TrimRight(line, "/")
		}
		if strings.Contains(line, "/") {
			r.anchored = true
			line = strings.TrimLeft(line, "/")
		}
		if line == "" || ValidateGlob(line) != nil {
			continue
		}
		r.glob = line
		rules = append(rules, r)
	}
	return rules
}

// match reports whether r matches rel, the slash path relative to the
// directory holding the .gitignore. isDir is nil when the type is unknown
// (the path is gone); directory-only rules then match too, so that removing
// an ignored build directory is not reported as a change.
func (r gitRule) match(rel string, isDir *bool) bool {
	if r.dirOnly && isDir != nil && !*isDir {
		return false
	}
	if r.anchored {
		return MatchGlob(r.glob, rel)
	}
	return MatchGlob(r.glob, rel[strings.LastIndex(rel, "/")+1:])
}

// loadGitignore (re)reads dir/.gitignore into w.gitignore. A missing or
// unreadable file means no rules.
func (w *Watcher) loadGitignore(dir string) {
	data, err := os.ReadFile(filepath.Join(dir, gitignoreFile))
	if err != nil {
		delete(w.gitignore, dir)
		return
	}
	if rules := parseGitignore(data); len(rules) > 0 {
		w.gitignore[dir] = rules
	} else {
		delete(w.gitignore, dir)
	}
}

// ignored reports whether abs, a path under root, is excluded from
// watching. isDir is nil when the type is unknown. Every component of the
// path is checked, so a file inside an ignored directory is ignored too.
func (w *Watcher) ignored(root, abs string, isDir *bool) bool {
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == "." {
		return false
	}
	rel = filepath.ToSlash(rel)
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return true
	}
	yes := true
	parts := strings.Split(rel, "/")
	for i, name := range parts {
		last := i == len(parts)-1
		dir := &yes
		if last {
			dir = isDir
		}
		if w.ignoredName(name, dir) {
			return true
		}
		prefix := strings.Join(parts[:i+1], "/")
		for _, g := range w.opts.Ignore {
			// A pattern with a "/" names a path from the root; without one
			// it names a file or directory anywhere ("gen/**" must not
			// match a base name "gen" deeper down).
			if MatchGlob(g, prefix) || !strings.Contains(g, "/") && MatchGlob(g, name) {
				return true
			}
		}
		if w.gitignored(root, parts[:i+1], dir) {
			return true
		}
	}
	return false
}

// ignoredName applies the fixed name rules to one path component.
func (w *Watcher) ignoredName(name string, isDir *bool) bool {
	if strings.HasPrefix(name, ".") || isEditorTemp(name) {
		return true
	}
	maybeDir := isDir == nil || *isDir
	return maybeDir && (name == "vendor" && !w.opts.KeepVendor ||
		name == "testdata" && !w.opts.KeepTestdata)
}

// gitignored evaluates the .gitignore files from root down to the parent
// of the path given by parts (relative to root). Deeper files override
// shallower ones and later lines override earlier ones, as in git.
func (w *Watcher) gitignored(root string, parts []string, isDir *bool) bool {
	if len(w.gitignore) == 0 {
		return false
	}
	ignored := false
	dir := root
	for i := range parts {
		if i > 0 {
			dir = filepath.Join(dir, parts[i-1])
		}
		rules := w.gitignore[dir]
		if len(rules) == 0 {
			continue
		}
		rel := strings.Join(parts[i:], "/")
		for _, r := range rules {
			if r.match(rel, isDir) {
				ignored = !r.negate
			}
		}
	}
	return ignored
}
