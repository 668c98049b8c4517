package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/photobench/photobench/bench/report/svg"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/loadgen"
)

// The rate sweep: runs that differ only in one phase's constant rate, per
// architecture, and the knee, the highest rate that keeps the SLO.

// errorLimit is the share of scheduled requests (errors and dropped) a
// rate must stay under to be within the SLO.
const errorLimit = results.DefaultMaxErrors

// sloOf is the three-part SLO the results record: ack p99, ready p99 and
// (always) a backlog that does not grow.
func sloOf(r *results.Results) results.SLO {
	return results.SLO{AckP99: r.SLO, ReadyP99: r.SLOReady, MaxErrors: errorLimit}
}

// hasSLO reports whether slo has a latency target to judge against.
func hasSLO(slo results.SLO) bool { return slo.AckP99 > 0 || slo.ReadyP99 > 0 }

// nameRateTolerance is how far the swept phase's target rate may be from
// the rate a run's name gives before the name is not read as a sweep step.
const nameRateTolerance = 0.25

// sweep is one swept experiment: its runs by architecture and rate.
type sweep struct {
	name   string // the experiment's name, e.g. "sweep"
	phase  string // the swept phase
	byName bool   // recognised by the runs' names (results.json before sweep_rate)
	archs  []string
	steps  map[string][]*sweepStep // per architecture, by rate ascending
	rates  []float64               // every rate swept, ascending
	scens  map[string]bool         // the runs' scenario names
}

// sweepStep is one rate of a sweep on one architecture.
type sweepStep struct {
	rate     float64
	runs     []results.Run     // every run at this rate, failed ones included
	measured []results.Run     // the usable runs with requests in the swept phase
	verdicts []results.Verdict // the measured runs' verdicts, parallel to measured
	judged   bool              // an SLO was recorded and the step has measured runs
	within   bool
	why      string // why the step is not within the SLO
}

// sweepRun is a run read as a sweep step.
type sweepRun struct {
	name, phase string
	rate        float64
	byName      bool
}

// splitRate reads a scenario name "<experiment>-<rate>" (the rate as %g
// writes it: digits, a point, an exponent).
func splitRate(name string) (string, float64, bool) {
	for i := 1; i < len(name)-1; i++ {
		if name[i] != '-' {
			continue
		}
		s := name[i+1:]
		if s[0] < '0' || s[0] > '9' || strings.Trim(s, "0123456789.e+-") != "" {
			continue
		}
		if v, err := strconv.ParseFloat(s, 64); err == nil && v > 0 && finite(v) {
			return name[:i], v, true
		}
	}
	return "", 0, false
}

// findSweeps recognises the sweep runs of r. A run is one when it carries
// its SweepRate; in a results.json written before that field, a run named
// "<experiment>-<rate>" is one when another run of the same experiment has
// another rate, the profile names a steady phase (the one swept then) and
// every measured run's target rate in it is close to the rate of its name,
// so that scenarios merely named with a number are not misread.
func findSweeps(r *results.Results) []*sweep {
	out := groupSweeps(r, tagSweepRuns(r))
	for _, s := range out {
		s.finish(sloOf(r))
	}
	return out
}

// tagSweepRuns reads each run of r as a sweep step, or leaves it nil: by
// its SweepRate, or by its name (see findSweeps).
func tagSweepRuns(r *results.Results) []*sweepRun {
	tagged := make([]*sweepRun, len(r.Runs))
	byPrefix := map[string][]int{}
	var prefixes []string
	for i, run := range r.Runs {
		if run.SweepRate > 0 {
			phase := run.SweepPhase
			if phase == "" {
				phase = r.SteadyPhase
			}
			name := run.Scenario
			if p, ok := strings.CutSuffix(name, fmt.Sprintf("-%g", run.SweepRate)); ok && p != "" {
				name = p
			}
			tagged[i] = &sweepRun{name: name, phase: phase, rate: run.SweepRate}
			continue
		}
		if r.SteadyPhase == "" {
			continue
		}
		if p, _, ok := splitRate(run.Scenario); ok {
			if _, seen := byPrefix[p]; !seen {
				prefixes = append(prefixes, p)
			}
			byPrefix[p] = append(byPrefix[p], i)
		}
	}
	for _, p := range prefixes {
		idx := byPrefix[p]
		if !sweptByName(r, idx) {
			continue
		}
		for _, i := range idx {
			_, rate, _ := splitRate(r.Runs[i].Scenario)
			tagged[i] = &sweepRun{name: p, phase: r.SteadyPhase, rate: rate, byName: true}
		}
	}
	return tagged
}

