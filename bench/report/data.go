package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/photobench/photobench/bench/report/svg"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/loadgen"
)

const (
	archMonolith = results.Monolith
	archAsync    = results.MonolithAsync
	archEvent    = results.EventDriven
)

// qJobs is the captured series of the asynchronous monolith's job backlog:
// River's unfinished jobs by state (photobench_monolith_jobs).
const qJobs = results.QJobs

// archName is an architecture's display name.
func archName(a string) string {
	switch a {
	case archMonolith:
		return "monolith"
	case archAsync:
		return "async monolith"
	case archEvent:
		return "event-driven"
	}
	return a
}

// isMonolith reports whether a is one of the two monoliths: one process,
// one database, no replicas.
func isMonolith(a string) bool { return a == archMonolith || a == archAsync }

// backlogQuery is the captured series that is architecture a's backlog:
// the async monolith's job queue, the event-driven functions' consumer lag.
// The sync monolith has none: a request either completes or fails.
func backlogQuery(a string) string {
	if a == archAsync {
		return qJobs
	}
	return results.QLag
}

// backlogUnit is what a's backlog counts.
func backlogUnit(a string) string {
	if a == archAsync {
		return "jobs"
	}
	return "messages"
}

// usable reports whether a run has figures (a failed run has none).
func usable(r results.Run) bool { return r.Status != results.StatusFailed }

// offset is t in seconds from the run's start.
func offset(run *results.Run, t time.Time) float64 { return t.Sub(run.Start).Seconds() }

func unix(t time.Time) float64 { return float64(t.UnixMilli()) / 1e3 }

// tv is one sample: unix seconds and a value.
type tv struct{ t, v float64 }

// sumAt sums the series that keep accepts at each sample time.
func sumAt(ss []results.Series, keep func(map[string]string) bool) []tv {
	sums := map[float64]float64{}
	for _, s := range ss {
		if keep != nil && !keep(s.Labels) {
			continue
		}
		for _, p := range s.Points {
			sums[p[0]] += p[1]
		}
	}
	out := make([]tv, 0, len(sums))
	for t, v := range sums {
		out = append(out, tv{t, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].t < out[j].t })
	return out
}

// groupAt is sumAt per value of label.
func groupAt(ss []results.Series, label string, keep func(map[string]string) bool) map[string][]tv {
	groups := map[string][]results.Series{}
	for _, s := range ss {
		if keep != nil && !keep(s.Labels) {
			continue
		}
		groups[s.Labels[label]] = append(groups[s.Labels[label]], s)
	}
	out := map[string][]tv{}
	for k, g := range groups {
		out[k] = sumAt(g, nil)
	}
	return out
}

// toPts turns samples into chart points, x in seconds from the run's start.
func toPts(run *results.Run, s []tv) []svg.Point {
	out := make([]svg.Point, len(s))
	st := unix(run.Start)
	for i, p := range s {
		out[i] = svg.Point{X: p.t - st, Y: p.v}
	}
	return out
}

// growth is how much a counter grew over the run's captured window (from
// CaptureMargin before its start to CaptureMargin after its drain): a
// series sampled at the window's first instant counts from that sample, one
// born later (a replica started inside the run) from 0, and a drop (a
// restart) from 0 (results.Series.Increase).
func growth(run *results.Run, s results.Series) float64 {
	return s.Increase(run.Start.Add(-results.CaptureMargin), run.Drain.Add(results.CaptureMargin))
}

// timeline returns a run's per-second points of op, sorted by time.
func timeline(run *results.Run, op string) []results.Point {
	var out []results.Point
	for _, p := range run.Timeline {
		if p.Op == op && p.Count > 0 {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].T < out[j].T })
	return out
}

// phaseFigure collects get over the runs' summaries of the named phase.
func phaseFigure(runs []results.Run, phase string, get func(loadgen.PhaseSummary) (float64, bool)) figure {
	var f figure
	for _, r := range runs {
		ps, ok := r.Summary.Phase(phase)
		if !ok {
			continue
		}
		if v, ok := get(ps); ok && finite(v) {
			f.vals = append(f.vals, v)
		}
	}
	return f
}

// phaseQuantiles collects the histogram get returns over the runs'
// summaries of the named phase.
func phaseQuantiles(runs []results.Run, phase string, get func(loadgen.PhaseSummary) (loadgen.Quantiles, bool)) []loadgen.Quantiles {
	var out []loadgen.Quantiles
	for _, r := range runs {
		if ps, ok := r.Summary.Phase(phase); ok {
			if q, ok := get(ps); ok && q.Count > 0 {
				out = append(out, q)
			}
		}
	}
	return out
}

