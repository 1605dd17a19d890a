package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/fn"
	"github.com/fnrun/fnrun/internal/watch"
)

// The dev loop itself is the engine's (internal/fn/devloop.go).

func watchFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{DisableDefaultText: true, Name: "watch", Aliases: []string{"w"}, EnvVars: envVar("WATCH"), Category: catCommon,
			Usage: "rebuild and restart when the source changes (local directories only)"},
		&cli.DurationFlag{Name: "debounce", Value: watch.DefaultDebounce, EnvVars: envVar("DEBOUNCE"), Category: catWatch,
			Usage: "wait until `DURATION` has passed since the last change before rebuilding"},
		&cli.StringSliceFlag{Name: "ignore", EnvVars: envVar("IGNORE"), Category: catWatch,
			Usage: "ignore changes to paths matching `GLOB`, where ** matches any number of directories (repeatable)"},
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
