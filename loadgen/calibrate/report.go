package calibrate

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/photobench/photobench/loadgen"
)

// ReportConfig is the calibration's configuration as the report states it.
// Times are in seconds.
type ReportConfig struct {
	Rates          []float64 `json:"rates"`
	Duration       float64   `json:"duration_seconds"`
	Repeats        int       `json:"repeats"`
	Pause          float64   `json:"pause_seconds"`
	MaxInFlight    int       `json:"max_in_flight"`
	MaxConns       int       `json:"max_connections"`
	Timeout        float64   `json:"timeout_seconds"`
	WrkThreads     int       `json:"wrk_threads"`
	WrkConnections int       `json:"wrk_connections"`
	SearchStep     float64   `json:"search_step"`
	SearchBudget   float64   `json:"search_budget_seconds"` // per tool
}

// RateSummary is both tools at one listed rate.
type RateSummary struct {
	Rate       float64 `json:"target_rate"`
	Photobench Summary `json:"photobench"`
	Vegeta     Summary `json:"vegeta"`
}

func (rs RateSummary) tool(name string) Summary {
	if name == ToolVegeta {
		return rs.Vegeta
	}
	return rs.Photobench
}

// The states of an Aim.
const (
	AimMet          = "met"
	AimNotMet       = "not met"
	AimUndetermined = "undetermined"
)

// An Aim is one of the generator's targets, judged from the measurements.
type Aim struct {
	Name   string `json:"name"`
	Status string `json:"status"` // AimMet, AimNotMet or AimUndetermined
	Detail string `json:"detail"`
}

// MaxSustained holds each tool's highest sustained rate.
type MaxSustained struct {
	Photobench *SearchResult `json:"photobench"`
	Vegeta     *SearchResult `json:"vegeta"`
}

// Report is a calibration's outcome: every raw run and what follows from them.
type Report struct {
	Machine   Machine      `json:"machine"`
	Config    ReportConfig `json:"config"`
	Criterion string       `json:"criterion"`
	Started   time.Time    `json:"started"`
	Ended     time.Time    `json:"ended"`
	Partial   bool         `json:"partial"` // stopped before the end
	Target    string       `json:"target"`

	Wrk       []WrkResult `json:"wrk"`
	WrkErrors []string    `json:"wrk_errors,omitempty"`
	// WrkBound is wrk's closed-loop requests per second over its repeats.
	WrkBound Spread `json:"wrk_bound_requests_per_second"`

	Runs         []Measurement `json:"runs"`
	Rates        []RateSummary `json:"rates"`
	MaxSustained MaxSustained  `json:"max_sustained"`
	Aims         []Aim         `json:"aims"`

	searched map[string]SearchResult // by tool, as Measure's searches found them
}

// JSON is the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report json: %w", err)
	}
	return append(data, '\n'), nil
}

// SetSearch records the search's result for tool (ToolPhotobench or
// ToolVegeta); Compute uses it for the highest sustained rate.
func (r *Report) SetSearch(tool string, res SearchResult) {
	if r.searched == nil {
		r.searched = map[string]SearchResult{}
	}
	r.searched[tool] = res
}

// Compute derives from Config, Runs, Wrk and the searches (SetSearch) the
// summaries by rate, the wrk bound, the highest sustained rates (from the
// listed rates alone for a tool no search ran for) and the aims.
func (r *Report) Compute() {
	r.Rates = nil
	for _, rate := range r.Config.Rates {
		var ours, theirs []Measurement
		for _, m := range r.Runs {
			if m.Stage != "rates" || m.Rate != rate {
				continue
			}
			if m.Tool == ToolVegeta {
				theirs = append(theirs, m)
			} else {
				ours = append(ours, m)
			}
		}
		if len(ours)+len(theirs) == 0 {
			continue
		}
		r.Rates = append(r.Rates, RateSummary{Rate: rate,
			Photobench: Summarize(ToolPhotobench, rate, ours), Vegeta: Summarize(ToolVegeta, rate, theirs)})
	}
	var rps []float64
	for _, w := range r.Wrk {
		rps = append(rps, w.RequestsSec)
	}
	r.WrkBound = SpreadOf(rps)
	for _, tool := range []string{ToolPhotobench, ToolVegeta} {
		res, ok := r.searched[tool]
		if !ok {
			// No search ran (the run stopped first): what the listed rates say.
			var known []Summary
			for _, rs := range r.Rates {
				if s := rs.tool(tool); s.Runs > 0 {
					known = append(known, s)
				}
			}
			res, _ = Search(context.Background(), verdicts(known), SearchConfig{}, nil)
			res.Stopped = "listed rates only, no search ran"
		}
		if tool == ToolVegeta {
			r.MaxSustained.Vegeta = &res
		} else {
			r.MaxSustained.Photobench = &res
		}
	}
	r.Aims = r.aims()
}

