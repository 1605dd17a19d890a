package system

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// load writes content to name in a fresh current directory and loads it by
// that relative name, so that messages start with name.
func load(t *testing.T, name, content string) (*File, error) {
	t.Helper()
	t.Chdir(t.TempDir())
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(name)
}

func TestLoad_full(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := load(t, "fnrun.yaml", string(data))
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if f.Path != "fnrun.yaml" || f.Dir != wd || f.Procfile {
		t.Errorf("Path, Dir, Procfile = %q, %q, %v; want fnrun.yaml, %q, false", f.Path, f.Dir, f.Procfile, wd)
	}
	if want := []string{"LOG_LEVEL=debug", "WORKERS=4"}; !reflect.DeepEqual(f.Env, want) {
		t.Errorf("Env = %q, want %q", f.Env, want)
	}
	want := []*Entry{
		{
			Name: "store", Line: 6, Source: "./store", Args: []string{"-port", "8081"},
			Env:     []string{"STORE_DIR=./data", "DEBUG=true", "RATIO=0.50"},
			EnvFile: ".env.store", Dir: "./work", Restart: "always", MaxRestarts: 5,
			Backoff: Backoff{Initial: 0, InitialSet: true, Max: 10 * time.Second, Reset: time.Minute},
			Stop:    Stop{Signal: "TERM", Timeout: 10 * time.Second},
			Ready:   Ready{URL: "http://127.0.0.1:8081/health", Timeout: 30 * time.Second},
			Watch:   true, Replicas: 2, Tags: "netgo,osusergo", Ldflags: "-s -w", Race: true,
			BuildFlags: []string{"-trimpath"},
		},
		{
			Name: "api", Line: 23, Source: "github.com/org/api/cmd/api@v1.4.0",
			DependsOn: []Dependency{{"store", CondReady}},
			Ready:     Ready{TCP: "127.0.0.1:8080", Log: "listening on .*"},
			OnFailure: "stop-all", RestartDependants: true,
		},
		{Name: "migrate", Line: 29, Source: "./migrate", Restart: "never"},
		{Name: "web", Line: 32, Source: "./web", DependsOn: []Dependency{{"api", CondReady}, {"migrate", CondCompleted}}},
		{Name: "tool", Line: 35, Command: []string{"sleep", "10"}, DependsOn: []Dependency{{"store", CondStarted}, {"api", CondStarted}}},
	}
	if len(f.Functions) != len(want) {
		t.Fatalf("got %d functions, want %d", len(f.Functions), len(want))
	}
	for i, got := range f.Functions {
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("function %d:\ngot  %+v\nwant %+v", i, *got, *want[i])
		}
	}
}

func TestLoad_dirIsAbsolute(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("sub", "fnrun.yaml")
	t.Chdir(dir)
	if err := os.WriteFile(file, []byte("functions: {a: {source: .}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "sub"); f.Dir != want || f.Path != file {
		t.Errorf("Dir, Path = %q, %q; want %q, %q", f.Dir, f.Path, want, file)
	}
}

func TestLoad_values(t *testing.T) {
	f, err := load(t, "fnrun.yaml", `
env: {A: 1, B: "two", C: 0x1F, D: yes, E: 1e3, F: "", G: 'x: y'}
functions:
  a: &a
    source: ./a
    args: [1, true, "-x"]
    env:
      Z: last
      Y: first
  b:
    command: [echo, $HOME, "${X}"]
    depends_on: [a]
    backoff: {initial: 1s}
  c: *a
`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=1", "B=two", "C=0x1F", "D=yes", "E=1e3", "F=", "G=x: y"}; !reflect.DeepEqual(f.Env, want) {
		t.Errorf("Env = %q, want %q", f.Env, want)
	}
	a, b, c := f.Functions[0], f.Functions[1], f.Functions[2]
	if want := []string{"1", "true", "-x"}; !reflect.DeepEqual(a.Args, want) {
		t.Errorf("a.Args = %q, want %q", a.Args, want)
	}
	if want := []string{"Z=last", "Y=first"}; !reflect.DeepEqual(a.Env, want) {
		t.Errorf("a.Env = %q, want %q", a.Env, want)
	}
	if want := []string{"echo", "$HOME", "${X}"}; !reflect.DeepEqual(b.Command, want) {
		t.Errorf("b.Command = %q, want %q (kept as written)", b.Command, want)
	}
	if !b.Backoff.InitialSet || b.Backoff.Initial != time.Second {
		t.Errorf("b.Backoff = %+v, want Initial 1s, InitialSet", b.Backoff)
	}
	if c.Name != "c" || c.Source != "./a" || c.Line != 14 {
		t.Errorf("c (an alias of a) = %+v", *c)
	}
}

func TestLoad_nullMeansNotGiven(t *testing.T) {
	f, err := load(t, "fnrun.yaml", `
env:
functions:
  a:
    source: ./a
    args:
    env:
    depends_on:
    backoff:
    stop:
    ready:
    build_flags:
`)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&Entry{Name: "a", Line: 4, Source: "./a"}); !reflect.DeepEqual(f.Functions[0], want) {
		t.Errorf("got %+v, want %+v", *f.Functions[0], *want)
	}
}