// sweptByName says whether the runs idx of r, named "<experiment>-<rate>"
// for one experiment, are a sweep of the steady phase: they have two rates
// or more, and the measured runs' target rates in the phase are close to
// those of their names (and some run shows it).
func sweptByName(r *results.Results, idx []int) bool {
	rates := map[float64]bool{}
	plausible, evidence := true, false
	for _, i := range idx {
		run := r.Runs[i]
		_, rate, _ := splitRate(run.Scenario)
		rates[rate] = true
		if !usable(run) {
			continue
		}
		ps, ok := run.Summary.Phase(r.SteadyPhase)
		if !ok || ps.All.Scheduled == 0 {
			continue
		}
		if ps.All.Scheduled > 1 && ps.All.TargetRate > 0 {
			evidence = true
			if math.Abs(ps.All.TargetRate-rate) > nameRateTolerance*rate {
				plausible = false
			}
		}
	}
	return len(rates) >= 2 && plausible && evidence
}

// groupSweeps gathers the tagged runs of r (tagged parallel to r.Runs)
// into sweeps by experiment and phase, and their steps by architecture and
// rate, in the order the runs come.
func groupSweeps(r *results.Results, tagged []*sweepRun) []*sweep {
	type key struct{ name, phase string }
	var out []*sweep
	idx := map[key]*sweep{}
	for i, t := range tagged {
		if t == nil {
			continue
		}
		run := r.Runs[i]
		k := key{t.name, t.phase}
		s := idx[k]
		if s == nil {
			s = &sweep{name: t.name, phase: t.phase, byName: t.byName, steps: map[string][]*sweepStep{}, scens: map[string]bool{}}
			idx[k] = s
			out = append(out, s)
		}
		s.scens[run.Scenario] = true
		var step *sweepStep
		for _, st := range s.steps[run.Arch] {
			if st.rate == t.rate {
				step = st
			}
		}
		if step == nil {
			if len(s.steps[run.Arch]) == 0 {
				s.archs = append(s.archs, run.Arch)
			}
			step = &sweepStep{rate: t.rate}
			s.steps[run.Arch] = append(s.steps[run.Arch], step)
		}
		step.runs = append(step.runs, run)
	}
	return out
}

// finish orders the sweep's architectures and each one's steps by rate,
// judges every step against slo, and lists every rate swept.
func (s *sweep) finish(slo results.SLO) {
	sort.SliceStable(s.archs, func(i, j int) bool { return archRank(s.archs[i]) < archRank(s.archs[j]) })
	all := map[float64]bool{}
	for _, a := range s.archs {
		steps := s.steps[a]
		sort.Slice(steps, func(i, j int) bool { return steps[i].rate < steps[j].rate })
		for _, st := range steps {
			all[st.rate] = true
			st.judge(s.phase, slo)
		}
	}
	for rate := range all {
		s.rates = append(s.rates, rate)
	}
	sort.Float64s(s.rates)
}

// errShare is errors and dropped requests as a share of those scheduled.
func errShare(st loadgen.Stats) float64 {
	if st.Scheduled == 0 {
		return math.NaN()
	}
	return float64(st.Errors+st.Dropped) / float64(st.Scheduled)
}

// judge decides whether the step is within the SLO (results.Run.CheckSLO:
// answers, photos ready, backlog): every measured run at the rate must be;
// a rate without a measured run is not.
func (st *sweepStep) judge(phase string, slo results.SLO) {
	st.measured, st.verdicts, st.within, st.judged, st.why = nil, nil, false, false, ""
	var whys []string
	out := 0
	for _, run := range st.runs {
		if !usable(run) {
			continue
		}
		v := run.CheckSLO(phase, slo)
		if !v.Measured {
			continue
		}
		st.measured = append(st.measured, run)
		st.verdicts = append(st.verdicts, v)
		if !v.Held {
			out++
			whys = append(whys, verdictWhy(v))
		}
	}
	switch {
	case !hasSLO(slo):
		st.why = "no SLO recorded"
		return
	case len(st.measured) == 0 && len(st.runs) > 0 && countUsable(st.runs) == 0:
		st.why = "every run at this rate failed"
		return
	case len(st.measured) == 0:
		st.why = "no request measured in " + phase
		return
	}
	st.judged = true
	st.within = out == 0
	if out > 0 {
		st.why = whys[0]
		if len(st.measured) > 1 {
			st.why = fmt.Sprintf("%d of %d runs outside: %s", out, len(st.measured), strings.Join(whys, "; "))
		}
	}
}

