package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

/*
Help is rendered here, not by urfave's templates: they pad every flag to
the widest one (a repeatable flag renders as `--env KEY=VALUE, -e KEY=VALUE
[ --env KEY=VALUE, -e KEY=VALUE ]`), sort flags and categories
alphabetically, never wrap, and print `value` and `720h0m0s`.

The layout: short names first (`-r, --restart`), one placeholder noun per
flag (the backquoted word of its Usage, else one named after its type),
flags in the order the command declares them, categories in the order of
helpCategories (the common flags first), usage text wrapped to the terminal
(COLUMNS, else the terminal's width, else 80), defaults as a person writes
them. An FNRUN_ variable is named only where it is not FNRUN_ + the flag's
name; one closing line says how the rest are spelled.
*/

// Flag categories of this package (source.go has catBuild and catSource).
const (
	catCommon   = "Common"
	catEnv      = "Environment"
	catSockets  = "Sockets"
	catWatch    = "Watch"
	catLogFiles = "Log files"
	catGeneral  = "" // uncategorized: -q, -v, -h and each command's own
)

// helpCategories is the order of the flag groups in help; a category not
// listed comes after the listed ones, uncategorized flags last.
var helpCategories = []string{catCommon, catSupervise, catEnv, catSockets, catWatch, catReady, catOutput, catLogFiles, catBuild, catSource}

const (
	helpDefaultWidth = 80
	helpMinWidth     = 40
	helpMaxWidth     = 120 // longer lines are hard to read, whatever the terminal
	helpMaxNames     = 30  // a wider name column puts the usage on the next line
)

var installHelp sync.Once

// useFnrunHelp makes urfave print help with printHelp. urfave keeps its
// printer in a package variable; it is set once and printHelp holds no state.
func useFnrunHelp() {
	installHelp.Do(func() {
		cli.HelpPrinter = printHelp
		// urfave's flag stringer is never shown (printHelp writes the
		// flags), but urfave calls it at setup for every flag with a
		// category, of every command: 0.8 ms of each start. Names suffice
		// for what it does with them (keys of its category sets).
		cli.FlagStringer = func(f cli.Flag) string { return strings.Join(f.Names(), ", ") }
		// The version flag has no -v: commands use -v for --verbose.
		cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version", DisableDefaultText: true}
		cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintf(c.App.Writer, "fnrun %s\n", c.App.Version) }
	})
}

// printHelp is urfave's HelpPrinter: data is the *cli.App or the *cli.Command.
func printHelp(w io.Writer, _ string, data any) {
	h := &helpWriter{width: helpWidth(w)}
	switch d := data.(type) {
	case *cli.App:
		h.app(d)
	case *cli.Command:
		h.command(d)
	default:
		return
	}
	io.WriteString(w, h.b.String())
}

// helpWidth is COLUMNS, else the width of the terminal w writes to, else 80.
func helpWidth(w io.Writer) int {
	width := helpDefaultWidth
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		width = n
	} else if f := fileOf(w); f != nil && isTerminalFile(f) {
		if n := termWidth(f); n > 0 {
			width = n
		}
	}
	return min(max(width, helpMinWidth), helpMaxWidth)
}

// termWidth reads the terminal's width through SyscallConn (not Fd, which
// would put f into blocking mode); 0 when it cannot.
func termWidth(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	rc.Control(func(fd uintptr) { n, _, _ = term.GetSize(int(fd)) })
	return n
}

func fileOf(w io.Writer) *os.File {
	if g, ok := w.(*outGuard); ok {
		w = g.w
	}
	f, _ := w.(*os.File)
	return f
}

type helpWriter struct {
	b     strings.Builder
	width int
}

func (h *helpWriter) line(format string, args ...any) {
	fmt.Fprintf(&h.b, format, args...)
	h.b.WriteByte('\n')
}

func (h *helpWriter) app(a *cli.App) {
	h.line("%s - %s", a.Name, a.Usage)
	h.line("")
	h.line("Usage:")
	for _, u := range strings.Split(a.UsageText, "\n") {
		h.line("  %s", u)
	}
	h.description(a.Description)
	h.commands(a.VisibleCommands())
	h.flags(a.VisibleFlags(), "Flags")
	h.line("")
	h.wrapped("", "Run 'fnrun COMMAND --help' for a command's flags; every flag can also be set as FNRUN_<NAME> in the environment (--stop-timeout 30s is FNRUN_STOP_TIMEOUT=30s).")
}

