package cli

import (
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/runner"
)

/*
Shell completion. `fnrun completion bash|zsh|fish` writes a script built
from the app's own command and flag tables when it runs, so a new command
or flag completes without anyone editing a list. What each flag's value
completes to comes from the flag: an enumeration from flagValues (whose
values come from their owners: runner's policies and signal table), files
for a FILE placeholder, directories for DIR, nothing for other values and
no value at all for booleans. A command whose arguments start with SOURCE
completes local directories.

bash and zsh share the tables, written as POSIX case statements; fish gets
one `complete` line per command and flag.
*/

// completionShells are the shells `fnrun completion` writes scripts for.
var completionShells = []string{"bash", "zsh", "fish"}

func completionCommand(env *appEnv) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "SHELL",
		Description: `Prints a script that completes fnrun's commands, flags, flag values
(--policy, --stop-signal, --log-format), files and directories.

Examples:
   source <(fnrun completion bash)                   # in ~/.bashrc
   fnrun completion zsh > ~/.zfunc/_fnrun              # fpath=(~/.zfunc $fpath) in ~/.zshrc
   fnrun completion fish > ~/.config/fish/completions/fnrun.fish`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("completion: name one shell: %s", strings.Join(completionShells, ", "))
			}
			t := newCompletionTable(c.App)
			switch sh := c.Args().First(); sh {
			case "bash":
				t.writeBash(env.stdout)
			case "zsh":
				t.writeZsh(env.stdout)
			case "fish":
				t.writeFish(env.stdout)
			default:
				return usageError("completion: unknown shell %q (want %s)", sh, strings.Join(completionShells, ", "))
			}
			return nil
		},
	}
}

// flagValues are the values a flag takes, when they are a fixed set.
func flagValues(name string) []string {
	switch name {
	case "policy":
		return []string{string(runner.PolicyNever), string(runner.PolicyOnFailure), string(runner.PolicyAlways)}
	case "stop-signal":
		var names []string
		for sig := syscall.Signal(1); sig < 65; sig++ {
			if n := runner.SignalName(sig); strings.HasPrefix(n, "SIG") && runner.CanStop(sig) {
				names = append(names, strings.TrimPrefix(n, "SIG"))
			}
		}
		return names
	case "log-format":
		return []string{"text", "json"}
	}
	return nil
}

// compCommand is one command of the table: its path ("cache prune"), its
// subcommands, flags and whether it takes a SOURCE.
type compCommand struct {
	path   string
	usage  string
	subs   []string
	flags  []compFlag
	source bool
}

type compFlag struct {
	names  []string // -r, --restart
	usage  string
	kind   string // "" (no value), "any", "file", "dir", "words"
	values []string
}

type completionTable struct {
	cmds []compCommand // the app itself first, path ""
}

func newCompletionTable(app *cli.App) *completionTable {
	t := &completionTable{}
	var walk func(path, usage string, cmds []*cli.Command, flags []cli.Flag, args string)
	walk = func(path, usage string, cmds []*cli.Command, flags []cli.Flag, args string) {
		cc := compCommand{path: path, usage: usage, source: strings.HasPrefix(args, "SOURCE")}
		for _, c := range cmds {
			if !c.Hidden {
				cc.subs = append(cc.subs, c.Name)
			}
		}
		for _, f := range flags {
			if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
				continue
			}
			cc.flags = append(cc.flags, completionFlag(f))
		}
		cc.flags = append(cc.flags, compFlag{names: []string{"-h", "--help"}, usage: "show help"})
		t.cmds = append(t.cmds, cc)
		for _, c := range cmds {
			if !c.Hidden {
				walk(strings.TrimSpace(path+" "+c.Name), c.Usage, c.Subcommands, c.Flags, c.ArgsUsage)
			}
		}
	}
	walk("", app.Usage, app.Commands, app.Flags, "")
	return t
}

func completionFlag(f cli.Flag) compFlag {
	cf := compFlag{}
	for _, n := range f.Names() {
		if len(n) == 1 {
			cf.names = append(cf.names, "-"+n)
		} else {
			cf.names = append(cf.names, "--"+n)
		}
	}
	if df, ok := f.(cli.DocGenerationFlag); ok {
		_, cf.usage = unquoteUsage(df.GetUsage())
	}
	switch p := placeholder(f); {
	case p == "":
	case flagValues(f.Names()[0]) != nil:
		cf.kind, cf.values = "words", flagValues(f.Names()[0])
	case p == "FILE":
		cf.kind = "file"
	case p == "DIR":
		cf.kind = "dir"
	default:
		cf.kind = "any"
	}
	return cf
}

