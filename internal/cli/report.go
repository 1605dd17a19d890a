package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/cache"
	"github.com/fnrun/fnrun/internal/fn"
)

// Report is the --report document (its schema is in README.md).
type Report = fn.Report

// reportState collects what --report needs while a command runs: how the
// user named what runs, and the function's result once there is one.
type reportState struct {
	source string     // SOURCE (redacted) or the program as typed
	res    *fn.Result // nil when nothing ran
}

// checkReportPath fails early (usage, exit 2) when --report names a file in a
// directory that does not exist.
func checkReportPath(c *cli.Context) error {
	path := c.String("report")
	if path == "" || path == "-" {
		return nil
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return usageError("--report %s: no such directory %s", path, filepath.Dir(path))
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usageError("--report %s: is a directory (name a file in it)", path)
	}
	return nil
}

// finishReport writes the --report file for a command that ended with
// result (nil, codeOnly or an error) and returns the command's result. A
// report that cannot be written is an error even when the program passed.
func (env *appEnv) finishReport(c *cli.Context, st *reportState, result error) error {
	path := c.String("report")
	if path == "" {
		return result
	}
	var ee *exitError
	if errors.As(result, &ee) && ee.code == ExitUsage {
		return result // a usage error: nothing ran, nothing to report
	}
	var res fn.Result
	if st.res != nil {
		res = *st.res
	}
	rep := res.Report(exitCodeOf(result), reasonOf(result))
	rep.Source = st.source
	if err := writeJSON(path, env, rep); err != nil {
		fmt.Fprintf(env.stderr, "fnrun: %v\n", err)
		if exitCodeOf(result) == 0 {
			return codeOnly(ExitFnrun)
		}
	}
	return result
}

// writeJSON writes v as indented JSON to path (- for stdout).
func writeJSON(path string, env *appEnv, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	data = append(data, '\n')
	if path == "-" {
		_, err := env.stdout.Write(data)
		return err
	}
	// A device, FIFO or /dev/stdout is written in place, never replaced.
	if err := cache.WriteOutput(path, bytes.NewReader(data), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