func (r *Report) aims() []Aim {
	ours, theirs := r.MaxSustained.Photobench, r.MaxSustained.Vegeta
	var aims []Aim

	// Achieved rate within 1% of the target wherever vegeta manages it.
	a := Aim{Name: "achieved rate within 1% of the target at every rate where vegeta's is"}
	var where, misses []string
	for _, rs := range r.Rates {
		v, p := rs.Vegeta, rs.Photobench
		if v.Runs == 0 || v.Failed > 0 || math.Abs(v.AchievedRatio.Median-1) > 0.01 {
			continue
		}
		where = append(where, rateStr(rs.Rate))
		if p.Runs == 0 || math.Abs(p.AchievedRatio.Median-1) > 0.01 {
			misses = append(misses, fmt.Sprintf("%s (%.2f%%)", rateStr(rs.Rate), p.AchievedRatio.Median*100))
		}
	}
	switch {
	case len(where) == 0:
		a.Status, a.Detail = AimUndetermined, "vegeta was within 1% at none of the listed rates"
	case len(misses) > 0:
		a.Status, a.Detail = AimNotMet, "photobench off by more than 1% at "+strings.Join(misses, ", ")
	default:
		a.Status, a.Detail = AimMet, "within 1% at "+strings.Join(where, ", ")
	}
	aims = append(aims, a)

	// Highest sustained rate at least twice vegeta's, and 40% of wrk's.
	aims = append(aims, atLeast("highest sustained open-loop rate at least twice vegeta's", ours, 2, theirs, "vegeta's"))
	var wrk *SearchResult
	if r.WrkBound.N > 0 {
		wrk = &SearchResult{Max: r.WrkBound.Median}
	}
	aims = append(aims, atLeast("highest sustained open-loop rate at least 40% of wrk's closed-loop rate", ours, 0.4, wrk, "wrk's"))

	// CPU per request no more than vegeta's, where both sustain the rate.
	a = Aim{Name: "CPU per request no more than vegeta's (at the listed rates both sustain)"}
	var cmp, worse []string
	for _, rs := range r.Rates {
		p, v := rs.Photobench, rs.Vegeta
		if !p.Sustained || !v.Sustained || p.CPUPer1000.N == 0 || v.CPUPer1000.N == 0 {
			continue
		}
		s := fmt.Sprintf("%s: %.4f vs %.4f", rateStr(rs.Rate), p.CPUPer1000.Median, v.CPUPer1000.Median)
		cmp = append(cmp, s)
		if p.CPUPer1000.Median > v.CPUPer1000.Median {
			worse = append(worse, s)
		}
	}
	switch {
	case len(cmp) == 0:
		a.Status, a.Detail = AimUndetermined, "no listed rate was sustained by both"
	case len(worse) > 0:
		a.Status, a.Detail = AimNotMet, "CPU-s per 1000 requests, photobench vs vegeta, higher at "+strings.Join(worse, "; ")
	default:
		a.Status, a.Detail = AimMet, "CPU-s per 1000 requests, photobench vs vegeta: "+strings.Join(cmp, "; ")
	}
	aims = append(aims, a)

	aims = append(aims, r.noCollapse())
	return aims
}