// verdictWhy is why a run failed the SLO, with the support of the p99s it
// was judged on when below 1,000 samples (such a p99 is close to the
// largest value, which errs towards failing).
func verdictWhy(v results.Verdict) string {
	s := strings.Join(v.Why, ", ")
	var thin []string
	if v.AckN > 0 && !backed(0.99, v.AckN) && strings.Contains(s, "p99 ack") {
		thin = append(thin, fmt.Sprintf("ack n=%d", v.AckN))
	}
	if v.ReadyN > 0 && !backed(0.99, v.ReadyN) && strings.Contains(s, "p99 ready") {
		thin = append(thin, fmt.Sprintf("ready n=%d", v.ReadyN))
	}
	if len(thin) > 0 {
		s += " (p99 from " + strings.Join(thin, ", ") + ": fewer than 1,000 samples)"
	}
	return s
}

func countUsable(runs []results.Run) int {
	n := 0
	for _, r := range runs {
		if usable(r) {
			n++
		}
	}
	return n
}

// Knee kinds.
const (
	kneeNone    = iota // no SLO or no step
	kneeBelow          // the lowest rate is already outside the SLO
	kneeAt             // a rate within the SLO, the next one outside
	kneeAtLeast        // every rate swept is within the SLO
)

// knee is an architecture's knee: the highest rate within the SLO such
// that every lower rate swept is within it too.
type knee struct {
	kind            int
	rate            float64
	lowest, highest float64
	next            *sweepStep // the first step outside the SLO (kneeBelow, kneeAt)
	second          *sweepStep // the step after next, when it is outside too: the knee is confirmed
	ignored         []float64  // rates within the SLO above next: they do not count
	runs            [2]int     // fewest and most measured runs per rate
}

func kneeOf(steps []*sweepStep, slo results.SLO) knee {
	var k knee
	if len(steps) == 0 || !hasSLO(slo) {
		return k
	}
	k.lowest, k.highest = steps[0].rate, steps[len(steps)-1].rate
	k.runs = [2]int{math.MaxInt, 0}
	for _, st := range steps {
		k.runs[0], k.runs[1] = min(k.runs[0], len(st.measured)), max(k.runs[1], len(st.measured))
	}
	k.kind = kneeAtLeast
	for i, st := range steps {
		if st.within {
			k.rate = st.rate
			continue
		}
		k.next = st
		k.kind = kneeAt
		if i == 0 {
			k.kind = kneeBelow
		}
		if i+1 < len(steps) && steps[i+1].judged && !steps[i+1].within {
			k.second = steps[i+1]
		}
		for _, later := range steps[i+1:] {
			if later.within {
				k.ignored = append(k.ignored, later.rate)
			}
		}
		break
	}
	return k
}

var fmtReqRate = fmtRate("req/s")

// text is the knee as a table cell or list item.
func (k knee) text() string {
	switch k.kind {
	case kneeBelow:
		return fmt.Sprintf("below the lowest rate swept (%s)", fmtReqRate(k.lowest))
	case kneeAt:
		return fmtReqRate(k.rate)
	case kneeAtLeast:
		return fmt.Sprintf("at least the highest rate swept (%s)", fmtReqRate(k.highest))
	}
	return na("no SLO recorded, or no rate swept")
}

// runsText says how many runs each rate had: "1 run per rate", "1–3 runs per rate".
func (k knee) runsText() string {
	lo, hi := k.runs[0], k.runs[1]
	unit := "runs"
	if hi == 1 {
		unit = "run"
	}
	if lo == hi {
		return fmt.Sprintf("%d %s per rate", hi, unit)
	}
	return fmt.Sprintf("%d–%d %s per rate", lo, hi, unit)
}

