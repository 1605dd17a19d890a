package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fnrun/fnrun/internal/cache"
)

// ReportVersion is the version of the --report JSON schema. Bump it on any
// change that is not a pure addition; the schema is documented in README.md.
const ReportVersion = 1

// Report is the JSON summary written by --report.
type Report struct {
	Version  int          `json:"version"`
	Source   string       `json:"source"`
	Identity string       `json:"identity,omitempty"`
	Binary   string       `json:"binary"`
	Key      string       `json:"cache_key,omitempty"`
	Build    *BuildReport `json:"build,omitempty"`
	Runs     []RunRecord  `json:"runs"`
	Elided   int          `json:"runs_elided,omitempty"` // runs between the first and last kept ones
	Restarts int          `json:"restarts"`
	Verdict  string       `json:"verdict"`
	ExitCode int          `json:"exit_code"`
	Reason   string       `json:"reason,omitempty"`
}

// BuildReport says how the binary was obtained.
type BuildReport struct {
	CacheHit   bool    `json:"cache_hit"`
	DurationMS float64 `json:"duration_ms"`
}

// Verdicts.
const (
	VerdictPass = "pass"
	VerdictFail = "fail"
)

// reportMeta is what `run` knows about the binary before it runs.
type reportMeta struct {
	Source, Identity, Binary, Key string
	Build                         *BuildReport
}

// reportState collects what --report needs while a command runs: what is
// known about the binary, and the runs once supervision ends.
type reportState struct {
	meta   reportMeta
	runs   []RunRecord
	elided int // runs left out of runs
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
	rep := Report{
		Version: ReportVersion, Source: st.meta.Source, Identity: st.meta.Identity, Binary: st.meta.Binary,
		Key: st.meta.Key, Build: st.meta.Build, Runs: st.runs, Elided: st.elided, Verdict: VerdictPass,
		ExitCode: exitCodeOf(result), Reason: reasonOf(result),
	}
	if rep.Runs == nil {
		rep.Runs = []RunRecord{}
	}
	rep.Restarts = max(0, len(rep.Runs)+rep.Elided-1)
	if rep.ExitCode != 0 {
		rep.Verdict = VerdictFail
	}
	if err := writeReport(path, env, rep); err != nil {
		fmt.Fprintf(env.stderr, "fnrun: %v\n", err)
		if exitCodeOf(result) == 0 {
			return codeOnly(ExitFnrun)
		}
	}
	return result
}

func writeReport(path string, env *appEnv, rep Report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
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

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
