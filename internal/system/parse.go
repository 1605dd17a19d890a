package system

/*
Reading fnrun.yaml.

The file is decoded into a yaml.Node tree and walked by hand, not unmarshalled
into structs: a node knows its line, so every mistake — an unknown key, a
value of the wrong type, a duplicate name — is reported as FILE:LINE, and
mappings keep their order (functions, env and depends_on are in file order).
Everything is checked before `up` does any work, and all mistakes of a file
are reported at once, sorted by line (at most maxErrors of them), so that one
edit fixes them all.

Values are read as YAML writes them: an env value 8081, true or 0.50 is the
text "8081", "true", "0.50"; null (an empty value) in a key that takes a list
or a mapping means "not given", in any other key it is a mistake. Aliases
are followed; merge keys (<<) are not supported.
*/

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/fnrun/fnrun/fetch"
	"github.com/fnrun/fnrun/internal/listen"
	"github.com/fnrun/fnrun/internal/proxy"
)

// FileError is a mistake in a system file, at a line of it.
type FileError struct {
	File string // the file as the user gave it
	Line int    // 1-based; 0 when the YAML parser did not say
	Msg  string
}

// Error is "FILE:LINE: message" ("FILE: message" when Line is 0).
func (e *FileError) Error() string {
	if e.Line <= 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// maxErrors is how many mistakes of one file are reported at once.
const maxErrors = 20

// Load reads and checks a system file: a Procfile when IsProcfile(path),
// else fnrun.yaml's format. A mistake in the file is a *FileError; several
// are joined (errors.Join: one per line, sorted by line; errors.As finds the
// first). Nothing is started, built or fetched; files the entries name
// (env_file, dir, local sources) are not opened, since a dependency may
// create them.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	l := &loader{file: path, depLines: map[*Entry][]int{}}
	var f *File
	if IsProcfile(path) {
		f = l.procfile(data)
	} else {
		f = l.yamlFile(data)
	}
	if f != nil {
		l.checkDeps(f)
	}
	if err := l.err(); err != nil {
		return nil, err
	}
	f.Path, f.Dir = path, dir
	return f, nil
}

// loader collects the mistakes of one file.
type loader struct {
	file     string
	errs     []*FileError
	depLines map[*Entry][]int // the line of each DependsOn item
}