// detail explains the knee: which rate is the first outside and why, and
// which rates above it were within again but do not count.
func (k knee) detail() string {
	var parts []string
	switch k.kind {
	case kneeAt, kneeBelow:
		parts = append(parts, fmt.Sprintf("%s is the lowest rate outside the SLO (%s)", fmtReqRate(k.next.rate), k.next.why))
		if k.second != nil {
			parts = append(parts, fmt.Sprintf("%s, the next rate, is outside too (%s): the knee is confirmed", fmtReqRate(k.second.rate), k.second.why))
		} else {
			parts = append(parts, "no second failing rate right after it: the knee is not confirmed")
		}
	case kneeAtLeast:
		parts = append(parts, "every rate swept is within the SLO: the sweep did not reach the knee")
	}
	if len(k.ignored) > 0 {
		var rs []string
		for _, r := range k.ignored {
			rs = append(rs, fmtReqRate(r))
		}
		was, does := "was", "does"
		if len(rs) > 1 {
			was, does = "were", "do"
		}
		parts = append(parts, fmt.Sprintf("%s %s within the SLO again but %s not count: a lower rate was outside", joinAnd(rs), was, does))
	}
	return strings.Join(parts, "; ")
}

// sloText is the SLO as the report states it: "p99 ack < 1 s, p99 ready
// < 5 s, errors < 1%, backlog not growing".
func (v *view) sloText() string {
	slo := sloOf(v.r)
	var parts []string
	if slo.AckP99 > 0 {
		parts = append(parts, "p99 ack < "+trimZeros(fmtSeconds(slo.AckP99)))
	}
	if slo.ReadyP99 > 0 {
		parts = append(parts, "p99 ready < "+trimZeros(fmtSeconds(slo.ReadyP99)))
	}
	return strings.Join(append(parts, "errors < "+fmtPct(errorLimit), "backlog not growing"), ", ")
}

// kneeRule states how a rate is judged and how the knee is read.
func (v *view) kneeRule(s *sweep) string {
	slo := sloOf(v.r)
	ready := "upload-to-ready is not judged (the results record no ready SLO)"
	if slo.ReadyP99 > 0 {
		ready = fmt.Sprintf("a p99 upload-to-ready latency under %s where uploads were followed (for the sync monolith ready is the answer), "+
			"and no followed upload still pending at the follow timeout", trimZeros(fmtSeconds(slo.ReadyP99)))
	}
	ack := "no ack target"
	if slo.AckP99 > 0 {
		ack = "a p99 ack latency of all operations under " + trimZeros(fmtSeconds(slo.AckP99))
	}
	return fmt.Sprintf("A rate is within the SLO when every run at it that measured the %s phase keeps three parts (results.Run.CheckSLO): "+
		"the answers (%s, and errors plus dropped requests under %s of the requests scheduled), the photos (%s), and the backlog "+
		"(the async monolith's job queue, the event-driven functions' consumer lag: a least-squares line through it over the phase's second half "+
		"may rise by at most 5, or 2 seconds of uploads when more). A p99 is judged even when fewer than 1,000 samples back it: it is then close "+
		"to the largest value, which errs towards failing, and the table says so. A rate whose runs all failed counts as outside. "+
		"The knee is the highest rate swept that is within the SLO with every lower rate within it too: a rate within the SLO above one "+
		"outside it does not count. The knee is confirmed when the next rate fails as well (the sweep goes on until two rates fail). "+
		"When the lowest rate is already outside, the knee is below it; when every rate is within, it is at least the highest.",
		s.phase, ack, fmtPct(errorLimit), ready)
}

