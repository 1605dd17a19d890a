package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"TERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT, "hup": syscall.SIGHUP, "9": syscall.SIGKILL, "USR1": syscall.SIGUSR1,
	} {
		got, err := parseSignal(in)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	// Unknown, out of range, and signals that cannot stop a program.
	for _, in := range []string{"", "BOGUS", "0", "65", "-1", "09", "1e1", "STOP", "19", "SIGCONT", "tstp", "17", "WINCH"} {
		if _, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) succeeded, want an error", in)
		}
	}
}

// FuzzParseSignal: never panics; accepted signals are in range.
func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"TERM", "9", "SIGKILL", "", "-3", "999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := parseSignal(s)
		if err == nil && (sig <= 0 || sig > 64) {
			t.Errorf("parseSignal(%q) = %d", s, sig)
		}
	})
}

// TestFlagNamesPlain: every flag's names are its Name and Aliases as
// written (withNames relies on it), and each command's names are unique.
func TestFlagNamesPlain(t *testing.T) {
	app := newApp(&appEnv{})
	var check func(prefix string, cmds []*cli.Command)
	check = func(prefix string, cmds []*cli.Command) {
		for _, cmd := range cmds {
			seen := map[string]bool{}
			for _, f := range cmd.Flags {
				for _, n := range f.Names() {
					if n == "" || strings.ContainsAny(n, ", \t") {
						t.Errorf("%s%s: flag name %q: want no comma or space", prefix, cmd.Name, n)
					}
					if seen[n] {
						t.Errorf("%s%s: flag name %q used twice", prefix, cmd.Name, n)
					}
					seen[n] = true
				}
				if _, ok := f.(interface{ base() cli.Flag }); !ok {
					t.Errorf("%s%s: flag %v (%T) is not wrapped by withNames", prefix, cmd.Name, f.Names(), f)
				}
			}
			check(prefix+cmd.Name+" ", cmd.Subcommands)
		}
	}
	check("", app.Commands)
}
