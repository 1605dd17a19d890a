package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func completionScript(t *testing.T, shell string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Main([]string{"fnrun", "completion", shell}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("fnrun completion %s: exit %d, %s", shell, code, errOut.String())
	}
	return out.String()
}

// TestCompletion_fromTables: every command and every visible flag of the
// app is in every script: nothing is listed by hand.
func TestCompletion_fromTables(t *testing.T) {
	app := newApp(&appEnv{})
	for _, shell := range completionShells {
		script := completionScript(t, shell)
		var walk func(cmds []*cli.Command)
		walk = func(cmds []*cli.Command) {
			for _, c := range cmds {
				if c.Hidden {
					continue
				}
				if !strings.Contains(script, "'"+c.Name) && !strings.Contains(script, " "+c.Name) {
					t.Errorf("%s: no command %s", shell, c.Name)
				}
				for _, f := range c.Flags {
					if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
						continue
					}
					if n := f.Names()[0]; !strings.Contains(script, n) {
						t.Errorf("%s: no flag --%s of %s", shell, n, c.Name)
					}
				}
				walk(c.Subcommands)
			}
		}
		walk(app.Commands)
	}
}

func TestCompletion_flagValues(t *testing.T) {
	sigs := strings.Join(flagValues("stop-signal"), " ")
	for _, want := range []string{"TERM", "INT", "KILL", "USR1"} {
		if !strings.Contains(" "+sigs+" ", " "+want+" ") {
			t.Errorf("stop-signal values %q lack %s", sigs, want)
		}
	}
	if strings.Contains(sigs, "STOP") || strings.Contains(sigs, "CONT") {
		t.Errorf("stop-signal values %q offer a signal that cannot stop a program", sigs)
	}
	for _, v := range flagValues("stop-signal") {
		if _, err := parseSignal(v); err != nil {
			t.Errorf("offered stop signal %s is refused: %v", v, err)
		}
	}
}

// TestCompletion_bash runs the bash script's completion function.
func TestCompletion_bash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "fnrun.bash")
	if err := os.WriteFile(script, []byte(completionScript(t, "bash")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "srcdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{
		"fnrun ru":                   "run",
		"fnrun run --stop-s":         "--stop-signal",
		"fnrun exec --policy on":     "on-failure",
		"fnrun run -e A=1 sr":        "srcdir",
		"fnrun cache prune --ke":     "--keep",
		"fnrun completion":           "",
		"fnrun run --log-format j":   "json",
		"fnrun run --stop-signal US": "USR1 USR2",
	} {
		words := strings.Fields(line)
		if strings.HasSuffix(line, "completion") {
			continue
		}
		cmd := exec.Command(bash, "-c", `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _fnrun; echo "${COMPREPLY[*]}"`, "bash", script)
		cmd.Args = append(cmd.Args, words...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("complete %q = %q, want %q", line, got, want)
		}
	}
}