// sweepSection is the sweep's tables, knees and chart, when there is a sweep.
func (v *view) sweepSection(d *doc) {
	if len(v.sweeps) == 0 {
		return
	}
	d.h(2, "Rate sweep and knee")
	for i, s := range v.sweeps {
		if len(v.sweeps) > 1 {
			d.h(3, fmt.Sprintf("Sweep %q over the %s phase", s.name, s.phase))
		}
		var rates []string
		for _, r := range s.rates {
			rates = append(rates, compactNum(r))
		}
		intro := fmt.Sprintf("Experiment %q ran its scenario once per rate (and repetition) against each architecture, the %s phase paced at a constant %s req/s, "+
			"the other phases unchanged. The figures are the %s phase's, from the load generator's summary of each run; with several runs at a rate, "+
			"the median over them with its 95%% bootstrap interval from %d runs on (the run values with two). Errors include the requests dropped at the in-flight cap.", s.name, s.phase, strings.Join(rates, ", "), s.phase, MinRunsForInterval)
		if s.byName {
			intro += fmt.Sprintf(" This results.json predates the runs' sweep_rate field: the sweep runs were recognised by their names (%s-<rate>) and the swept phase "+
				"taken to be the profile's steady phase, %q.", s.name, s.phase)
		}
		d.p("%s", intro)
		if !hasSLO(sloOf(v.r)) {
			d.p("The results record no SLO: no rate can be judged within it, and there is no knee.")
		} else {
			d.p("SLO: %s. %s", v.sloText(), v.kneeRule(s))
		}
		for _, a := range s.archs {
			v.sweepTable(d, s, a)
		}
		var knees []string
		for _, a := range s.archs {
			k := kneeOf(s.steps[a], sloOf(v.r))
			item := fmt.Sprintf("%s: knee %s (%s)", archName(a), k.text(), k.runsText())
			if dt := k.detail(); dt != "" {
				item += " — " + dt
			}
			knees = append(knees, item+".")
		}
		if hasSLO(sloOf(v.r)) {
			d.list(knees)
			v.capacityTable(d, s)
		}
		file := "rate-sweep"
		if i > 0 {
			file = fmt.Sprintf("rate-sweep-%d", i+1)
		}
		v.sweepChart(d, s, file)
	}
}

func (v *view) sweepTable(d *doc, s *sweep, arch string) {
	errGet := func(ps loadgen.PhaseSummary) (float64, bool) {
		e := errShare(ps.All)
		return e, finite(e)
	}
	var rows [][]string
	for _, st := range s.steps[arch] {
		rate := fmtReqRate(st.rate)
		if len(st.measured) > 0 {
			f := func(get func(loadgen.PhaseSummary) (float64, bool), format func(float64) string, missing string) string {
				return phaseFigure(st.measured, s.phase, get).text(format, missing)
			}
			q := func(get func(loadgen.PhaseSummary) (loadgen.Quantiles, bool), missing string) string {
				return phaseQuant(st.measured, s.phase, get, 0.99).text(fmtSeconds, missing)
			}
			var growth figure
			for _, vd := range st.verdicts {
				growth.vals = append(growth.vals, vd.Growth)
			}
			backlog := "–"
			if backlogQueryOf(arch) != "" {
				backlog = growth.text(fmtNum, "")
			}
			within := "yes"
			switch {
			case !st.judged:
				within = na(st.why)
			case !st.within:
				within = "no: " + st.why
			case len(st.measured) > 1:
				within = fmt.Sprintf("yes (all %d runs)", len(st.measured))
			}
			rows = append(rows, []string{rate, fmt.Sprint(len(st.measured)),
				f(statGet("", func(s loadgen.Stats) float64 { return s.AchievedRate }), fmtReqRate, "not measured"),
				q(opLatency(""), "no request answered"),
				q(opLatency(loadgen.OpUpload), "no upload answered"),
				f(errGet, fmtPct, "not measured"),
				q(readyLatency, "no upload followed until ready"),
				backlog,
				within})
		}
		for _, run := range st.runs {
			if usable(run) {
				if ps, ok := run.Summary.Phase(s.phase); !ok || ps.All.Scheduled == 0 {
					rows = append(rows, []string{rate, fmt.Sprintf("0 (run #%d: nothing measured in %s)", run.Repeat, s.phase), "–", "–", "–", "–", "–", "–",
						"– (not counted)"})
				}
				continue
			}
			within := "– (the rate is judged on its other runs)"
			if len(st.measured) == 0 {
				within = "no: " + st.why
			}
			errText := run.Error
			if errText == "" {
				errText = "no reason recorded"
			}
			rows = append(rows, []string{rate, fmt.Sprintf("0 (run #%d failed: %s)", run.Repeat, errText), "–", "–", "–", "–", "–", "–", within})
		}
	}
	d.add(table{caption: fmt.Sprintf("Rate sweep — %s (%s phase)", archName(arch), s.phase),
		header: []string{"offered rate", "n (runs)", "achieved rate", "ack p99, all operations", "ack p99, uploads", "errors (incl. dropped)", "upload-to-ready p99",
			"backlog growth over the 2nd half", fmt.Sprintf("within the SLO (%s)?", v.sloText())},
		rows: rows,
		notes: []string{"Latency cells show p99 where every run's histogram backs it (" + supportRule() + "), else the highest percentile backed, " +
			"with the sample count; the SLO is judged on p99 regardless (see the rule above)."}})
}

