package system

import (
	"errors"
	"strings"
	"testing"
)

func names(entries []*Entry) string {
	var s []string
	for _, e := range entries {
		s = append(s, e.Name)
	}
	return strings.Join(s, " ")
}

func TestFile_Select(t *testing.T) {
	f, err := load(t, "fnrun.yaml", `functions:
  web:
    source: ./web
    depends_on: {api: ready, migrate: completed}
  lone:
    source: ./lone
  api:
    source: ./api
    depends_on: [store]
  migrate:
    source: ./migrate
    depends_on: [store]
  store:
    source: ./store
  tool:
    command: [x]
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{nil, "lone store api migrate web tool"},
		{[]string{}, "lone store api migrate web tool"},
		{[]string{"web"}, "store api migrate web"},
		{[]string{"api"}, "store api"},
		{[]string{"tool", "api", "api"}, "store api tool"},
		{[]string{"store"}, "store"},
		{[]string{"migrate", "lone"}, "lone store migrate"},
	} {
		got, err := f.Select(tc.names)
		if err != nil || names(got) != tc.want {
			t.Errorf("Select(%q) = %s, %v; want %s", tc.names, names(got), err, tc.want)
		}
	}
}

func TestFile_Select_unknown(t *testing.T) {
	f := &File{Path: "fnrun.yaml", Functions: []*Entry{{Name: "api"}, {Name: "store"}}}
	_, err := f.Select([]string{"api", "stor"})
	if !errors.Is(err, ErrUnknownFunction) || err.Error() != `no function named "stor" in fnrun.yaml (did you mean store?)` {
		t.Errorf("err = %v", err)
	}
	_, err = f.Select([]string{"api.1"})
	if !errors.Is(err, ErrUnknownFunction) || err.Error() != `no function named "api.1" in fnrun.yaml (did you mean api?)` {
		t.Errorf("err = %v", err)
	}
	_, err = f.Select([]string{"web"})
	if !errors.Is(err, ErrUnknownFunction) || err.Error() != `no function named "web" in fnrun.yaml (known: api, store)` {
		t.Errorf("err = %v", err)
	}
}

// A File built by hand is not checked by Load: Select still refuses what
// it cannot order.
func TestFile_Select_unchecked(t *testing.T) {
	dep := func(n string) []Dependency { return []Dependency{{Name: n, Condition: CondStarted}} }
	for _, tc := range []struct {
		entries []*Entry
		want    string
	}{
		{[]*Entry{{Name: "a", DependsOn: dep("b")}, {Name: "b", DependsOn: dep("a")}}, "fnrun.yaml: dependency cycle: a -> b -> a"},
		{[]*Entry{{Name: "a", DependsOn: dep("a")}}, "fnrun.yaml: a depends on itself"},
		{[]*Entry{{Name: "a", DependsOn: dep("x")}}, `no function named "x" (a dependency of a) in fnrun.yaml`},
	} {
		f := &File{Path: "fnrun.yaml", Functions: tc.entries}
		if _, err := f.Select(nil); err == nil || err.Error() != tc.want {
			t.Errorf("Select(%s) error = %v, want %s", names(tc.entries), err, tc.want)
		}
	}
}

func TestCycles(t *testing.T) {
	dep := func(ns ...string) []Dependency {
		var d []Dependency
		for _, n := range ns {
			d = append(d, Dependency{Name: n, Condition: CondStarted})
		}
		return d
	}
	entries := []*Entry{
		{Name: "a", DependsOn: dep("b", "c")},
		{Name: "b", DependsOn: dep("a")},
		{Name: "c", DependsOn: dep("d")},
		{Name: "d", DependsOn: dep("c", "d", "zz")},
		{Name: "e", DependsOn: dep("a")},
	}
	var got []string
	for _, c := range cycles(entries) {
		got = append(got, cycleString(c))
	}
	if want := "a -> b -> a; c -> d -> c"; strings.Join(got, "; ") != want {
		t.Errorf("cycles = %q, want %s", got, want)
	}
}