func (l *loader) errf(line int, format string, args ...any) {
	l.errs = append(l.errs, &FileError{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// err returns the mistakes, sorted by line: nil, one *FileError, or several joined.
func (l *loader) err() error {
	sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
	if len(l.errs) > maxErrors {
		last := l.errs[maxErrors-1]
		l.errs = append(l.errs[:maxErrors], &FileError{File: l.file, Line: last.Line, Msg: "too many errors"})
	}
	switch len(l.errs) {
	case 0:
		return nil
	case 1:
		return l.errs[0]
	}
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

var yamlLineErr = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// yamlErr records an error of the YAML parser, at its line when it says one.
func (l *loader) yamlErr(err error) {
	msg := err.Error()
	if m := yamlLineErr().FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		l.errf(n, "%s", m[2])
		return
	}
	l.errf(0, "%s", strings.TrimPrefix(msg, "yaml: "))
}

// The keys of each mapping, in the order the help lists them.
var (
	topKeys     = []string{"functions", "env"}
	entryKeys   = []string{"source", "command", "args", "env", "env_file", "dir", "restart", "max_restarts", "backoff", "stop", "ready", "watch", "replicas", "depends_on", "on_failure", "restart_dependants", "tags", "ldflags", "race", "build_flags", "listen", "backlog", "proxy"}
	backoffKeys = []string{"initial", "max", "reset"}
	stopKeys    = []string{"signal", "timeout"}
	readyKeys   = []string{"url", "tcp", "log", "timeout"}
	// buildKeys only apply to a source.
	buildKeys = []string{"watch", "tags", "ldflags", "race", "build_flags"}
)

// yamlFile parses fnrun.yaml's format; its mistakes go to l.
func (l *loader) yamlFile(data []byte) *File {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			l.errf(1, "empty file (want a functions: mapping)")
		} else {
			l.yamlErr(err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		l.errf(next.Line, "a second YAML document (want one)")
	case !errors.Is(err, io.EOF):
		l.yamlErr(err)
	}
	if len(doc.Content) == 0 || isNull(resolve(doc.Content[0])) {
		l.errf(1, "empty file (want a functions: mapping)")
		return nil
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		l.errf(root.Line, "want a mapping with functions: at the top")
		return nil
	}
	f := &File{}
	found := false
	for _, p := range l.pairs(root, "", "key", topKeys) {
		switch p.key.Value {
		case "functions":
			found = true
			f.Functions = l.functions(p)
		case "env":
			f.Env = l.env(p, "env")
		}
	}
	if !found {
		l.errf(root.Line, "no functions (want a functions: mapping)")
	}
	return f
}

// pair is one key: value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs returns the pairs of mapping n in order, leaving out (and reporting)
// a key that is not a string, is not among valid (any key when valid is
// nil), or comes twice. ctx prefixes messages; noun names a key in them.
func (l *loader) pairs(n *yaml.Node, ctx, noun string, valid []string) []pair {
	pre := ""
	if ctx != "" {
		pre = ctx + ": "
	}
	first := map[string]int{}
	var out []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode || isNull(k):
			l.errf(n.Content[i].Line, "%swant a name as the key", pre)
			continue
		case k.Value == "<<" && k.Tag == "!!merge":
			l.errf(k.Line, "%smerge keys (<<) are not supported", pre)
			continue
		case valid != nil && !contains(valid, k.Value):
			l.errf(k.Line, "%sunknown key %q %s", pre, k.Value, suggest(k.Value, valid, "valid keys"))
			continue
		}
		if at, dup := first[k.Value]; dup {
			l.errf(k.Line, "%sduplicate %s %q (first at line %d)", pre, noun, k.Value, at)
			continue
		}
		first[k.Value] = k.Line
		out = append(out, pair{k, v})
	}
	return out
}

// functions reads the functions: mapping.
func (l *loader) functions(p pair) []*Entry {
	v := resolve(p.val)
	switch {
	case isNull(v):
		l.errf(p.key.Line, "no functions")
		return nil
	case v.Kind != yaml.MappingNode:
		l.errf(p.key.Line, "functions: want a mapping NAME: {source: ...}")
		return nil
	}
	pairs := l.pairs(v, "", "function name", nil)
	if len(pairs) == 0 && len(v.Content) == 0 {
		l.errf(p.key.Line, "no functions")
	}
	var out []*Entry
	for _, fp := range pairs {
		out = append(out, l.entry(fp))
	}
	return out
}

// entry reads one function.
func (l *loader) entry(p pair) *Entry {
	e := &Entry{Name: p.key.Value, Line: p.key.Line}
	l.checkName(e.Line, e.Name)
	v := resolve(p.val)
	if v.Kind != yaml.MappingNode {
		l.errf(e.Line, "%s: want a mapping of its keys (e.g. %s: {source: ./%s})", e.Name, e.Name, e.Name)
		return e
	}
	given := map[string]int{}
	local := true // until a source says otherwise
	for _, kp := range l.pairs(v, "", "key", entryKeys) {
		key := kp.key.Value
		given[key] = kp.key.Line
		switch key {
		case "source":
			if e.Source = l.nonEmpty(kp, key); e.Source != "" {
				if src, err := fetch.Parse(e.Source); err != nil {
					l.errf(kp.key.Line, "source: %v", err)
				} else {
					local = src.Kind == fetch.KindLocal
				}
			}
		case "command":
			e.Command = l.command(kp)
		case "args", "build_flags":
			list := l.list(kp, key)
			if key == "args" {
				e.Args = list
			} else {
				e.BuildFlags = list
			}
		case "env":
			e.Env = l.env(kp, key)
		case "env_file":
			e.EnvFile = l.nonEmpty(kp, key)
		case "dir":
			e.Dir = l.nonEmpty(kp, key)
		case "restart":
			e.Restart = l.oneOf(kp, key, "never", "on-failure", "always")
		case "max_restarts":
			e.MaxRestarts = l.wholeNumber(kp, key, 0)
		case "backoff":
			l.backoff(kp, &e.Backoff)
		case "stop":
			l.stop(kp, &e.Stop)
		case "ready":
			l.ready(kp, &e.Ready)
		case "watch":
			e.Watch = l.bool(kp, key)
		case "replicas":
			e.Replicas = l.wholeNumber(kp, key, 1)
		case "listen":
			e.Listen = l.list(kp, key)
			for _, a := range e.Listen {
				if _, err := listen.Parse(a); err != nil {
					l.errf(kp.key.Line, "listen: %v", err)
				}
			}
		case "backlog":
			e.Backlog = l.wholeNumber(kp, key, 1)
		case "proxy":
			e.Proxy = l.list(kp, key)
			for _, a := range e.Proxy {
				if _, _, err := proxy.ParseSpec(a); err != nil {
					l.errf(kp.key.Line, "proxy: %v", err)
				}
			}
		case "depends_on":
			e.DependsOn = l.dependsOn(kp, e)
		case "on_failure":
			if s, _ := scalar(kp.val); s != "stop-all" {
				l.errf(kp.key.Line, "on_failure: want stop-all (or leave it out)")
			} else {
				e.OnFailure = s
			}
		case "restart_dependants":
			e.RestartDependants = l.bool(kp, key)
		case "tags":
			e.Tags, _ = l.str(kp, key)
		case "ldflags":
			e.Ldflags, _ = l.str(kp, key)
		case "race":
			e.Race = l.bool(kp, key)
		}
	}
	_, hasSource := given["source"]
	_, hasCommand := given["command"]
	switch {
	case hasSource && hasCommand:
		l.errf(e.Line, "%s: give source or command, not both", e.Name)
	case !hasSource && !hasCommand:
		l.errf(e.Line, "%s: want a source (or a command)", e.Name)
	case hasCommand:
		for _, k := range buildKeys {
			if at, ok := given[k]; ok {
				l.errf(at, "%s: only for a source (a command is not built)", k)
			}
		}
	case e.Watch && !local:
		l.errf(given["watch"], "watch: only for a local source (./dir), not %s", e.Source)
	}
	return e
}

// dependsOn reads depends_on: a list of names (each "started") or a mapping
// NAME: condition. The names are checked against the file later.
func (l *loader) dependsOn(p pair, e *Entry) []Dependency {
	v := resolve(p.val)
	var out []Dependency
	add := func(name string, cond Condition, line int) {
		out = append(out, Dependency{Name: name, Condition: cond})
		l.depLines[e] = append(l.depLines[e], line)
	}
	switch {
	case isNull(v):
	case v.Kind == yaml.SequenceNode:
		first := map[string]int{}
		for _, item := range v.Content {
			name, ok := scalar(item)
			if !ok {
				l.errf(item.Line, "depends_on: want a list of function names")
				continue
			}
			if at, dup := first[name]; dup {
				l.errf(item.Line, "depends_on: %s listed twice (first at line %d)", name, at)
				continue
			}
			first[name] = item.Line
			add(name, CondStarted, item.Line)
		}
	case v.Kind == yaml.MappingNode:
		for _, dp := range l.pairs(v, "depends_on", "function", nil) {
			name := dp.key.Value
			cond := l.oneOf(dp, "depends_on."+name, string(CondStarted), string(CondReady), string(CondCompleted))
			if cond != "" {
				add(name, Condition(cond), dp.key.Line)
			}
		}
	default:
		l.errf(p.key.Line, "depends_on: want a list of names or a mapping NAME: started|ready|completed")
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