// backlogQueryOf is the series of arch's backlog the SLO check reads ("" for
// the sync monolith, which has none).
func backlogQueryOf(arch string) string { return results.BacklogQuery(arch) }

// sweepMedian is the median over a step's measured runs of get (NaN when none).
func sweepMedian(st *sweepStep, phase string, get func(loadgen.PhaseSummary) (float64, bool)) float64 {
	return phaseFigure(st.measured, phase, get).value()
}

func (v *view) sweepChart(d *doc, s *sweep, file string) {
	full := sloOf(v.r)
	slo := full.AckP99
	ackP := svg.Panel{YLabel: fmt.Sprintf("p99 in %s (s)", s.phase), LogY: true, YTick: secondsTick, Empty: "no run measured the swept phase"}
	errP := svg.Panel{YLabel: "errors incl. dropped (% of scheduled)", YTick: fmtPct, Empty: "no run measured the swept phase"}
	lo, hi := s.rates[0], s.rates[len(s.rates)-1]
	var unmarked []string
	minN, maxN := int64(math.MaxInt64), int64(0)
	for _, a := range s.archs {
		var all, ready, errs []svg.Point
		for _, st := range s.steps[a] {
			all = append(all, svg.Point{X: st.rate, Y: sweepMedian(st, s.phase, latGet("", qP99))})
			for _, q := range phaseQuantiles(st.measured, s.phase, opLatency("")) {
				minN, maxN = min(minN, q.Count), max(maxN, q.Count)
			}
			ready = append(ready, svg.Point{X: st.rate, Y: sweepMedian(st, s.phase, latReady(qP99))})
			errs = append(errs, svg.Point{X: st.rate, Y: sweepMedian(st, s.phase, func(ps loadgen.PhaseSummary) (float64, bool) {
				e := errShare(ps.All)
				return e, finite(e)
			})})
		}
		ackP.Lines = append(ackP.Lines,
			svg.Line{Name: archName(a) + " p99, all operations", Colour: archColour(a, false), Width: 2.2, Points: all, Dots: true},
			svg.Line{Name: archName(a) + " p99 ready", Colour: archColour(a, true), Dash: svg.DashDashed, Width: 1.5, Points: ready, Dots: true})
		errP.Lines = append(errP.Lines, svg.Line{Name: archName(a) + " errors", Colour: archColour(a, false), Width: 2.2, Points: errs, Dots: true})
		if !hasSLO(full) {
			continue
		}
		k := kneeOf(s.steps[a], full)
		switch k.kind {
		case kneeAt, kneeAtLeast:
			var y float64
			for _, p := range all {
				if p.X == k.rate {
					y = p.Y
				}
			}
			label := fmt.Sprintf("%s knee: %s", archName(a), fmtReqRate(k.rate))
			if k.kind == kneeAtLeast {
				label = fmt.Sprintf("%s knee ≥ %s", archName(a), fmtReqRate(k.rate))
			}
			if finite(y) && y > 0 {
				ackP.Marks = append(ackP.Marks, svg.Mark{X: k.rate, Y: y, Label: label})
			}
		case kneeBelow:
			unmarked = append(unmarked, fmt.Sprintf("%s's knee is below the lowest rate swept (%s)", archName(a), fmtReqRate(k.lowest)))
		}
	}
	if full.ReadyP99 > 0 {
		r := full.ReadyP99
		ackP.Lines = append(ackP.Lines, svg.Line{Name: "SLO: p99 ready < " + trimZeros(fmtSeconds(r)), Colour: svg.Neutral, Dash: svg.DashDotted, Width: 1.4, Points: []svg.Point{{X: lo, Y: r}, {X: hi, Y: r}}})
	}
	if slo > 0 {
		ackP.Lines = append(ackP.Lines, svg.Line{Name: "SLO: p99 ack < " + trimZeros(fmtSeconds(slo)), Colour: svg.Neutral, Dash: svg.DashDashed, Width: 1.4, Points: []svg.Point{{X: lo, Y: slo}, {X: hi, Y: slo}}})
		errP.Lines = append(errP.Lines, svg.Line{Name: "limit: errors < " + fmtPct(errorLimit), Colour: svg.Neutral, Dash: svg.DashDotted, Width: 1.4, Points: []svg.Point{{X: lo, Y: errorLimit}, {X: hi, Y: errorLimit}}})
	}
	title := "Rate sweep: p99 ack and ready latency and errors against the offered rate"
	pad := 0.04 * (hi - lo) // room for the knee marks at the ends
	if pad <= 0 {
		pad = 1
	}
	c := svg.LineChart{Title: title, XLabel: fmt.Sprintf("offered rate in the %s phase (req/s)", s.phase), XMin: lo - pad, XMax: hi + pad, Panels: []svg.Panel{ackP, errP}}
	caption := fmt.Sprintf("From the load generator's summary of the %s phase of each run of the sweep: top, the p99 ack latency of all operations (solid) and the "+
		"p99 upload-to-ready latency (dashed, light), from each request's intended start; bottom, errors and dropped requests as a share of those scheduled. Each point "+
		"is the median over the runs at that rate; a rate without a measured run is a gap.", s.phase)
	if maxN > 0 {
		caption += fmt.Sprintf(" The ack p99s rest on %d–%d samples per run", minN, maxN)
		if !backed(0.99, minN) {
			caption += " (fewer than the 1,000 a p99 needs: below that, a point is close to the largest value, which is what the SLO check reads)"
		}
		caption += "."
	}
	if hasSLO(full) {
		caption += fmt.Sprintf(" The SLO's latency targets (%s) and the %s error limit are the grey lines; each architecture's knee is circled. "+
			"The backlog part of the SLO is in the tables.", v.sloText(), fmtPct(errorLimit))
	}
	if len(unmarked) > 0 {
		caption += " Not marked: " + strings.Join(unmarked, "; ") + "."
	}
	d.add(chart{file: file, title: "Rate sweep and knee", caption: caption, svg: c.Render()})
}

