package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/loadgen"
)

// Capacity: what a variant sustains, in photos per second, read from the
// sweep's knee (the highest rate within the three-part SLO below the first
// failing one), and what a million photos cost there.

// capacity is one variant's capacity in a sweep.
type capacity struct {
	ok       bool
	k        knee
	share    float64  // uploads' share of the requests offered at the knee's rate (median over runs)
	offered  float64  // share × the knee's rate: photos/s offered
	achieved estimate // per run at the knee's rate: uploads accepted per second of the swept phase
	nextPPS  float64  // photos/s offered at the first failing rate (0 when none)
}

// uploadShare is the uploads' share of the requests a run's phase offered.
func uploadShare(ps loadgen.PhaseSummary) (float64, bool) {
	up, ok := ps.Ops[loadgen.OpUpload]
	if !ok || ps.All.TargetRate <= 0 {
		return 0, false
	}
	return up.TargetRate / ps.All.TargetRate, true
}

// acceptedPerSecond is the uploads a run's phase accepted per second of
// the phase.
func acceptedPerSecond(run results.Run, phase string) (float64, bool) {
	ps, ok1 := run.Summary.Phase(phase)
	w, ok2 := run.Phase(phase)
	up, ok3 := ps.Ops[loadgen.OpUpload]
	if !ok1 || !ok2 || !ok3 || dur(w) <= 0 {
		return 0, false
	}
	return float64(up.OK) / dur(w), true
}

// stepShare is the median upload share of a step's measured runs.
func stepShare(st *sweepStep, phase string) float64 {
	return phaseFigure(st.measured, phase, func(ps loadgen.PhaseSummary) (float64, bool) { return uploadShare(ps) }).value()
}

// capacityOf reads arch's capacity from its knee k in sweep s.
func capacityOf(s *sweep, arch string, k knee) capacity {
	c := capacity{k: k}
	if k.kind != kneeAt && k.kind != kneeAtLeast {
		if k.kind == kneeBelow && k.next != nil {
			c.nextPPS = stepShare(k.next, s.phase) * k.next.rate
		}
		return c
	}
	var at *sweepStep
	for _, st := range s.steps[arch] {
		if st.rate == k.rate {
			at = st
		}
	}
	if at == nil {
		return c
	}
	c.share = stepShare(at, s.phase)
	c.offered = c.share * k.rate
	var vals []float64
	for _, run := range at.measured {
		if v, ok := acceptedPerSecond(run, s.phase); ok {
			vals = append(vals, v)
		}
	}
	c.achieved = estimateOf(vals)
	if k.next != nil {
		c.nextPPS = stepShare(k.next, s.phase) * k.next.rate
	}
	c.ok = c.achieved.ok() && finite(c.offered)
	return c
}

// fmtPPS formats photos per second.
func fmtPPS(v float64) string { return fmtNum(v) + " photos/s" }

// text is the capacity as a cell: "20.1 photos/s [19.6–20.4] (n=3)", or,
// below MinRunsForInterval runs at the knee's rate, the bracket between
// the last rate held and the first that failed.
func (c capacity) text() string {
	switch {
	case c.k.kind == kneeBelow:
		if c.nextPPS > 0 {
			return fmt.Sprintf("below %s (the lowest rate swept failed)", fmtPPS(c.nextPPS))
		}
		return "below the lowest rate swept"
	case !c.ok:
		return na("no accepted uploads measured at the knee's rate")
	}
	s := c.achieved.withN(fmtPPS)
	if c.k.kind == kneeAtLeast {
		return "at least " + s + " (the sweep did not reach the knee)"
	}
	if !c.achieved.ci && c.nextPPS > 0 {
		s += fmt.Sprintf("; between %s (the last rate held) and %s offered (the first that failed)", fmtPPS(c.offered), fmtPPS(c.nextPPS))
	}
	return s
}

// optionCost is one pricing option's cost per million photos at a load.
type optionCost struct {
	option string
	usd    float64
}

// costAtCapacity prices arch's pricing options at photosPerSecond
// (cost.OptionsOf, (*cost.Analysis).PerMillionAt: the break-even chart's
// lines); ok is false when the cost analysis cannot.
func costAtCapacity(a *cost.Analysis, arch string, photosPerSecond float64) ([]optionCost, bool) {
	if a == nil || !finite(photosPerSecond) || photosPerSecond <= 0 {
		return nil, false
	}
	var out []optionCost
	for _, o := range cost.OptionsOf(arch) {
		if usd, ok := a.PerMillionAt(o, photosPerSecond); ok && finite(usd) {
			out = append(out, optionCost{option: o, usd: usd})
		}
	}
	return out, len(out) > 0
}