// atLeast judges ours.Max >= factor × theirs.Max when either may be a lower
// bound only.
func atLeast(name string, ours *SearchResult, factor float64, theirs *SearchResult, whose string) Aim {
	a := Aim{Name: name}
	if ours == nil || theirs == nil || theirs.Max == 0 {
		a.Status, a.Detail = AimUndetermined, "not measured"
		if theirs != nil && theirs.Max == 0 && theirs.Stopped != "" {
			a.Detail = whose + " highest sustained rate is unknown: " + theirs.Stopped
		}
		return a
	}
	need := factor * theirs.Max
	a.Detail = fmt.Sprintf("photobench %s, %s %s: needs %s", maxRate(*ours), whose, maxRate(*theirs), rateStr(need))
	switch {
	case ours.Max >= need && !theirs.LowerBound:
		a.Status = AimMet
	case ours.Max < need && !ours.LowerBound:
		a.Status = AimNotMet
	default:
		a.Status = AimUndetermined
		a.Detail += " (a lower bound leaves it open: give the search more budget)"
	}
	return a
}

// noCollapse checks photobench's runs beyond capacity (those failing the
// criterion): each must have ended in time with every hit of the schedule
// accounted for, answered, failed or dropped, and its lateness reported.
func (r *Report) noCollapse() Aim {
	a := Aim{Name: "beyond capacity, photobench keeps the schedule and reports late and dropped requests"}
	limit := r.Config.Duration + r.Config.Timeout + 5
	var beyond, bad []string
	var worst *Measurement
	for i, m := range r.Runs {
		if m.Tool != ToolPhotobench {
			continue
		}
		if ok, _ := Check(m.Figures()); ok {
			continue
		}
		beyond = append(beyond, rateStr(m.Rate))
		want := loadgen.Count(loadgen.Constant{Rate: m.Rate}, time.Duration(m.Duration*float64(time.Second)))
		switch {
		case m.Error != "":
			bad = append(bad, fmt.Sprintf("%s: run failed: %s", rateStr(m.Rate), m.Error))
		case m.Scheduled != want:
			bad = append(bad, fmt.Sprintf("%s: scheduled %d of %d hits", rateStr(m.Rate), m.Scheduled, want))
		case m.OK+m.Errors+m.Dropped != m.Scheduled:
			bad = append(bad, fmt.Sprintf("%s: %d hits unaccounted for", rateStr(m.Rate), int64(m.Scheduled)-int64(m.OK+m.Errors+m.Dropped)))
		case m.Wall > limit:
			bad = append(bad, fmt.Sprintf("%s: took %.1fs, more than duration + timeout + 5s", rateStr(m.Rate), m.Wall))
		case m.LagP99 == nil:
			bad = append(bad, fmt.Sprintf("%s: no schedule lag reported", rateStr(m.Rate)))
		}
		if worst == nil || m.Rate > worst.Rate {
			worst = &r.Runs[i]
		}
	}
	switch {
	case worst == nil:
		a.Status, a.Detail = AimUndetermined, "no run of photobench's went beyond capacity"
	case len(bad) > 0:
		a.Status, a.Detail = AimNotMet, strings.Join(bad, "; ")
	default:
		a.Status = AimMet
		a.Detail = fmt.Sprintf("%d run(s) beyond capacity (at %s), each with every hit of the schedule scheduled and accounted for; at %s: "+
			"scheduled %d, sent %d, ok %d, errors %d, dropped %d, achieved %.0f/s, schedule lag p99 %s",
			len(beyond), strings.Join(dedup(beyond), ", "), rateStr(worst.Rate),
			worst.Scheduled, worst.Sent, worst.OK, worst.Errors, worst.Dropped, worst.AchievedRate, optSeconds(worst.LagP99))
	}
	return a
}

func dedup(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func rateStr(r float64) string { return fmt.Sprintf("%.0f/s", r) }

// maxRate writes a highest sustained rate: "25000/s", ">= 25000/s" for a
// lower bound, "none" when no rate was sustained.
func maxRate(s SearchResult) string {
	switch {
	case s.Max == 0:
		return "none"
	case s.LowerBound:
		return ">= " + rateStr(s.Max)
	}
	return rateStr(s.Max)
}