func (h *helpWriter) command(c *cli.Command) {
	name := c.HelpName
	if name == "" {
		name = "fnrun " + c.Name
	}
	h.line("%s - %s", name, c.Usage)
	h.line("")
	h.line("Usage:")
	switch {
	case c.UsageText != "":
		for _, u := range strings.Split(c.UsageText, "\n") {
			h.line("  %s", u)
		}
	case len(subcommands(c)) > 0:
		h.line("  %s COMMAND [flags]", name)
	default:
		h.line("  %s", strings.TrimSpace(name+" [flags] "+c.ArgsUsage))
	}
	if len(c.Aliases) > 0 {
		h.line("")
		h.line("Aliases: %s", strings.Join(c.Aliases, ", "))
	}
	h.description(c.Description)
	h.commands(subcommands(c))
	h.flags(c.VisibleFlags(), "Flags")
	if hasEnvFlag(c.VisibleFlags()) {
		h.line("")
		h.wrapped("", "Every flag can also be set as FNRUN_<NAME> in the environment (--stop-timeout 30s is FNRUN_STOP_TIMEOUT=30s); flags win.")
	}
}

// subcommands are c's visible subcommands without urfave's `help`
// (`fnrun help CMD` and -h say the same).
func subcommands(c *cli.Command) []*cli.Command {
	return slices.DeleteFunc(c.VisibleCommands(), func(s *cli.Command) bool { return s.Name == "help" })
}

// description prints text by paragraphs: lines that start at the margin are
// joined and wrapped; indented lines (examples) are kept as written, with a
// long trailing `# comment` moved above its command.
func (h *helpWriter) description(text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	h.line("")
	// When one example's comment does not fit, every comment goes above its
	// command, so that the block reads alike.
	split := false
	for _, l := range strings.Split(text, "\n") {
		if l != "" && (l[0] == ' ' || l[0] == '\t') && strings.Contains(l, "  # ") &&
			utf8.RuneCountInString("  "+strings.TrimLeft(l, " \t")) > h.width {
			split = true
		}
	}
	var para []string
	flush := func() {
		if len(para) > 0 {
			h.wrapped("", strings.Join(para, " "))
			para = nil
		}
	}
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		switch {
		case strings.TrimSpace(l) == "":
			flush()
			h.line("")
		case l[0] == ' ' || l[0] == '\t':
			flush()
			l = "  " + strings.TrimLeft(l, " \t")
			if cmd, comment, ok := strings.Cut(l, "  # "); ok && split {
				h.line("  # %s", strings.TrimSpace(comment))
				l = strings.TrimRight(cmd, " ")
			}
			h.line("%s", l)
		default:
			para = append(para, strings.TrimSpace(l))
		}
	}
	flush()
}

func (h *helpWriter) commands(cmds []*cli.Command) {
	if len(cmds) == 0 {
		return
	}
	h.line("")
	h.line("Commands:")
	wide := 0
	for _, c := range cmds {
		wide = max(wide, len(c.Name))
	}
	for _, c := range cmds {
		h.row(c.Name, c.Usage, wide)
	}
}

// flags prints the visible flags by category.
func (h *helpWriter) flags(flags []cli.Flag, title string) {
	if len(flags) == 0 {
		return
	}
	groups := map[string][]cli.Flag{}
	var cats []string
	for _, f := range flags {
		cat := flagCategory(f)
		if _, ok := groups[cat]; !ok {
			cats = append(cats, cat)
		}
		groups[cat] = append(groups[cat], f)
	}
	slices.SortStableFunc(cats, func(a, b string) int { return categoryRank(a) - categoryRank(b) })
	wide := 0
	for _, f := range flags {
		if n := len(flagNames(f)); n <= helpMaxNames {
			wide = max(wide, n)
		}
	}
	for _, cat := range cats {
		h.line("")
		switch {
		case len(cats) == 1:
			h.line("%s:", title)
		case cat == catGeneral:
			h.line("General flags:")
		default:
			h.line("%s flags:", cat)
		}
		if cat == catCommon {
			slices.SortStableFunc(groups[cat], func(a, b cli.Flag) int { return commonRank(a) - commonRank(b) })
		}
		for _, f := range groups[cat] {
			h.row(flagNames(f), flagUsage(f), wide)
		}
	}
}