// phaseQuant is quantFigure over the runs' summaries of phase.
func phaseQuant(runs []results.Run, phase string, get func(loadgen.PhaseSummary) (loadgen.Quantiles, bool), want float64) qfig {
	return quantFigure(phaseQuantiles(runs, phase, get), want)
}

// opLatency and readyLatency are the histograms of an operation's ack
// latency ("" for all of them) and of upload-to-ready.
func opLatency(op loadgen.Op) func(loadgen.PhaseSummary) (loadgen.Quantiles, bool) {
	get := opStats(op)
	return func(ps loadgen.PhaseSummary) (loadgen.Quantiles, bool) {
		st, ok := get(ps)
		return st.Latency, ok && st.Latency.Count > 0
	}
}

func readyLatency(ps loadgen.PhaseSummary) (loadgen.Quantiles, bool) {
	if ps.Ready == nil || ps.Ready.Latency.Count == 0 {
		return loadgen.Quantiles{}, false
	}
	return ps.Ready.Latency, true
}

// Getters of phase figures.
func opStats(op loadgen.Op) func(loadgen.PhaseSummary) (loadgen.Stats, bool) {
	return func(ps loadgen.PhaseSummary) (loadgen.Stats, bool) {
		if op == "" {
			return ps.All, ps.All.Scheduled > 0
		}
		st, ok := ps.Ops[op]
		return st, ok
	}
}

func statGet(op loadgen.Op, f func(loadgen.Stats) float64) func(loadgen.PhaseSummary) (float64, bool) {
	get := opStats(op)
	return func(ps loadgen.PhaseSummary) (float64, bool) {
		st, ok := get(ps)
		if !ok {
			return 0, false
		}
		return f(st), true
	}
}

// latGet reads a latency quantile, only when something was measured.
func latGet(op loadgen.Op, q func(loadgen.Quantiles) float64) func(loadgen.PhaseSummary) (float64, bool) {
	get := opStats(op)
	return func(ps loadgen.PhaseSummary) (float64, bool) {
		st, ok := get(ps)
		if !ok || st.Latency.Count == 0 {
			return 0, false
		}
		return q(st.Latency), true
	}
}

func readyGet(f func(loadgen.ReadySummary) float64, needLatency bool) func(loadgen.PhaseSummary) (float64, bool) {
	return func(ps loadgen.PhaseSummary) (float64, bool) {
		if ps.Ready == nil || (needLatency && ps.Ready.Latency.Count == 0) {
			return 0, false
		}
		return f(*ps.Ready), true
	}
}

func qP99(q loadgen.Quantiles) float64 { return q.P99 }
func qMax(q loadgen.Quantiles) float64 { return q.Max }

// overlapPhase returns the non-warm-up phase of run that overlaps w the most.
func overlapPhase(run *results.Run, w results.Window) (string, bool) {
	best, bestD := "", time.Duration(0)
	for _, ph := range run.Phases {
		s, e := ph.Start, ph.End
		if w.Start.After(s) {
			s = w.Start
		}
		if w.End.Before(e) {
			e = w.End
		}
		if d := e.Sub(s); d > bestD {
			best, bestD = ph.Name, d
		}
	}
	return best, best != ""
}

// coldBuckets is one cold-start histogram: cumulative counts by bucket
// bound, grown over the run.
type coldBuckets struct {
	function, phase string
	les             []float64 // sorted, +Inf last
	cum             []float64
}

func (c coldBuckets) total() float64 {
	if len(c.cum) == 0 {
		return 0
	}
	return c.cum[len(c.cum)-1]
}

// quantile is the bound of the first bucket holding the q-th observation
// (an upper bound of the quantile); Inf when beyond the last finite bound.
func (c coldBuckets) quantile(q float64) float64 {
	n := c.total()
	if n == 0 {
		return math.NaN()
	}
	for i, v := range c.cum {
		if v >= q*n-1e-9 {
			return c.les[i]
		}
	}
	return math.Inf(1)
}

// boundText is the histogram's quantile q as an upper bound, when its
// count backs q: "p99 ≤ 1.00 s"; otherwise the highest quantile below q
// that is backed, with the count ("p50 ≤ 250 ms (n=4; too few for p99)"),
// or the largest bucket reached.
func (c coldBuckets) boundText(q float64) string {
	n := int64(c.total())
	level := backedLevel(q, n)
	if level == q {
		return pctName(q) + " ≤ " + fmtBound(c.quantile(q))
	}
	name, v := "max", c.quantile(1)
	if level > 0 {
		name, v = pctName(level), c.quantile(level)
	}
	return fmt.Sprintf("%s ≤ %s (n=%d; too few for %s)", name, fmtBound(v), n, pctName(q))
}