// rowKnee is the trade-off row of the first sweep's knees.
func (v *view) rowKnee() []string {
	s := v.sweeps[0]
	label := fmt.Sprintf("Knee (highest rate within the SLO: %s)", v.sloText())
	if !hasSLO(sloOf(v.r)) {
		return v.row("Knee (highest rate within the SLO)", func(string) string { return na("no SLO recorded") }, "No SLO was recorded: the sweep has no knee.")
	}
	knees := map[string]knee{}
	cell := func(arch string) string {
		steps, ok := s.steps[arch]
		if !ok || len(steps) == 0 {
			return na("not swept")
		}
		k := kneeOf(steps, sloOf(v.r))
		knees[arch] = k
		c := fmt.Sprintf("%s (%d rates, %s)", k.text(), len(steps), k.runsText())
		if cp := capacityOf(s, arch, k); cp.ok {
			c += "; capacity " + cp.text()
		}
		return c
	}
	cells := map[string]string{}
	for _, a := range v.archs {
		cells[a] = cell(a)
	}
	cmp := func(a, b string) (string, int, bool) {
		ka, oka := knees[a]
		kb, okb := knees[b]
		switch {
		case !oka && !okb:
			return fmt.Sprintf("neither %s nor %s was swept", v.subj(a), v.subj(b)), dirSame, false
		case !oka:
			return v.subj(a) + " was not swept", dirSame, false
		case !okb:
			return v.subj(b) + " was not swept", dirSame, false
		}
		return v.kneeSentence(a, b, ka, kb)
	}
	sentence := v.compare("the difference in the knee", cmp)
	if !v.three() {
		// Two architectures: the old wording, "neither architecture was swept".
		sentence = strings.Replace(sentence, "neither the monolith nor event-driven was swept", "neither architecture was swept", 1)
	}
	return v.row(label, func(a string) string { return cells[a] }, sentence)
}

// kneeSubj names an architecture in a knee sentence.
func (v *view) kneeSubj(a string) string {
	if a == archEvent {
		return "the event-driven app"
	}
	return v.subj(a)
}

