package system

/*
Procfiles.

A Procfile is `name: command line` per line, as foreman, overmind and
goreman read it. The command is split into words here (shellwords.go), not
run by a shell; leading NAME=value words become the entry's environment, as
a shell would apply them, and a leading `exec` is dropped (it only tells a
shell to replace itself, which there is none to do).

Semantics, chosen to be what a foreman or overmind user expects: foreman
restarts nothing, and when any process exits it stops all the others and
exits (overmind does the same unless told -r or -c). So every Procfile entry
has Restart "never" and OnFailure "stop-all": a crash, or a kill by a signal,
stops the whole system and `up` exits with that code. One difference: foreman
also stops everything when a process exits 0; here an entry that finishes
with success just ends and the others keep running (`up` exits 0 when all
have ended with success), which the Entry fields cannot express otherwise.

PORT is the runtime's: it assigns PORT = base + 100·i per entry, as foreman
does; a PORT=... word on the line is the entry's own and overrides it.
*/

import (
	"path/filepath"
	"strings"

	"github.com/fnrun/fnrun/internal/fn"
)

// IsProcfile reports whether path names a Procfile: its base name is
// Procfile or starts with "Procfile." (Procfile.dev).
func IsProcfile(path string) bool {
	base := filepath.Base(path)
	return base == "Procfile" || strings.HasPrefix(base, "Procfile.")
}

// procfile parses a Procfile; its mistakes go to l.
func (l *loader) procfile(data []byte) *File {
	f := &File{Procfile: true}
	first := map[string]int{}
	blank := true
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		blank = false
		name, cmd, ok := strings.Cut(line, ":")
		name, cmd = strings.TrimSpace(name), strings.TrimSpace(cmd)
		if !ok || name == "" {
			l.errf(n, "want NAME: COMMAND")
			continue
		}
		if !l.checkName(n, name) {
			continue
		}
		if at, dup := first[name]; dup {
			l.errf(n, "duplicate function name %q (first at line %d)", name, at)
			continue
		}
		first[name] = n
		e := &Entry{Name: name, Line: n, Restart: "never", OnFailure: "stop-all"}
		f.Functions = append(f.Functions, e)
		if strings.IndexByte(cmd, 0) >= 0 {
			l.errf(n, "%s: the command contains a NUL byte", name)
			continue
		}
		words, assigns, err := splitWords(cmd)
		if err != nil {
			if _, ok := err.(*needsShellError); ok {
				l.errf(n, "%s: %v; to run one, write: %s: sh -c %s", name, err, name, shellQuote(cmd))
			} else {
				l.errf(n, "%s: %v", name, err)
			}
			continue
		}
		for _, kv := range words[:assigns] {
			if err := fn.CheckKV(kv); err != nil { // cannot fail for NAME=…; kept as the one check of env entries
				l.errf(n, "%s: %q: %v", name, kv, err)
			}
		}
		if assigns > 0 {
			e.Env = words[:assigns:assigns]
		}
		e.Command = words[assigns:]
		if len(e.Command) > 0 && e.Command[0] == "exec" {
			e.Command = e.Command[1:]
		}
		if len(e.Command) == 0 || e.Command[0] == "" {
			l.errf(n, "%s: no command", name)
		}
	}
	switch {
	case blank:
		l.errf(1, "empty file (want NAME: COMMAND lines)")
	case len(f.Functions) == 0 && len(l.errs) == 0:
		l.errf(1, "no functions (want NAME: COMMAND lines)")
	}
	return f
}