// writeTables writes the shell functions bash and zsh share:
// _fnrun_subs PATH, _fnrun_flags PATH, _fnrun_value PATH FLAG (prints the
// kind of value: none, any, file, dir or words:W1 W2...), _fnrun_source PATH.
func (t *completionTable) writeTables(w io.Writer) {
	fmt.Fprintln(w, "_fnrun_subs() {\n    case \"$1\" in")
	for _, c := range t.cmds {
		if len(c.subs) > 0 {
			fmt.Fprintf(w, "    %s) echo %s ;;\n", shWord(c.path), shWord(strings.Join(c.subs, " ")))
		}
	}
	fmt.Fprintln(w, "    esac\n}")
	fmt.Fprintln(w, "_fnrun_flags() {\n    case \"$1\" in")
	for _, c := range t.cmds {
		var names []string
		for _, f := range c.flags {
			names = append(names, f.names...)
		}
		fmt.Fprintf(w, "    %s) echo %s ;;\n", shWord(c.path), shWord(strings.Join(names, " ")))
	}
	fmt.Fprintln(w, "    esac\n}")
	fmt.Fprintln(w, "_fnrun_value() {\n    case \"$1|$2\" in")
	for _, c := range t.cmds {
		for _, f := range c.flags {
			kind := f.kind
			switch kind {
			case "":
				continue
			case "words":
				kind = "words:" + strings.Join(f.values, " ")
			}
			var pats []string
			for _, n := range f.names {
				pats = append(pats, shWord(c.path+"|"+n))
			}
			fmt.Fprintf(w, "    %s) echo %s ;;\n", strings.Join(pats, "|"), shWord(kind))
		}
	}
	fmt.Fprintln(w, "    *) echo none ;;\n    esac\n}")
	var src []string
	for _, c := range t.cmds {
		if c.source {
			src = append(src, shWord(c.path))
		}
	}
	fmt.Fprintln(w, "_fnrun_source() {\n    case \"$1\" in")
	if len(src) > 0 {
		fmt.Fprintf(w, "    %s) return 0 ;;\n", strings.Join(src, "|"))
	}
	fmt.Fprintln(w, "    esac\n    return 1\n}")
	// _fnrun_path WORD...: the command path the words name, ignoring flags
	// and their values.
	fmt.Fprint(w, `_fnrun_path() {
    local fp="" w subs skip=""
    for w in "$@"; do
        if [ -n "$skip" ]; then skip=""; continue; fi
        case "$w" in
        --) break ;;
        -*=*) continue ;;
        -*) [ "$(_fnrun_value "$fp" "$w")" != none ] && skip=1; continue ;;
        esac
        subs=" $(_fnrun_subs "$fp") "
        case "$subs" in
        *" $w "*) fp="${fp:+$fp }$w" ;;
        *) break ;;
        esac
    done
    echo "$fp"
}
`)
}

func (t *completionTable) writeBash(w io.Writer) {
	fmt.Fprintln(w, "# bash completion for fnrun; generated by `fnrun completion bash`.")
	fmt.Fprintln(w, "# Install: source <(fnrun completion bash)   (e.g. in ~/.bashrc)")
	t.writeTables(w)
	fmt.Fprint(w, `_fnrun() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" fp kind
    [ "$COMP_CWORD" -gt 1 ] && prev="${COMP_WORDS[COMP_CWORD-1]}"
    fp="$(_fnrun_path "${COMP_WORDS[@]:1:COMP_CWORD-1}")"
    COMPREPLY=()
    case "$prev" in
    -*=*) ;;
    -*)
        kind="$(_fnrun_value "$fp" "$prev")"
        case "$kind" in
        words:*) COMPREPLY=($(compgen -W "${kind#words:}" -- "$cur")); return ;;
        file) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
        dir) COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
        any) return ;;
        esac ;;
    esac
    case "$cur" in
    -*) COMPREPLY=($(compgen -W "$(_fnrun_flags "$fp")" -- "$cur")); return ;;
    esac
    local subs="$(_fnrun_subs "$fp")"
    if [ -n "$subs" ]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    elif _fnrun_source "$fp"; then
        COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null
    fi
}
complete -F _fnrun fnrun
`)
}