// coldStarts reads the runtime's cold-start histograms grown over the run,
// by function and phase; merged (!byFunction), they are grouped by phase
// only and leave out the functions a timer invokes (the reconciler: each of
// its runs is a cold start by design, not one a request waited for).
func coldStarts(run *results.Run, byFunction bool) []coldBuckets {
	type key struct{ fn, ph string }
	byKey := map[key]map[float64]float64{}
	for _, s := range run.Series[results.QColdStarts] {
		if f, ok := deploy.Lookup(s.Labels["function"]); ok && f.Timer && !byFunction {
			continue
		}
		le, err := parseLe(s.Labels["le"])
		if err != nil {
			continue
		}
		k := key{s.Labels["function"], s.Labels["phase"]}
		if !byFunction {
			k.fn = ""
		}
		if byKey[k] == nil {
			byKey[k] = map[float64]float64{}
		}
		byKey[k][le] += growth(run, s)
	}
	var out []coldBuckets
	for k, m := range byKey {
		c := coldBuckets{function: k.fn, phase: k.ph}
		for le := range m {
			c.les = append(c.les, le)
		}
		sort.Float64s(c.les)
		for _, le := range c.les {
			c.cum = append(c.cum, m[le])
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].function != out[j].function {
			return out[i].function < out[j].function
		}
		return out[i].phase < out[j].phase
	})
	return out
}

func parseLe(s string) (float64, error) {
	if s == "+Inf" || s == "Inf" {
		return math.Inf(1), nil
	}
	return strconv.ParseFloat(s, 64)
}

// componentOrder sorts components: the apps as an upload meets them, then
// the shared vision service, then the stack's servers, then the rest.
func componentOrder(names []string) []string {
	rank := map[string]int{"monolith": 0, "monolith-async": 1, "front": 2, "runtime": 3, "ingest": 4, "query": 5, "thumbnailer": 6,
		"tagger": 7, "catalog": 8, "vision": 9, "postgresql": 10, "kafka": 11, "minio": 12, "prometheus": 13}
	out := append([]string(nil), names...)
	sort.Slice(out, func(i, j int) bool {
		ri, oki := rank[out[i]]
		rj, okj := rank[out[j]]
		switch {
		case oki && okj:
			return ri < rj
		case oki != okj:
			return oki
		}
		return out[i] < out[j]
	})
	return out
}

// lostCounts are what one run lost.
type lostCounts struct {
	dropped, errors, canceled   uint64
	byClass                     map[string]uint64
	ready                       *loadgen.ReadySummary // summed over phases; nil when nothing was followed
	dlq                         map[string]float64
	dlqCaptured, dlqHasAnything bool
	// reconciled is how many object events the reconciler published again
	// (lost notifications it recovered); runs counts its timer runs.
	reconciled, runs, failedRuns float64
	reconciledCaptured           bool
}

func lostOf(run *results.Run) lostCounts {
	l := lostCounts{byClass: map[string]uint64{}, dlq: map[string]float64{}}
	for _, ps := range run.Summary.Phases {
		l.dropped += ps.All.Dropped
		l.errors += ps.All.Errors
		l.canceled += ps.All.Canceled
		for c, n := range ps.All.ErrorsByClass {
			l.byClass[c] += n
		}
		if ps.Ready != nil {
			if l.ready == nil {
				l.ready = &loadgen.ReadySummary{}
			}
			l.ready.Followed += ps.Ready.Followed
			l.ready.Ready += ps.Ready.Ready
			l.ready.Failed += ps.Ready.Failed
			l.ready.Timeouts += ps.Ready.Timeouts
			l.ready.Errors += ps.Ready.Errors
			l.ready.Canceled += ps.Ready.Canceled
			l.ready.Skipped += ps.Ready.Skipped
		}
	}
	ss, ok := run.Series[results.QDLQ]
	l.dlqCaptured = ok
	for _, s := range ss {
		l.dlq[s.Labels["component"]] += growth(run, s)
		l.dlqHasAnything = true
	}
	ss, l.reconciledCaptured = run.Series[results.QReconciled]
	for _, s := range ss {
		l.reconciled += growth(run, s)
	}
	for _, s := range run.Series[results.QScheduledRuns] {
		l.runs += growth(run, s)
		if s.Labels["outcome"] != "ok" {
			l.failedRuns += growth(run, s)
		}
	}
	return l
}

