package fn

// ReportVersion is the version of the --report JSON schema. Bump it on any
// change that is not a pure addition; the schema is documented in README.md.
const ReportVersion = 1

// Report is the JSON summary of a function's run (--report).
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
	Reason   string       `json:"reason,omitempty"` // one line; a failed smoke test's adds the last lines of output
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

// Report returns r as a report. The exit code and the reason are the
// caller's (a CLI's mapping of the result); a non-zero code fails.
func (r Result) Report(exitCode int, reason string) Report {
	rep := Report{
		Version: ReportVersion, Source: r.Source, Identity: r.Checkout.Identity, Binary: r.Binary,
		Runs: r.Runs, Elided: r.Elided, Verdict: VerdictPass, ExitCode: exitCode, Reason: reason,
	}
	if r.Build != nil {
		rep.Key = r.Build.Key
		rep.Build = &BuildReport{CacheHit: r.Build.CacheHit, DurationMS: ms(r.Build.Took)}
	}
	if rep.Runs == nil {
		rep.Runs = []RunRecord{}
	}
	rep.Restarts = max(0, len(rep.Runs)+rep.Elided-1)
	if exitCode != 0 {
		rep.Verdict = VerdictFail
	}
	return rep
}
