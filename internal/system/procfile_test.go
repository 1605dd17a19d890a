package system

import (
	"os"
	"reflect"
	"testing"
)

func TestIsProcfile(t *testing.T) {
	for path, want := range map[string]bool{
		"Procfile": true, "Procfile.dev": true, "dir/Procfile": true, "/a/Procfile.x.y": true,
		"procfile": false, "Procfile2": false, "fnrun.yaml": false, "Procfile/fnrun.yaml": false, "my.Procfile": false,
	} {
		if got := IsProcfile(path); got != want {
			t.Errorf("IsProcfile(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestLoad_procfile(t *testing.T) {
	data, err := os.ReadFile("testdata/Procfile.example")
	if err != nil {
		t.Fatal(err)
	}
	f, err := load(t, "Procfile.dev", string(data)+"\r\n  # indented comment\nnocolon:echo hi\r\n")
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if !f.Procfile || f.Path != "Procfile.dev" || f.Dir != wd || f.Env != nil {
		t.Errorf("File = %+v", *f)
	}
	entry := func(name string, line int, env, cmd []string) *Entry {
		return &Entry{Name: name, Line: line, Env: env, Command: cmd, Restart: "never", OnFailure: "stop-all"}
	}
	want := []*Entry{
		entry("web", 2, nil, []string{"bundle", "exec", "rails", "server", "-p", "${PORT}"}),
		entry("worker", 3, []string{"RAILS_ENV=production"}, []string{"bin/worker", "--queue", "default high", "literal $$HOME"}),
		entry("clock", 4, nil, []string{"ruby", "clock.rb"}),
		entry("nocolon", 7, nil, []string{"echo", "hi"}),
	}
	if len(f.Functions) != len(want) {
		t.Fatalf("got %d functions, want %d", len(f.Functions), len(want))
	}
	for i, got := range f.Functions {
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("function %d:\ngot  %+v\nwant %+v", i, *got, *want[i])
		}
	}
	sel, err := f.Select(nil)
	if err != nil || len(sel) != 4 || sel[0].Name != "web" || sel[3].Name != "nocolon" {
		t.Errorf("Select(nil) = %v, %v; want the file order", sel, err)
	}
}

func TestLoad_procfileErrors(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"empty", "", "Procfile:1: empty file (want NAME: COMMAND lines)"},
		{"comments", "# a\n\n   \n", "Procfile:1: empty file (want NAME: COMMAND lines)"},
		{"no colon", "web: a\nworker\n", "Procfile:2: want NAME: COMMAND"},
		{"no name", ": a\n", "Procfile:1: want NAME: COMMAND"},
		{"bad name", "web.1: a\n", `Procfile:1: function name "web.1": want letters, digits, _ and - only (no dots: replicas are named NAME.1, NAME.2)`},
		{"duplicate", "web: a\n\nweb: b\n", `Procfile:3: duplicate function name "web" (first at line 1)`},
		{"no command", "web:\n", "Procfile:1: web: no command"},
		{"only assignments", "web: A=1\n", "Procfile:1: web: no command"},
		{"only exec", "web: exec\n", "Procfile:1: web: no command"},
		{"comment command", "web: # later\n", "Procfile:1: web: no command"},
		{"unterminated", "web: echo 'hi\n", "Procfile:1: web: unterminated ' quote"},
		{"NUL", "web: a\x00b\n", "Procfile:1: web: the command contains a NUL byte"},
		{"pipe", "web: a $PORT | tee 'log'\n", `Procfile:1: web: | needs a shell; to run one, write: web: sh -c 'a $PORT | tee '\''log'\'''`},
		{"and", "db: make db && ./db\n", `Procfile:1: db: & needs a shell; to run one, write: db: sh -c 'make db && ./db'`},
		{"substitution", "web: echo $(date)\n", `Procfile:1: web: $(...) needs a shell; to run one, write: web: sh -c 'echo $(date)'`},
		{"all at once", "a: x |\nb\nc: 'y\n", "Procfile:1: a: | needs a shell; to run one, write: a: sh -c 'x |'\nProcfile:2: want NAME: COMMAND\nProcfile:3: c: unterminated ' quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, "Procfile", tc.file)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

// The suggested sh -c line is itself a valid Procfile line that runs the
// original command.
func TestLoad_procfileShellSuggestion(t *testing.T) {
	f, err := load(t, "Procfile", `web: sh -c 'a $PORT | tee '\''log'\'''`+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sh", "-c", "a $$PORT | tee 'log'"}; !reflect.DeepEqual(f.Functions[0].Command, want) {
		t.Errorf("Command = %q, want %q", f.Functions[0].Command, want)
	}
	if got := ExpandWord(f.Functions[0].Command[2], []string{"PORT=1"}); got != "a $PORT | tee 'log'" {
		t.Errorf("expanded: %q", got)
	}
}