func TestLoad_errors(t *testing.T) {
	const head = "functions:\n  a:\n    source: ./a\n" // a is line 2
	for _, tc := range []struct {
		name, file, want string
	}{
		{"empty", "", "fnrun.yaml:1: empty file (want a functions: mapping)"},
		{"comments only", "# nothing\n\n", "fnrun.yaml:1: empty file (want a functions: mapping)"},
		{"null document", "---\n", "fnrun.yaml:1: empty file (want a functions: mapping)"},
		{"not a mapping", "- a\n- b\n", "fnrun.yaml:1: want a mapping with functions: at the top"},
		{"no functions key", "env: {A: b}\n", "fnrun.yaml:1: no functions (want a functions: mapping)"},
		{"functions null", "functions:\n", "fnrun.yaml:1: no functions"},
		{"functions empty", "functions: {}\n", "fnrun.yaml:1: no functions"},
		{"functions list", "functions: [a, b]\n", "fnrun.yaml:1: functions: want a mapping NAME: {source: ...}"},
		{"syntax", "functions:\n  a: [\n", "fnrun.yaml:2: did not find expected node content"},
		{"tab", "functions:\n\ta: {}\n", "fnrun.yaml:2: found character that cannot start any token"},
		{"two documents", head + "---\nfunctions: {}\n", "fnrun.yaml:4: a second YAML document (want one)"},
		{"unknown top key suggested", "functoins:\n  a: {source: .}\n", `fnrun.yaml:1: unknown key "functoins" (did you mean functions?)` + "\nfnrun.yaml:1: no functions (want a functions: mapping)"},
		{"unknown top key alias", "services:\n  a: {source: .}\n" + head, `fnrun.yaml:1: unknown key "services" (did you mean functions?)`},
		{"unknown top key listed", head + "version: 3\n", `fnrun.yaml:4: unknown key "version" (valid keys: functions, env)`},
		{"unknown key suggested", head + "    restrat: always\n", `fnrun.yaml:4: unknown key "restrat" (did you mean restart?)`},
		{"unknown key alias", head + "    working_dir: /tmp\n", `fnrun.yaml:4: unknown key "working_dir" (did you mean dir?)`},
		{"unknown key listed", head + "    image: x\n", `fnrun.yaml:4: unknown key "image" (valid keys: source, command, args, env, env_file, dir, restart, max_restarts, backoff, stop, ready, watch, replicas, depends_on, on_failure, restart_dependants, tags, ldflags, race, build_flags, listen, backlog, proxy)`},
		{"unknown nested key", head + "    backoff: {inital: 1s}\n", `fnrun.yaml:4: backoff: unknown key "inital" (did you mean initial?)`},
		{"unknown ready key", head + "    ready: {http: x}\n", `fnrun.yaml:4: ready: unknown key "http" (valid keys: url, tcp, log, timeout)`},
		{"merge key", head + "  b:\n    <<: {source: .}\n", "fnrun.yaml:4: b: want a source (or a command)\nfnrun.yaml:5: merge keys (<<) are not supported"},
		{"duplicate function", head + "  a:\n    source: ./b\n", `fnrun.yaml:4: duplicate function name "a" (first at line 2)`},
		{"duplicate key", head + "    source: ./b\n", `fnrun.yaml:4: duplicate key "source" (first at line 3)`},
		{"duplicate env", head + "    env: {A: 1, A: 2}\n", `fnrun.yaml:4: env: duplicate variable "A" (first at line 4)`},
		{"bad name", "functions:\n  a.b: {source: .}\n", `fnrun.yaml:2: function name "a.b": want letters, digits, _ and - only (no dots: replicas are named NAME.1, NAME.2)`},
		{"bad name space", "functions:\n  a b: {source: .}\n", `fnrun.yaml:2: function name "a b": want letters, digits, _ and - only`},
		{"entry not a mapping", "functions:\n  a: ./a\n", "fnrun.yaml:2: a: want a mapping of its keys (e.g. a: {source: ./a})"},
		{"neither", "functions:\n  a: {restart: always}\n", "fnrun.yaml:2: a: want a source (or a command)"},
		{"both", "functions:\n  a: {source: ., command: [x]}\n", "fnrun.yaml:2: a: give source or command, not both"},
		{"empty source", head + "  b: {source: ''}\n", "fnrun.yaml:4: source: must not be empty"},
		{"source malformed", "functions:\n  a: {source: store}\n", `fnrun.yaml:2: source: malformed source "store": module path "store": first element must contain a dot (start a local directory with ./)`},
		{"watch remote", "functions:\n  a:\n    source: example.com/m@v1.0.0\n    watch: true\n", "fnrun.yaml:4: watch: only for a local source (./dir), not example.com/m@v1.0.0"},
		{"source list", "functions:\n  a: {source: [x]}\n", "fnrun.yaml:2: source: want a string"},
		{"command string", "functions:\n  a: {command: sleep 10}\n", `fnrun.yaml:2: command: want a list [prog, args...], e.g. command: ["sleep", "10"]`},
		{"command string quoted", "functions:\n  a: {command: \"echo 'a b' $HOME\"}\n", `fnrun.yaml:2: command: want a list [prog, args...], e.g. command: ["echo", "a b", "${HOME}"]`},
		{"command string shell", "functions:\n  a: {command: \"a | b\"}\n", `fnrun.yaml:2: command: want a list [prog, args...], e.g. command: ["sh", "-c", "a | b"]`},
		{"command empty", "functions:\n  a: {command: []}\n", "fnrun.yaml:2: command: want a list [prog, args...]"},
		{"command null", "functions:\n  a: {command: }\n", "fnrun.yaml:2: command: want a list [prog, args...]"},
		{"command empty program", "functions:\n  a: {command: ['', x]}\n", "fnrun.yaml:2: command: empty program name"},
		{"command mapping item", "functions:\n  a:\n    command:\n      - x\n      - {y: z}\n", "fnrun.yaml:5: command: want a list of strings"},
		{"watch on command", "functions:\n  a:\n    command: [x]\n    watch: true\n    tags: x\n", "fnrun.yaml:4: watch: only for a source (a command is not built)\nfnrun.yaml:5: tags: only for a source (a command is not built)"},
		{"args string", head + "    args: -port 8081\n", `fnrun.yaml:4: args: want a list, e.g. args: ["-port", "8081"]`},
		{"args mapping", head + "    args: {a: b}\n", "fnrun.yaml:4: args: want a list of strings"},
		{"build_flags string", head + "    build_flags: -trimpath\n", `fnrun.yaml:4: build_flags: want a list, e.g. build_flags: ["-trimpath"]`},
		{"env list", head + "    env: [A=b]\n", "fnrun.yaml:4: env: want a mapping KEY: VALUE"},
		{"top env list", head + "env: [A=b]\n", "fnrun.yaml:4: env: want a mapping KEY: VALUE"},
		{"env list value", head + "    env:\n      A: [1, 2]\n", "fnrun.yaml:5: env.A: want a string, number or bool"},
		{"env null value", head + "    env:\n      A:\n", `fnrun.yaml:5: env.A: want a value (write A: "" for an empty one)`},
		{"env bad key", head + "    env: {'A B': x}\n", `fnrun.yaml:4: env: invalid variable name "A B"`},
		{"env key with =", head + "    env: {'A=B': x}\n", `fnrun.yaml:4: env: invalid variable name "A=B"`},
		{"env NUL", head + "    env: {A: \"x\\0y\"}\n", "fnrun.yaml:4: env: contains a NUL byte"},
		{"env_file empty", head + "    env_file: ''\n", "fnrun.yaml:4: env_file: must not be empty"},
		{"dir null", head + "    dir:\n", "fnrun.yaml:4: dir: want a string"},
		{"restart", head + "    restart: sometimes\n", "fnrun.yaml:4: restart: want one of never, on-failure, always"},
		{"restart bool", head + "    restart: true\n", "fnrun.yaml:4: restart: want one of never, on-failure, always"},
		{"restart no", head + "    restart: no\n", "fnrun.yaml:4: restart: want one of never, on-failure, always"},
		{"max_restarts negative", head + "    max_restarts: -1\n", "fnrun.yaml:4: max_restarts: want a whole number ≥ 0"},
		{"max_restarts string", head + "    max_restarts: many\n", "fnrun.yaml:4: max_restarts: want a whole number ≥ 0"},
		{"replicas zero", head + "    replicas: 0\n", "fnrun.yaml:4: replicas: want a whole number ≥ 1"},
		{"replicas float", head + "    replicas: 1.5\n", "fnrun.yaml:4: replicas: want a whole number ≥ 1"},
		{"replicas quoted", head + "    replicas: \"2\"\n", "fnrun.yaml:4: replicas: want a whole number ≥ 1"},
		{"replicas huge", head + "    replicas: 99999999999999999999999\n", "fnrun.yaml:4: replicas: want a whole number ≥ 1"},
		{"watch string", head + "    watch: yes\n", "fnrun.yaml:4: watch: want true or false"},
		{"race number", head + "    race: 1\n", "fnrun.yaml:4: race: want true or false"},
		{"restart_dependants", head + "    restart_dependants: [x]\n", "fnrun.yaml:4: restart_dependants: want true or false"},
		{"backoff string", head + "    backoff: 1s\n", "fnrun.yaml:4: backoff: want a mapping {initial, max, reset}"},
		{"backoff initial", head + "    backoff: {initial: soon}\n", "fnrun.yaml:4: backoff.initial: not a duration (e.g. 500ms, 10s)"},
		{"backoff initial no unit", head + "    backoff: {initial: 10}\n", "fnrun.yaml:4: backoff.initial: not a duration (e.g. 500ms, 10s)"},
		{"backoff negative", head + "    backoff: {reset: -1s}\n", "fnrun.yaml:4: backoff.reset: must not be negative"},
		{"backoff max zero", head + "    backoff: {max: 0s}\n", "fnrun.yaml:4: backoff.max: must be positive"},
		{"backoff max < initial", head + "    backoff:\n      initial: 2s\n      max: 1s\n", "fnrun.yaml:6: backoff.max (1s) is shorter than backoff.initial (2s)"},
		{"stop signal", head + "    stop: {signal: FOO}\n", `fnrun.yaml:4: stop.signal: unknown signal "FOO" (want TERM, INT, HUP, QUIT, KILL, USR1, USR2 or a number)`},
		{"stop signal cannot stop", head + "    stop: {signal: CONT}\n", "fnrun.yaml:4: stop.signal: SIGCONT cannot stop a program (want TERM, INT, HUP, QUIT, KILL, USR1, USR2 or a number)"},
		{"stop timeout zero", head + "    stop: {timeout: 0}\n", "fnrun.yaml:4: stop.timeout: must be positive (for an immediate kill use signal: KILL)"},
		{"stop timeout", head + "    stop: {timeout: ten}\n", "fnrun.yaml:4: stop.timeout: not a duration (e.g. 500ms, 10s)"},
		{"ready url", head + "    ready: {url: 'localhost:8080/health'}\n", "fnrun.yaml:4: ready.url: want an http:// or https:// URL"},
		{"ready url no host", head + "    ready: {url: 'http:///x'}\n", "fnrun.yaml:4: ready.url: want an http:// or https:// URL"},
		{"ready tcp", head + "    ready: {tcp: 8080}\n", "fnrun.yaml:4: ready.tcp: want HOST:PORT"},
		{"ready tcp port", head + "    ready: {tcp: 'localhost:99999'}\n", `fnrun.yaml:4: ready.tcp: bad port "99999" (want 1-65535)`},
		{"ready log", head + "    ready: {log: 'a('}\n", "fnrun.yaml:4: ready.log: error parsing regexp: missing closing ): `a(`"},
		{"ready timeout", head + "    ready: {log: x, timeout: -1s}\n", "fnrun.yaml:4: ready.timeout: must not be negative"},
		{"ready timeout alone", head + "    ready: {timeout: 5s}\n", "fnrun.yaml:4: ready.timeout: no check to wait for (add url, tcp or log)"},
		{"on_failure", head + "    on_failure: restart\n", "fnrun.yaml:4: on_failure: want stop-all (or leave it out)"},
		{"on_failure null", head + "    on_failure:\n", "fnrun.yaml:4: on_failure: want stop-all (or leave it out)"},
		{"depends_on string", head + "    depends_on: b\n", "fnrun.yaml:4: depends_on: want a list of names or a mapping NAME: started|ready|completed"},
		{"depends_on condition", head + "  b:\n    source: .\n    depends_on: {a: healthy}\n", "fnrun.yaml:6: depends_on.a: want one of started, ready, completed"},
		{"depends_on unknown", head + "  b:\n    source: .\n    depends_on: [c]\n", `fnrun.yaml:6: depends_on: no function named "c" (known: a, b)`},
		{"depends_on unknown close", head + "  api:\n    source: .\n    depends_on:\n      - a\n      - ap\n", `fnrun.yaml:8: depends_on: no function named "ap" (did you mean api?)`},
		{"depends_on self", head + "    depends_on: {a: started}\n", "fnrun.yaml:4: depends_on: a depends on itself"},
		{"depends_on twice", head + "  b:\n    source: .\n    depends_on: [a, a]\n", "fnrun.yaml:6: depends_on: a listed twice (first at line 6)"},
		{"cycle", "functions:\n  web: {source: ., depends_on: [api]}\n  api: {source: ., depends_on: {store: ready}}\n  store: {source: ., depends_on: [api]}\n",
			"fnrun.yaml:3: dependency cycle: api -> store -> api"},
		{"cycle of three, first in file", "functions:\n  c: {source: ., depends_on: [a]}\n  a: {source: ., depends_on: [b]}\n  b: {source: ., depends_on: [c]}\n",
			"fnrun.yaml:2: dependency cycle: c -> a -> b -> c"},
		{"unsupported alias target", head + "    args: *nothing\n", "fnrun.yaml: unknown anchor 'nothing' referenced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, "fnrun.yaml", tc.file)
			if err == nil {
				t.Fatalf("Load succeeded, want %s", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != "fnrun.yaml" {
				t.Errorf("errors.As(*FileError) = %v, %+v", fe != nil, fe)
			}
		})
	}
}

func TestLoad_allErrorsSortedByLine(t *testing.T) {
	_, err := load(t, "fnrun.yaml", `functions:
  b:
    source: .
    depends_on: [zz]
  a:
    restart: maybe
    replicas: 0
    source: .
    source: ..
`)
	want := strings.Join([]string{
		`fnrun.yaml:4: depends_on: no function named "zz" (known: b, a)`,
		"fnrun.yaml:6: restart: want one of never, on-failure, always",
		"fnrun.yaml:7: replicas: want a whole number ≥ 1",
		`fnrun.yaml:9: duplicate key "source" (first at line 8)`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

func TestLoad_tooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("functions:\n")
	for i := 0; i < 30; i++ {
		b.WriteString("  a" + strings.Repeat("x", i) + ": {restart: x, source: .}\n")
	}
	_, err := load(t, "fnrun.yaml", b.String())
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || lines[maxErrors] != "fnrun.yaml:21: too many errors" {
		t.Errorf("got %d lines, last %q; want %d, fnrun.yaml:21: too many errors", len(lines), lines[len(lines)-1], maxErrors+1)
	}
}

func TestLoad_missingFile(t *testing.T) {
	t.Chdir(t.TempDir())
	_, err := Load("fnrun.yaml")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want os.ErrNotExist", err)
	}
}

func TestFileError_Error(t *testing.T) {
	if got, want := (&FileError{File: "f.yaml", Line: 3, Msg: "m"}).Error(), "f.yaml:3: m"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := (&FileError{File: "f.yaml", Msg: "m"}).Error(), "f.yaml: m"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzLoad: Load never panics, and an accepted file's entries each have
// a source or a command and a valid name, with dependencies that exist.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data, IsProcfile(s))
		}
	}
	f.Add([]byte("functions: {a: {source: ., depends_on: [b]}, b: {command: [x]}}"), false)
	f.Add([]byte("functions:\n  a: &x {source: .}\n  b: *x\n"), false)
	f.Add([]byte("web: a 'b c' \"$PORT\" \\$x\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, procfile bool) {
		name := "fnrun.yaml"
		if procfile {
			name = "Procfile"
		}
		file := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sys, err := Load(file)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error is no *FileError: %v", err)
			}
			return
		}
		if len(sys.Functions) == 0 {
			t.Fatal("accepted with no functions")
		}
		for _, e := range sys.Functions {
			if (e.Source == "") == (len(e.Command) == 0) {
				t.Errorf("%s: Source %q, Command %q: want exactly one", e.Name, e.Source, e.Command)
			}
			if !nameRE().MatchString(e.Name) {
				t.Errorf("accepted name %q", e.Name)
			}
		}
		if _, err := sys.Select(nil); err != nil {
			t.Errorf("Select(nil) of an accepted file: %v", err)
		}
	})
}
