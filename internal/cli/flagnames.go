package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli/v2 computes a flag's names with a regexp on every Names() call,
// and before each command's action it asks, for every flag, whether it was
// set, which scans every flag's names again: F² regexps per start, about
// 0.8 ms of each `fnrun run` (60 flags). The types below answer Names()
// from a list computed once; everything else is the urfave flag they embed.
// Code that switches on urfave's flag types looks at base(f).
type (
	boolNames struct {
		*cli.BoolFlag
		names []string
	}
	durationNames struct {
		*cli.DurationFlag
		names []string
	}
	intNames struct {
		*cli.IntFlag
		names []string
	}
	intSliceNames struct {
		*cli.IntSliceFlag
		names []string
	}
	stringNames struct {
		*cli.StringFlag
		names []string
	}
	stringSliceNames struct {
		*cli.StringSliceFlag
		names []string
	}
)

func (f boolNames) Names() []string        { return f.names }
func (f durationNames) Names() []string    { return f.names }
func (f intNames) Names() []string         { return f.names }
func (f intSliceNames) Names() []string    { return f.names }
func (f stringNames) Names() []string      { return f.names }
func (f stringSliceNames) Names() []string { return f.names }

func (f boolNames) base() cli.Flag        { return f.BoolFlag }
func (f durationNames) base() cli.Flag    { return f.DurationFlag }
func (f intNames) base() cli.Flag         { return f.IntFlag }
func (f intSliceNames) base() cli.Flag    { return f.IntSliceFlag }
func (f stringNames) base() cli.Flag      { return f.StringFlag }
func (f stringSliceNames) base() cli.Flag { return f.StringSliceFlag }

// base is the urfave flag that f wraps (f itself when it wraps none).
func base(f cli.Flag) cli.Flag {
	if w, ok := f.(interface{ base() cli.Flag }); ok {
		return w.base()
	}
	return f
}

// fixNames wraps every flag of cmds and their subcommands (once: a wrapped
// flag is kept as it is).
func fixNames(cmds []*cli.Command) {
	for _, cmd := range cmds {
		for i, f := range cmd.Flags {
			cmd.Flags[i] = withNames(f)
		}
		fixNames(cmd.Subcommands)
	}
}

// withNames wraps f. Its names are Name and Aliases as written: urfave's
// regexp only cuts a v1-style "name, alias" list, which fnrun does not use
// (TestFlagNamesPlain).
func withNames(f cli.Flag) cli.Flag {
	names := func(name string, aliases []string) []string {
		return append([]string{name}, aliases...)
	}
	switch f := f.(type) {
	case *cli.BoolFlag:
		return boolNames{f, names(f.Name, f.Aliases)}
	case *cli.DurationFlag:
		return durationNames{f, names(f.Name, f.Aliases)}
	case *cli.IntFlag:
		return intNames{f, names(f.Name, f.Aliases)}
	case *cli.IntSliceFlag:
		return intSliceNames{f, names(f.Name, f.Aliases)}
	case *cli.StringFlag:
		return stringNames{f, names(f.Name, f.Aliases)}
	case *cli.StringSliceFlag:
		return stringSliceNames{f, names(f.Name, f.Aliases)}
	}
	return f
}

// String is what urfave's flag stringer makes of the flag (useFnrunHelp):
// its names. urfave calls it at set-up for every categorized flag.
func (f boolNames) String() string        { return strings.Join(f.names, ", ") }
func (f durationNames) String() string    { return strings.Join(f.names, ", ") }
func (f intNames) String() string         { return strings.Join(f.names, ", ") }
func (f intSliceNames) String() string    { return strings.Join(f.names, ", ") }
func (f stringNames) String() string      { return strings.Join(f.names, ", ") }
func (f stringSliceNames) String() string { return strings.Join(f.names, ", ") }