// row prints "  NAMES  usage", the usage wrapped in its column; names wider
// than the column get a line of their own.
func (h *helpWriter) row(names, usage string, wide int) {
	col := 2 + wide + 2
	if h.width-col < 24 { // too narrow for two columns
		h.line("  %s", names)
		h.wrapped("        ", usage)
		return
	}
	lines := wrap(usage, h.width-col)
	pad := strings.Repeat(" ", col)
	first := 0
	if n := len(names); n > wide {
		h.line("  %s", names)
	} else {
		h.line("  %s%s%s", names, strings.Repeat(" ", wide-n+2), lines[0])
		first = 1
	}
	for _, l := range lines[first:] {
		h.line("%s%s", pad, l)
	}
}

func (h *helpWriter) wrapped(indent, text string) {
	for _, l := range wrap(text, h.width-len(indent)) {
		h.line("%s%s", indent, l)
	}
}

// wrap breaks text into lines of at most width runes, at spaces (a word
// longer than width gets a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		wn := utf8.RuneCountInString(w)
		if n > 0 && n+1+wn > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(w)
		n += wn
	}
	return append(lines, cur.String())
}

// commonOrder is the order of the common flags, the most used first.
var commonOrder = []string{"restart", "watch", "env", "listen", "detach"}

func commonRank(f cli.Flag) int {
	if i := slices.Index(commonOrder, f.Names()[0]); i >= 0 {
		return i
	}
	return len(commonOrder)
}

func categoryRank(cat string) int {
	if i := slices.Index(helpCategories, cat); i >= 0 {
		return i
	}
	if cat == catGeneral {
		return len(helpCategories) + 1
	}
	return len(helpCategories)
}

func flagCategory(f cli.Flag) string {
	if cf, ok := f.(cli.CategorizableFlag); ok {
		return cf.GetCategory()
	}
	return catGeneral
}

// flagNames is "-r, --restart" or "    --policy POLICY": short names first,
// long names aligned under each other, then the value's placeholder.
func flagNames(f cli.Flag) string {
	var short, long []string
	for _, n := range f.Names() {
		if len(n) == 1 {
			short = append(short, "-"+n)
		} else {
			long = append(long, "--"+n)
		}
	}
	s := strings.Join(append(short, long...), ", ")
	if len(short) == 0 {
		s = "    " + s
	}
	if p := placeholder(f); p != "" {
		s += " " + p
	}
	return s
}

// placeholder is the noun for a flag's value: the backquoted word of its
// usage, else one named after its type; "" for a flag without a value.
func placeholder(f cli.Flag) string {
	df, ok := f.(cli.DocGenerationFlag)
	if !ok || !df.TakesValue() {
		return ""
	}
	if name, _ := unquoteUsage(df.GetUsage()); name != "" {
		return name
	}
	switch base(f).(type) {
	case *cli.DurationFlag:
		return "DURATION"
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag, *cli.IntSliceFlag, *cli.Int64SliceFlag:
		return "N"
	case *cli.Float64Flag, *cli.Float64SliceFlag:
		return "NUMBER"
	}
	return strings.ToUpper(strings.ReplaceAll(f.Names()[0], "-", "_"))
}

// flagUsage is the usage sentence, its default and, when it is not the
// usual one, its environment variable.
func flagUsage(f cli.Flag) string {
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return ""
	}
	_, usage := unquoteUsage(df.GetUsage())
	if d := flagDefault(f); d != "" && !strings.Contains(usage, "(default") {
		usage += " (default: " + d + ")"
	}
	for _, e := range df.GetEnvVars() {
		if e != "FNRUN_"+strings.ToUpper(strings.ReplaceAll(f.Names()[0], "-", "_")) {
			usage += " [$" + e + "]"
		}
	}
	return usage
}

