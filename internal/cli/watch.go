package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/watch"
)

// The dev loop itself is the engine's (internal/fn/devloop.go).

func watchFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{DisableDefaultText: true, Name: "watch", Aliases: []string{"w"}, EnvVars: envVar("WATCH"), Category: "Watch",
			Usage: "rebuild and restart when the source changes (local sources)"},
		&cli.DurationFlag{Name: "debounce", Value: watch.DefaultDebounce, EnvVars: envVar("DEBOUNCE"), Category: "Watch",
			Usage: "wait `D` after the last change before rebuilding"},
		&cli.StringSliceFlag{Name: "ignore", EnvVars: envVar("IGNORE"), Category: "Watch",
			Usage: "ignore changes to paths matching `GLOB` (repeatable; ** matches directories)"},
	}
}

// watchConfig reads and validates the watch flags; nil without --watch.
func watchConfig(c *cli.Context) (*fn.WatchConfig, error) {
	if c.Duration("debounce") < 0 {
		return nil, usageError("--debounce must not be negative")
	}
	for _, g := range c.StringSlice("ignore") {
		if err := watch.ValidateGlob(g); err != nil {
			return nil, usageError("--ignore %q: %v", g, err)
		}
	}
	if !c.Bool("watch") {
		return nil, nil
	}
	return &fn.WatchConfig{Debounce: c.Duration("debounce"), Ignore: c.StringSlice("ignore")}, nil
}
