package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// status is a row's verdict.
type status string

const (
	statusOK          status = "ok"
	statusMissed      status = "MISSED"
	statusFail        status = "FAIL"
	statusUnavailable status = "unavailable" // fnrun could not be measured
	statusInfo        status = "-"           // no target
)

// row is one line of the summary: a measurement of fnrun, its reference,
// their ratio and the target it is held to.
type row struct {
	bench   string
	measure string
	fnrun   string
	ref     string
	ratio   string
	target  string
	status  status
	note    string
}

func (r row) line() string {
	s := fmt.Sprintf("%-7s %-24s fnrun %-14s ref %-14s ratio %-7s target %-22s %s",
		r.bench, r.measure, r.fnrun, r.ref, r.ratio, r.target, r.status)
	if r.note != "" {
		s += "  (" + firstLine(r.note) + ")"
	}
	return s
}

// printSummary prints the closing table.
func printSummary(w io.Writer, rows []row) {
	fmt.Fprintln(w, "\n== summary (medians)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCH\tMEASURE\tFNRUN\tREFERENCE\tRATIO\tTARGET\tSTATUS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.bench, r.measure, dash(r.fnrun), dash(r.ref), dash(r.ratio), dash(r.target), r.status)
	}
	tw.Flush()
	var missed, failed []string
	for _, r := range rows {
		switch r.status {
		case statusMissed:
			missed = append(missed, r.bench+"/"+r.measure)
		case statusFail:
			failed = append(failed, r.bench+": "+firstLine(r.note))
		}
	}
	if len(missed) > 0 {
		fmt.Fprintf(w, "MISSED targets: %s\n", strings.Join(missed, ", "))
	}
	for _, f := range failed {
		fmt.Fprintf(w, "FAIL %s\n", f)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// verdict turns a target check into a status; without fnrun figures it is
// unavailable.
func verdict(have, ok bool) status {
	switch {
	case !have:
		return statusUnavailable
	case ok:
		return statusOK
	default:
		return statusMissed
	}
}

func fmtRatio(fn, ref float64) string {
	if ref == 0 {
		return ""
	}
	return fmt.Sprintf("%.2fx", fn/ref)
}

// fmtMS formats seconds as milliseconds.
func fmtMS(sec float64) string {
	return fmt.Sprintf("%.1fms", sec*1000)
}

func fmtDur(d time.Duration) string { return fmtMS(d.Seconds()) }

// fmtRate formats a per-second rate.
func fmtRate(x float64, unit string) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2fM %s/s", x/1e6, unit)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk %s/s", x/1e3, unit)
	default:
		return fmt.Sprintf("%.0f %s/s", x, unit)
	}
}

func fmtMB(bytes float64) string { return fmt.Sprintf("%.1fMB", bytes/(1<<20)) }

// side is one contender in an interleaved comparison: run returns one
// sample; a nil run (fnrun unavailable) is skipped.
type side struct {
	name    string
	run     func() (float64, error)
	samples []float64
}

// alternate runs every side once per round, rotating the order from round
// to round so that no side always goes first, and logs each sample.
func (b *bench) alternate(rounds int, format func(float64) string, sides ...*side) error {
	for r := range rounds {
		for k := range sides {
			s := sides[(r+k)%len(sides)]
			if s.run == nil {
				continue
			}
			v, err := s.run()
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", s.name, r+1, err)
			}
			s.samples = append(s.samples, v)
			b.logf("  round %2d  %-8s %s", r+1, s.name, format(v))
		}
	}
	return nil
}

// withRatio completes a side-by-side row: the ratio fnrun/reference, or
// "unavailable" when there was no fnrun to measure.
func (b *bench) withRatio(r row, fnrun, ref float64) row {
	if b.haveFnrun() {
		r.ratio = fmtRatio(fnrun, ref)
	} else {
		r.fnrun = "unavailable"
	}
	return r
}