// costText formats options' costs: "aws $12.30; azure $9.10".
func costText(os []optionCost) string {
	var parts []string
	for _, o := range os {
		parts = append(parts, fmt.Sprintf("%s $%s", o.option, fmtNum(o.usd)))
	}
	return strings.Join(parts, "; ")
}

// failingSteps says why each step outside the SLO failed, in rate order.
func failingSteps(steps []*sweepStep) string {
	var parts []string
	for _, st := range steps {
		if st.judged && !st.within {
			parts = append(parts, fmt.Sprintf("%s: %s", fmtReqRate(st.rate), st.why))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// capacityTable is each variant's capacity in sweep s, with cost per
// million photos there and why each failing rate failed.
func (v *view) capacityTable(d *doc, s *sweep) {
	var rows [][]string
	for _, a := range s.archs {
		k := kneeOf(s.steps[a], sloOf(v.r))
		c := capacityOf(s, a, k)
		confirmed := "–"
		switch {
		case k.kind == kneeAtLeast:
			confirmed = "no: every rate held"
		case k.second != nil:
			confirmed = fmt.Sprintf("yes: %s and %s failed", fmtReqRate(k.next.rate), fmtReqRate(k.second.rate))
		case k.next != nil:
			confirmed = fmt.Sprintf("no: only %s failed right above it", fmtReqRate(k.next.rate))
		}
		share := "–"
		if c.ok {
			share = fmt.Sprintf("%s × %s = %s offered", fmtReqRate(k.rate), fmtPct(c.share), fmtPPS(c.offered))
		}
		price := na("no capacity, or the cost model has no line for it")
		if c.ok {
			if os, ok := costAtCapacity(v.a, a, c.achieved.med); ok {
				price = costText(os) + " per million photos"
			}
		}
		rows = append(rows, []string{archName(a), k.text(), confirmed, share, c.text(), price, failingSteps(s.steps[a])})
	}
	d.add(table{caption: fmt.Sprintf("Capacity per variant — sweep %q (%s)", s.name, v.sloText()),
		header: []string{"variant", "knee (offered req/s)", "confirmed by a second failing rate?", "uploads at the knee", "capacity: uploads accepted per second",
			"cost per million photos at capacity", "why each failing rate failed"},
		rows: rows,
		notes: []string{fmt.Sprintf("Capacity is the uploads accepted per second of the %s phase in each run at the knee's rate (photos/s; the offered figure is the "+
			"rate times the uploads' share of the requests), the median over those runs with its 95%% bootstrap interval (%d resamples, seed %d) from %d runs on; "+
			"with fewer, the run values and the bracket between the last rate held and the first that failed.", s.phase, BootstrapResamples, BootstrapSeed, MinRunsForInterval)}})
}

// capacityEntry is a variant's capacity for headline.json.
func (v *view) capacities() []headlineCapacity {
	var out []headlineCapacity
	for _, s := range v.sweeps {
		for _, a := range s.archs {
			k := kneeOf(s.steps[a], sloOf(v.r))
			c := capacityOf(s, a, k)
			h := headlineCapacity{Sweep: s.name, Variant: a, Unit: "photos/s", Kind: kneeKindName(k.kind), Confirmed: k.second != nil,
				Failing: []headlineFailure{}}
			if k.kind == kneeAt || k.kind == kneeAtLeast {
				h.KneeRate = ptr(k.rate)
			}
			if c.ok {
				h.Estimate = headlineEstimate(c.achieved)
				h.Offered = ptr(c.offered)
				if os, ok := costAtCapacity(v.a, a, c.achieved.med); ok {
					for _, o := range os {
						h.CostPerMillionAtCapacity = append(h.CostPerMillionAtCapacity, headlineCost{Option: o.option, USD: o.usd})
					}
				}
			}
			if c.nextPPS > 0 {
				h.FirstFailedOffered = ptr(c.nextPPS)
			}
			for _, st := range s.steps[a] {
				if st.judged && !st.within {
					h.Failing = append(h.Failing, headlineFailure{Rate: st.rate, Why: st.why})
				}
			}
			out = append(out, h)
		}
	}
	return out
}

// kneeKindName names a knee kind in headline.json.
func kneeKindName(kind int) string {
	switch kind {
	case kneeBelow:
		return "below_lowest_rate"
	case kneeAt:
		return "at"
	case kneeAtLeast:
		return "at_least_highest_rate"
	}
	return "none"
}

func ptr(v float64) *float64 {
	if !finite(v) {
		return nil
	}
	v = math.Round(v*1e9) / 1e9
	return &v
}
