package system

// Readers of one value of fnrun.yaml each: they report a value of the wrong
// type at the line of its key, and return the zero value then.

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 10; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// scalar returns the text of a scalar node and whether n is one (not null).
func scalar(n *yaml.Node) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return "", false
	}
	return n.Value, true
}

// str reads a value that is text (numbers and bools as written).
func (l *loader) str(p pair, name string) (string, bool) {
	s, ok := scalar(p.val)
	if !ok {
		l.errf(p.key.Line, "%s: want a string", name)
	}
	return s, ok
}

// nonEmpty reads a string that must not be empty.
func (l *loader) nonEmpty(p pair, name string) string {
	s, ok := l.str(p, name)
	if ok && s == "" {
		l.errf(p.key.Line, "%s: must not be empty", name)
	}
	return s
}

// oneOf reads a string that must be one of want.
func (l *loader) oneOf(p pair, name string, want ...string) string {
	s, ok := scalar(p.val)
	if !ok || !contains(want, s) {
		l.errf(p.key.Line, "%s: want one of %s", name, strings.Join(want, ", "))
		return ""
	}
	return s
}

// wholeNumber reads an integer ≥ min.
func (l *loader) wholeNumber(p pair, name string, min int) int {
	v := resolve(p.val)
	var n int
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&n) != nil || n < min {
		l.errf(p.key.Line, "%s: want a whole number ≥ %d", name, min)
		return 0
	}
	return n
}

// bool reads true or false.
func (l *loader) bool(p pair, name string) bool {
	v := resolve(p.val)
	var b bool
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
		l.errf(p.key.Line, "%s: want true or false", name)
		return false
	}
	return b
}

// list reads a list of strings. A plain string is refused with the list it
// would be, split as a shell would.
func (l *loader) list(p pair, name string) []string {
	v := resolve(p.val)
	switch {
	case isNull(v):
		return nil
	case v.Kind == yaml.ScalarNode:
		l.errf(p.key.Line, "%s: want a list, e.g. %s: %s", name, name, asList(v.Value))
		return nil
	case v.Kind != yaml.SequenceNode:
		l.errf(p.key.Line, "%s: want a list of strings", name)
		return nil
	}
	out := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		s, ok := scalar(item)
		if !ok {
			l.errf(item.Line, "%s: want a list of strings", name)
			continue
		}
		out = append(out, s)
	}
	return out
}

// command reads command: [prog, args...].
func (l *loader) command(p pair) []string {
	v := resolve(p.val)
	switch {
	case v.Kind == yaml.ScalarNode && !isNull(v):
		l.errf(p.key.Line, "command: want a list [prog, args...], e.g. command: %s", asList(v.Value))
		return nil
	case isNull(v) || v.Kind == yaml.SequenceNode && len(v.Content) == 0:
		l.errf(p.key.Line, "command: want a list [prog, args...]")
		return nil
	}
	c := l.list(p, "command")
	if len(c) > 0 && c[0] == "" {
		l.errf(p.key.Line, "command: empty program name")
	}
	return c
}

// asList writes s, a command line, as the YAML list of its words; a line
// that needs a shell becomes [sh, -c, line].
func asList(s string) string {
	words, err := SplitWords(s)
	if err != nil || len(words) == 0 {
		words = []string{"sh", "-c", s}
	} else {
		for i, w := range words {
			words[i] = strings.ReplaceAll(w, "$$", "$")
		}
	}
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// env reads a mapping KEY: VALUE into KEY=VALUE, in order.
func (l *loader) env(p pair, name string) []string {
	v := resolve(p.val)
	switch {
	case isNull(v):
		return nil
	case v.Kind != yaml.MappingNode:
		l.errf(p.key.Line, "%s: want a mapping KEY: VALUE", name)
		return nil
	}
	var out []string
	for _, kv := range l.pairs(v, name, "variable", nil) {
		k := kv.key.Value
		val := resolve(kv.val)
		switch {
		case isNull(val):
			l.errf(kv.key.Line, "%s.%s: want a value (write %s: \"\" for an empty one)", name, k, k)
			continue
		case val.Kind != yaml.ScalarNode:
			l.errf(kv.key.Line, "%s.%s: want a string, number or bool", name, k)
			continue
		}
		if err := checkVar(k, val.Value); err != nil {
			l.errf(kv.key.Line, "%s: %v", name, err)
			continue
		}
		out = append(out, k+"="+val.Value)
	}
	return out
}
