package cli

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// commandPaths are every command's words, from the app's own table.
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	var paths [][]string
	var walk func(prefix []string, cmds []*cli.Command)
	walk = func(prefix []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden || c.Name == "help" {
				continue
			}
			p := append(append([]string(nil), prefix...), c.Name)
			paths = append(paths, p)
			walk(p, c.Subcommands)
		}
	}
	walk(nil, newApp(&appEnv{}).Commands)
	return paths
}

func helpOf(t *testing.T, width int, words ...string) string {
	t.Helper()
	t.Setenv("COLUMNS", strconv.Itoa(width))
	var out, errOut bytes.Buffer
	args := append(append([]string{"fnrun"}, words...), "--help")
	if code := Main(args, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("fnrun %s --help: exit %d, stderr %q", strings.Join(words, " "), code, errOut.String())
	}
	return out.String()
}

// TestHelp_everyCommand: at any width, flag and wrapped lines fit, every
// value has a noun, no urfave slice repetition, durations as people write them.
func TestHelp_everyCommand(t *testing.T) {
	for _, width := range []int{40, 80, 120} {
		for _, p := range append(commandPaths(t), nil) {
			got := helpOf(t, width, p...)
			name := strings.Join(append([]string{"fnrun"}, p...), " ")
			if !strings.HasPrefix(got, name+" - ") {
				t.Errorf("%s --help starts %.40q, want %q", name, got, name+" - ")
			}
			for _, l := range strings.Split(got, "\n") {
				isFlag := strings.HasPrefix(l, "  -") || strings.HasPrefix(l, "      -") || strings.HasPrefix(l, "        ")
				oneWord := strings.HasPrefix(l, "        ") && len(strings.Fields(l)) == 1 // a word longer than the column
				if isFlag && !oneWord && len([]rune(l)) > width {
					t.Errorf("%s --help (COLUMNS=%d): line of %d runes: %q", name, width, len([]rune(l)), l)
				}
				for _, bad := range []string{" value ", "[ --", "0m0s", " VALUE"} {
					if strings.Contains(l+" ", bad) {
						t.Errorf("%s --help: %q in %q", name, bad, l)
					}
				}
			}
		}
	}
}

func TestHelp_order(t *testing.T) {
	got := helpOf(t, 80, "run")
	want := []string{"Common flags:", "-r, --restart", "-w, --watch", "-e, --env KEY=VALUE", "--listen [NAME=]ADDR",
		"Supervision flags:", "--policy POLICY", "Readiness and CI flags:", "Build flags:", "General flags:"}
	at := 0
	for _, w := range want {
		i := strings.Index(got[at:], w)
		if i < 0 {
			t.Fatalf("run --help: %q missing or out of order (want %q)\n%s", w, want, got)
		}
		at += i
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		720 * time.Hour: "720h", time.Hour + 30*time.Minute: "1h30m", 10 * time.Second: "10s",
		200 * time.Millisecond: "200ms", 2 * time.Minute: "2m", 90 * time.Second: "1m30s", 0: "0s",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(fmtDuration(d)); err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", fmtDuration(d), back, err, d)
		}
	}
}

func TestWrap(t *testing.T) {
	got := wrap("one two three four", 9)
	want := []string{"one two", "three", "four"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}

func TestSuggest_closestCommand(t *testing.T) {
	cmds := newApp(&appEnv{}).Commands
	for in, want := range map[string]string{"rn": "run", "bulid": "build", "exce": "exec", "comp": "completion", "frobnicate": "", "x": ""} {
		if got := closestCommand(cmds, in); got != want {
			t.Errorf("closestCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSuggest_looksLikeSource(t *testing.T) {
	for in, want := range map[string]bool{"./fn": true, "example.com/fn": true, "fn@v1": true, "/abs": true, "rn": false, "cache": false} {
		if got := looksLikeSource(in); got != want {
			t.Errorf("looksLikeSource(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestFlag_typedFlag(t *testing.T) {
	env := &appEnv{args: []string{"fnrun", "run", "-r", "--restrat=1", "x", "--", "-q"}}
	for in, want := range map[string]string{"r": "-r", "restrat": "--restrat", "q": "--q"} {
		if got := env.typedFlag(in); got != want {
			t.Errorf("typedFlag(%q) = %q, want %q", in, got, want)
		}
	}
}