// faultStats are the coupling figures of one run around one fault window.
type faultStats struct {
	run        *results.Run
	fault      results.Window
	from, to   float64 // the fault window, seconds from the run's start
	phase      string
	phaseStats loadgen.Stats // uploads in the phase the fault covered
	havePhase  bool

	// The backlog (backlogQuery: consumer lag, or the job queue), summed
	// over its series.
	haveLag         bool
	preMax          float64 // largest backlog in the 30 s before the fault
	peak, peakAt    float64
	caughtUp        bool
	catchUp         float64 // seconds from the fault's end until lag <= preMax
	lastLagT        float64 // the last lag sample, for "not caught up after"
	readyMax        float64 // longest upload-to-ready of uploads intended during the fault
	haveReady       bool
	acceptedInFault int64 // ready points' counts during the fault
}

// preFaultWindow is how far before a fault its "normal" lag is read.
const preFaultWindow = 30.0

func faultStatsOf(run *results.Run, fault results.Window) faultStats {
	fs := faultStats{run: run, fault: fault, from: offset(run, fault.Start), to: offset(run, fault.End)}
	if ph, ok := overlapPhase(run, fault); ok {
		fs.phase = ph
		if ps, ok := run.Summary.Phase(ph); ok {
			if st, ok := ps.Ops[loadgen.OpUpload]; ok {
				fs.phaseStats, fs.havePhase = st, true
			}
		}
	}
	if ss, ok := run.Series[backlogQuery(run.Arch)]; ok && len(ss) > 0 {
		lag := toPts(run, sumAt(ss, nil))
		fs.haveLag = len(lag) > 0
		for _, p := range lag {
			if p.X >= fs.from-preFaultWindow && p.X < fs.from {
				fs.preMax = math.Max(fs.preMax, p.Y)
			}
		}
		for _, p := range lag {
			if p.X >= fs.from && p.Y > fs.peak {
				fs.peak, fs.peakAt = p.Y, p.X
			}
			fs.lastLagT = p.X
		}
		for _, p := range lag {
			if p.X >= fs.to && p.Y <= fs.preMax {
				fs.caughtUp, fs.catchUp = true, p.X-fs.to
				break
			}
		}
	}
	for _, p := range timeline(run, "ready") {
		if p.T >= math.Floor(fs.from) && p.T < fs.to {
			fs.haveReady = true
			fs.readyMax = math.Max(fs.readyMax, p.Max)
			fs.acceptedInFault += p.Count
		}
	}
	return fs
}

// lowerNames lowercases and trims, for loose matching of table headers.
func lowerNames(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

// faultScen is a scenario with fault windows and its reference runs: the
// first usable run of each architecture.
type faultScen struct {
	name string
	ref  map[string]*results.Run
}

// faults returns the first fault's figures of each of archs' reference
// runs (absent when it has none).
func (s faultScen) faults(archs []string) map[string]*faultStats {
	out := map[string]*faultStats{}
	for _, a := range archs {
		run := s.ref[a]
		if run == nil || len(run.Injected()) == 0 {
			continue
		}
		fs := faultStatsOf(run, run.Injected()[0])
		out[a] = &fs
	}
	return out
}

// faultName is the name of the scenario's first fault.
func (s faultScen) faultName(archs []string) string {
	for _, a := range archs {
		if run := s.ref[a]; run != nil && len(run.Injected()) > 0 {
			return run.Injected()[0].Name
		}
	}
	return "the fault"
}

// faultScens lists the scenarios whose usable runs have fault windows, in
// the order their runs appear. The reference scenario uses v.ref.
func (v *view) faultScens() []faultScen {
	var out []faultScen
	idx := map[string]int{}
	for i := range v.r.Runs {
		run := &v.r.Runs[i]
		if !usable(*run) {
			continue
		}
		j, ok := idx[run.Scenario]
		if !ok {
			j = len(out)
			idx[run.Scenario] = j
			ref := map[string]*results.Run{}
			if run.Scenario == v.scenario {
				ref = v.ref
			}
			out = append(out, faultScen{name: run.Scenario, ref: ref})
		}
		if run.Scenario != v.scenario && out[j].ref[run.Arch] == nil {
			out[j].ref[run.Arch] = run
		}
	}
	var kept []faultScen
	for _, s := range out {
		for _, a := range v.archs {
			if run := s.ref[a]; run != nil && len(run.Injected()) > 0 {
				kept = append(kept, s)
				break
			}
		}
	}
	return kept
}

// fileSafe makes a scenario name usable in a chart's file name.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "scenario"
	}
	return b.String()
}