// flagDefault is the default as a person would write it: 720h, not
// 720h0m0s; text, not "text"; nothing for false, 0 or empty.
func flagDefault(f cli.Flag) string {
	if df, ok := f.(interface{ GetDefaultText() string }); ok {
		switch f := base(f).(type) {
		case *cli.DurationFlag:
			if f.DefaultText != "" {
				return f.DefaultText
			}
			if f.Value != 0 {
				return fmtDuration(f.Value)
			}
			return ""
		case *cli.StringFlag:
			if f.DefaultText != "" {
				return f.DefaultText
			}
			return f.Value
		case *cli.IntFlag:
			if f.DefaultText != "" {
				return f.DefaultText
			}
			if f.Value != 0 {
				return strconv.Itoa(f.Value)
			}
			return ""
		case *cli.BoolFlag:
			if f.DisableDefaultText || !f.Value {
				return ""
			}
		case *cli.StringSliceFlag:
			if f.DefaultText != "" {
				return f.DefaultText
			}
			if f.Value != nil && len(f.Value.Value()) > 0 {
				return strings.Join(f.Value.Value(), ", ")
			}
			return ""
		case *cli.IntSliceFlag:
			if f.DefaultText != "" {
				return f.DefaultText
			}
			return ""
		}
		d := df.GetDefaultText()
		if d == "false" || d == "0" || d == `""` || d == "[]" {
			return ""
		}
		return strings.Trim(d, `"`)
	}
	return ""
}

// fmtDuration prints d the way people write it and time.ParseDuration
// reads it: 720h, 1h30m, 10s, 200ms.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func hasEnvFlag(flags []cli.Flag) bool {
	for _, f := range flags {
		if df, ok := f.(cli.DocGenerationFlag); ok && len(df.GetEnvVars()) > 0 {
			return true
		}
	}
	return false
}

// inCategory is a copy of the string flag f in category cat (f itself is
// shared with commands that show it uncategorized).
func inCategory(f cli.Flag, cat string) cli.Flag {
	sf, ok := base(f).(*cli.StringFlag)
	if !ok {
		return f
	}
	c := *sf
	c.Category = cat
	return &c
}

// helpCommand replaces urfave's: `fnrun help nope` is a usage error that
// names the command, not a message and exit 0.
func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      "help",
		Aliases:   []string{"h"},
		Usage:     "show the help of fnrun or of a command",
		ArgsUsage: "[COMMAND [SUBCOMMAND]]",
		HideHelp:  true,
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) == 0 {
				return cli.ShowAppHelp(c)
			}
			cmds, path := c.App.Commands, "fnrun"
			var cmd *cli.Command
			for _, a := range args {
				next := findCommand(cmds, a)
				if next == nil {
					hint := ""
					if s := closestCommand(cmds, a); s != "" {
						hint = "did you mean " + path + " " + s + "? "
					}
					return usageError("help: unknown command %q (%ssee %s --help)", strings.TrimSpace(strings.TrimPrefix(path, "fnrun")+" "+a), hint, path)
				}
				if next.HelpName == "" {
					next.HelpName = path + " " + next.Name
				}
				cmd, cmds, path = next, next.Subcommands, path+" "+next.Name
			}
			cli.HelpPrinter(c.App.Writer, "", cmd)
			return nil
		},
	}
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// closestCommand returns the visible command name nearest to name (edit
// distance ≤ 2, or name is a prefix of exactly one), or "".
func closestCommand(cmds []*cli.Command, name string) string {
	best, bestD := "", 3
	var prefixed []string
	for _, c := range cmds {
		if c.Hidden {
			continue
		}
		if name != "" && strings.HasPrefix(c.Name, name) {
			prefixed = append(prefixed, c.Name)
		}
		if d := editDistance(c.Name, name); d < bestD && d < len(c.Name) {
			best, bestD = c.Name, d
		}
	}
	if best == "" && len(prefixed) == 1 {
		return prefixed[0]
	}
	return best
}

// unquoteUsage splits urfave's usage convention: the first `word` in
// backquotes is the placeholder; the usage keeps the word, not the quotes.
func unquoteUsage(usage string) (name, text string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return name, before + name + after
}
