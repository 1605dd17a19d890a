package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
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
	Runs     []runRecord  `json:"runs"`
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
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
