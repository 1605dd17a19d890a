package system

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownFunction is wrapped by Select's error for a name the file does
// not have.
var ErrUnknownFunction = errors.New("no function named")

// Select returns the named entries and, transitively, what they depend on
// (every entry when names is empty), in start order: each after its
// dependencies, otherwise in file order. Stopping is the reverse. A name
// the file does not have is an error wrapping ErrUnknownFunction that lists
// the known ones.
func (f *File) Select(names []string) ([]*Entry, error) {
	byName := map[string]*Entry{}
	var known []string
	for _, e := range f.Functions {
		if byName[e.Name] == nil {
			byName[e.Name] = e
			known = append(known, e.Name)
		}
	}
	want := map[*Entry]bool{}
	var add func(e *Entry) error
	add = func(e *Entry) error {
		if want[e] {
			return nil
		}
		want[e] = true
		for _, d := range e.DependsOn {
			t := byName[d.Name]
			if t == nil {
				return fmt.Errorf("%w %q (a dependency of %s) in %s", ErrUnknownFunction, d.Name, e.Name, f.Path)
			}
			if err := add(t); err != nil {
				return err
			}
		}
		return nil
	}
	if len(names) == 0 {
		names = known
	}
	for _, n := range names {
		e := byName[n]
		if e == nil {
			return nil, fmt.Errorf("%w %q in %s %s", ErrUnknownFunction, n, f.Path, suggest(n, known, "known"))
		}
		if err := add(e); err != nil {
			return nil, err
		}
	}

	// Kahn's algorithm, always taking the first startable entry in file
	// order: the start order closest to the file's.
	order := make([]*Entry, 0, len(want))
	placed := map[string]bool{}
	for len(order) < len(want) {
		next := (*Entry)(nil)
		for _, e := range f.Functions {
			if want[e] && !placed[e.Name] && byName[e.Name] == e && depsPlaced(e, placed) {
				next = e
				break
			}
		}
		if next == nil {
			var stuck []*Entry
			for _, e := range f.Functions {
				if want[e] && !placed[e.Name] {
					stuck = append(stuck, e)
				}
			}
			if c := cycles(stuck); len(c) > 0 {
				return nil, fmt.Errorf("%s: dependency cycle: %s", f.Path, cycleString(c[0]))
			}
			for _, e := range stuck {
				for _, d := range e.DependsOn {
					if d.Name == e.Name {
						return nil, fmt.Errorf("%s: %s depends on itself", f.Path, e.Name)
					}
				}
			}
			return nil, fmt.Errorf("%s: no start order for %s", f.Path, stuck[0].Name) // not reached
		}
		placed[next.Name] = true
		order = append(order, next)
	}
	return order, nil
}

func depsPlaced(e *Entry, placed map[string]bool) bool {
	for _, d := range e.DependsOn {
		if !placed[d.Name] {
			return false
		}
	}
	return true
}

// cycles returns the dependency cycles among entries (self-dependencies and
// unknown names left out), each starting at its entry that comes first in
// the file, in the order found.
func cycles(entries []*Entry) [][]*Entry {
	byName := map[string]*Entry{}
	index := map[*Entry]int{}
	for i, e := range entries {
		if byName[e.Name] == nil {
			byName[e.Name] = e
			index[e] = i
		}
	}
	const (
		unseen = iota
		onStack
		done
	)
	state := map[*Entry]int{}
	var stack []*Entry
	seen := map[string]bool{}
	var out [][]*Entry
	var visit func(e *Entry)
	visit = func(e *Entry) {
		state[e] = onStack
		stack = append(stack, e)
		for _, d := range e.DependsOn {
			t := byName[d.Name]
			if t == nil || t == e {
				continue
			}
			switch state[t] {
			case unseen:
				visit(t)
			case onStack:
				i := len(stack) - 1
				for stack[i] != t {
					i--
				}
				c := append([]*Entry(nil), stack[i:]...)
				first := 0
				for j := range c {
					if index[c[j]] < index[c[first]] {
						first = j
					}
				}
				c = append(append([]*Entry(nil), c[first:]...), c[:first]...)
				if key := cycleString(c); !seen[key] {
					seen[key] = true
					out = append(out, c)
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[e] = done
	}
	for _, e := range entries {
		if byName[e.Name] == e && state[e] == unseen {
			visit(e)
		}
	}
	return out
}

// cycleString writes a cycle as "api -> store -> api".
func cycleString(c []*Entry) string {
	names := make([]string, 0, len(c)+1)
	for _, e := range c {
		names = append(names, e.Name)
	}
	return strings.Join(append(names, c[0].Name), " -> ")
}
