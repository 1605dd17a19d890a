package system

import "github.com/fnrun/fnrun/internal/fn"

// ReportVersion is the version of `fnrun up --report`'s schema (version 1
// is `fnrun run`'s, for one function).
const ReportVersion = 2

// Report is the JSON summary of a system's run: one record per function
// (per replica), in start order.
type Report struct {
	Version   int              `json:"version"`
	File      string           `json:"file"`
	Functions []FunctionReport `json:"functions"`
	Verdict   string           `json:"verdict"`
	ExitCode  int              `json:"exit_code"`
	Reason    string           `json:"reason,omitempty"`
}

// FunctionReport is one function (replica) of the system.
type FunctionReport struct {
	Name     string          `json:"name"`     // api, or api.2 for a replica
	Function string          `json:"function"` // the entry: api
	Source   string          `json:"source"`
	Identity string          `json:"identity,omitempty"`
	Binary   string          `json:"binary"`
	Key      string          `json:"cache_key,omitempty"`
	Build    *fn.BuildReport `json:"build,omitempty"`
	Runs     []fn.RunRecord  `json:"runs"`
	Elided   int             `json:"runs_elided,omitempty"`
	Restarts int             `json:"restarts"`
}

// Report returns r as a report; the exit code and the reason are the
// caller's.
func (r Result) Report(file string, exitCode int, reason string) Report {
	rep := Report{Version: ReportVersion, File: file, Functions: []FunctionReport{},
		Verdict: fn.VerdictPass, ExitCode: exitCode, Reason: reason}
	if exitCode != 0 {
		rep.Verdict = fn.VerdictFail
	}
	for _, name := range r.Order {
		one := r.Runs[name].Report(0, "")
		rep.Functions = append(rep.Functions, FunctionReport{
			Name: name, Function: r.Entries[name], Source: one.Source, Identity: one.Identity, Binary: one.Binary,
			Key: one.Key, Build: one.Build, Runs: one.Runs, Elided: one.Elided, Restarts: one.Restarts,
		})
	}
	return rep
}