// holdsFurther reports whether knee x holds the SLO further than y, where
// that can be told.
func holdsFurther(x, y knee) bool {
	switch {
	case x.kind == kneeAtLeast && y.kind != kneeAtLeast:
		return true
	case x.kind == kneeAt && y.kind == kneeBelow:
		return true
	case x.kind == kneeAt && y.kind == kneeAt:
		return x.rate > y.rate
	}
	return false
}

// kneeSentence compares the knees of architectures m and e, and says how
// the knee moves from m to e.
func (v *view) kneeSentence(mArch, eArch string, m, e knee) (string, int, bool) {
	dir := dirSame
	switch {
	case holdsFurther(e, m):
		dir = dirBetter
	case holdsFurther(m, e):
		dir = dirWorse
	}
	type side struct {
		arch string
		k    knee
	}
	a, b := side{mArch, m}, side{eArch, e}
	// b is the one that holds the SLO further, where that can be told.
	if holdsFurther(a.k, b.k) {
		a, b = b, a
	}
	hi, lo := v.kneeSubj(b.arch), v.kneeSubj(a.arch)
	both := "both architectures"
	if v.three() {
		both = "both " + v.subj(mArch) + " and " + v.kneeSubj(eArch)
	}
	switch {
	case b.k.kind == kneeAt && a.k.kind == kneeAt && b.k.rate == a.k.rate:
		return fmt.Sprintf("%s hold the SLO up to %s", both, fmtReqRate(b.k.rate)), dir, true
	case b.k.kind == kneeAt && a.k.kind == kneeAt:
		return fmt.Sprintf("%s holds the SLO up to %s, %s %s's %s", hi, fmtReqRate(b.k.rate), fmtRatio(b.k.rate/a.k.rate), lo, fmtReqRate(a.k.rate)), dir, true
	case b.k.kind == kneeAtLeast && a.k.kind == kneeAtLeast:
		if a.k.highest == b.k.highest {
			return fmt.Sprintf("%s held the SLO at every rate swept, up to %s: the sweep did not reach either knee", both, fmtReqRate(b.k.highest)), dir, true
		}
		return fmt.Sprintf("%s held the SLO at every rate swept (%s up to %s, %s up to %s): the sweep did not reach either knee",
			both, hi, fmtReqRate(b.k.highest), lo, fmtReqRate(a.k.highest)), dir, true
	case b.k.kind == kneeAtLeast && a.k.kind == kneeAt:
		s := fmt.Sprintf("%s held the SLO at every rate swept, up to %s, %s only up to %s", hi, fmtReqRate(b.k.highest), lo, fmtReqRate(a.k.rate))
		if b.k.highest > a.k.rate {
			s += fmt.Sprintf(": at least %s its knee", fmtRatio(b.k.highest/a.k.rate))
		}
		return s, dir, true
	case b.k.kind == kneeAtLeast && a.k.kind == kneeBelow:
		return fmt.Sprintf("%s held the SLO at every rate swept, up to %s; %s missed it even at the lowest (%s)", hi, fmtReqRate(b.k.highest), lo, fmtReqRate(a.k.lowest)), dir, true
	case b.k.kind == kneeAt && a.k.kind == kneeBelow:
		return fmt.Sprintf("%s holds the SLO up to %s; %s missed it even at the lowest rate swept (%s)", hi, fmtReqRate(b.k.rate), lo, fmtReqRate(a.k.lowest)), dir, true
	case b.k.kind == kneeBelow && a.k.kind == kneeBelow:
		neither := "neither architecture"
		if v.three() {
			neither = "neither " + v.subj(mArch) + " nor " + v.kneeSubj(eArch)
		}
		if a.k.lowest == b.k.lowest {
			return fmt.Sprintf("%s held the SLO even at the lowest rate swept (%s)", neither, fmtReqRate(b.k.lowest)), dir, true
		}
		return fmt.Sprintf("%s held the SLO even at the lowest rate swept (%s %s, %s %s)", neither, hi, fmtReqRate(b.k.lowest), lo, fmtReqRate(a.k.lowest)), dir, true
	}
	return fmt.Sprintf("%s %s, %s %s", archName(mArch), m.text(), archName(eArch), e.text()), dirSame, false
}