func (t *completionTable) writeZsh(w io.Writer) {
	fmt.Fprintln(w, "#compdef fnrun")
	fmt.Fprintln(w, "# zsh completion for fnrun; generated by `fnrun completion zsh`.")
	fmt.Fprintln(w, "# Install: fnrun completion zsh > ~/.zfunc/_fnrun, with fpath=(~/.zfunc $fpath) before compinit in ~/.zshrc")
	t.writeTables(w)
	fmt.Fprint(w, `_fnrun() {
    local cur="${words[CURRENT]}" prev="${words[CURRENT-1]}" fp kind subs
    fp="$(_fnrun_path "${(@)words[2,CURRENT-1]}")"
    if [[ "$prev" == -* && "$prev" != *=* && CURRENT -gt 2 ]]; then
        kind="$(_fnrun_value "$fp" "$prev")"
        case "$kind" in
        words:*) compadd -- ${=kind#words:}; return ;;
        file) _files; return ;;
        dir) _files -/; return ;;
        any) return ;;
        esac
    fi
    if [[ "$cur" == -* ]]; then
        compadd -- ${=$(_fnrun_flags "$fp")}
        return
    fi
    subs="$(_fnrun_subs "$fp")"
    if [[ -n "$subs" ]]; then
        compadd -- ${=subs}
    elif _fnrun_source "$fp"; then
        _files -/
    fi
}
if [ "$funcstack[1]" = "_fnrun" ]; then
    _fnrun "$@"
else
    compdef _fnrun fnrun
fi
`)
}

func (t *completionTable) writeFish(w io.Writer) {
	fmt.Fprintln(w, "# fish completion for fnrun; generated by `fnrun completion fish`.")
	fmt.Fprintln(w, "# Install: fnrun completion fish > ~/.config/fish/completions/fnrun.fish")
	fmt.Fprintln(w, "complete -c fnrun -f")
	for _, c := range t.cmds {
		words := strings.Fields(c.path)
		// The command path has been typed, and no subcommand of it yet.
		var cond string
		switch len(words) {
		case 0:
			cond = "__fish_use_subcommand"
		default:
			var parts []string
			for _, wd := range words {
				parts = append(parts, "__fish_seen_subcommand_from "+wd)
			}
			if len(c.subs) > 0 {
				parts = append(parts, "not __fish_seen_subcommand_from "+strings.Join(c.subs, " "))
			}
			cond = strings.Join(parts, "; and ")
		}
		for _, t2 := range t.cmds {
			if parentPath(t2.path) == c.path && t2.path != "" {
				name := t2.path[strings.LastIndex(t2.path, " ")+1:]
				fmt.Fprintf(w, "complete -c fnrun -n %s -a %s -d %s\n", fishWord(cond), fishWord(name), fishWord(t2.usage))
			}
		}
		flagCond := cond
		if len(words) == 0 {
			flagCond = "__fish_use_subcommand"
		} else if len(c.subs) == 0 {
			var parts []string
			for _, wd := range words {
				parts = append(parts, "__fish_seen_subcommand_from "+wd)
			}
			flagCond = strings.Join(parts, "; and ")
		}
		for _, f := range c.flags {
			line := "complete -c fnrun -n " + fishWord(flagCond)
			for _, n := range f.names {
				if strings.HasPrefix(n, "--") {
					line += " -l " + fishWord(n[2:])
				} else {
					line += " -s " + fishWord(n[1:])
				}
			}
			switch f.kind {
			case "words":
				line += " -x -a " + fishWord(strings.Join(f.values, " "))
			case "file":
				line += " -r -F"
			case "dir":
				line += " -x -a '(__fish_complete_directories)'"
			case "any":
				line += " -x"
			}
			fmt.Fprintf(w, "%s -d %s\n", line, fishWord(f.usage))
		}
		if c.source {
			fmt.Fprintf(w, "complete -c fnrun -n %s -a '(__fish_complete_directories)'\n", fishWord(flagCond))
		}
	}
}

func parentPath(path string) string {
	if i := strings.LastIndex(path, " "); i >= 0 {
		return path[:i]
	}
	if path == "" {
		return "-"
	}
	return ""
}

// shWord quotes s as one word for sh (bash and zsh), in single quotes.
func shWord(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishWord quotes s as one word for fish, in single quotes.
func fishWord(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}
