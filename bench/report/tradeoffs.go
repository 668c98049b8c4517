package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/loadgen"
)

// The trade-off table: one row per question, a cell per architecture, and
// a sentence computed from the cells (see compare).

// fig is phaseFigure over the scenario's usable runs of arch.
func (v *view) fig(arch, phase string, get func(loadgen.PhaseSummary) (float64, bool)) figure {
	if phase == "" {
		return figure{}
	}
	return phaseFigure(v.runs[arch], phase, get)
}

// figs is fig for every architecture run.
func (v *view) figs(phase string, get func(loadgen.PhaseSummary) (float64, bool)) map[string]figure {
	out := map[string]figure{}
	for _, a := range v.archs {
		out[a] = v.fig(a, phase, get)
	}
	return out
}

// quants is phaseQuant for every architecture run, all read at the same
// quantile: the highest up to want that every run of every architecture
// backs.
func (v *view) quants(phase string, get func(loadgen.PhaseSummary) (loadgen.Quantiles, bool), want float64) map[string]qfig {
	out := map[string]qfig{}
	for _, a := range v.archs {
		if phase == "" {
			out[a] = qfig{want: want, level: want}
			continue
		}
		out[a] = phaseQuant(v.runs[a], phase, get, want)
	}
	return commonLevel(out)
}

// row is a trade-off row: its label, a cell per architecture run (in
// v.archs order) and its sentence.
func (v *view) row(label string, cell func(arch string) string, s string) []string {
	r := []string{label}
	for _, a := range v.archs {
		r = append(r, cell(a))
	}
	return append(r, sentence(s))
}

// missing says why an architecture has no figure for a phase.
func (v *view) missing(arch, phase string) string {
	switch {
	case phase == "":
		return "the profile has no such phase"
	case len(v.runs[arch]) == 0:
		for _, a := range v.archs {
			if a == arch {
				return "no usable run"
			}
		}
		return "not run"
	}
	return "not measured in " + phase
}

// spread is the figure's range: its bootstrap interval, or the range of
// its two run values; none with one run.
func (f figure) spread() (lo, hi float64, ok bool) {
	e := f.est()
	switch {
	case e.ci:
		return e.lo, e.hi, true
	case len(f.vals) > 1:
		lo, hi = minMax(f.vals)
		return lo, hi, true
	}
	return 0, 0, false
}

// overlap reports whether two figures' spreads overlap: their difference
// is within the spread.
func overlap(a, b figure) bool {
	alo, ahi, ok1 := a.spread()
	blo, bhi, ok2 := b.spread()
	return ok1 && ok2 && alo <= bhi && blo <= ahi
}

// near reports whether two positive values are within 10% of each other.
func near(a, b float64) bool { return math.Max(a, b)/math.Min(a, b) < 1.1 }

// faster compares two latencies (lower is better) of a and b, named na
// and nb in a sentence and ba and bb bare, as a clause: "event-driven
// acks uploads 9.1x faster at p99 (12.0 ms vs 110 ms)", and the way it
// moves from a to b.
func faster(na, nb, ba, bb string, a, b figure, verb, what string) (string, int) {
	if !a.ok() || !b.ok() {
		return "", dirSame
	}
	av, bv := a.value(), b.value()
	switch {
	case av <= 0 || bv <= 0:
		return fmt.Sprintf("%s %s: %s %s, %s %s", verb, what, ba, fmtSeconds(av), bb, fmtSeconds(bv)), dirSame
	case near(av, bv):
		return fmt.Sprintf("both %s within 10%% of each other %s (%s %s, %s %s)", verb, what, ba, fmtSeconds(av), bb, fmtSeconds(bv)), dirSame
	case overlap(a, b):
		return fmt.Sprintf("both %s within each other's spread %s (%s %s, %s %s)", verb, what, ba, a.text(fmtSeconds, ""), bb, b.text(fmtSeconds, "")), dirSame
	case bv < av:
		return fmt.Sprintf("%s %s %s faster %s (%s vs %s)", nb, verbS(verb), fmtRatio(av/bv), what, fmtSeconds(bv), fmtSeconds(av)), dirBetter
	default:
		return fmt.Sprintf("%s %s %s faster %s (%s vs %s)", na, verbS(verb), fmtRatio(bv/av), what, fmtSeconds(av), fmtSeconds(bv)), dirWorse
	}
}

// fasterOf is faster between architectures a and b.
func (v *view) fasterOf(a, b string, fa, fb figure, verb, what string) (string, int, bool) {
	s, dir := faster(v.subj(a), v.subj(b), archName(a), archName(b), fa, fb, verb, what)
	if s == "" {
		return v.missingOf(a, b, fa.ok(), fb.ok()), dirSame, false
	}
	return s, dir, true
}

// verbS puts a plural verb phrase ("ack uploads") in the third person.
func verbS(v string) string {
	w, rest, _ := strings.Cut(v, " ")
	if rest != "" {
		rest = " " + rest
	}
	return w + "s" + rest
}

func (v *view) tradeoffs() [][]string {
	var rows [][]string
	rows = append(rows, v.rowAck())
	rows = append(rows, v.rowReady())
	rows = append(rows, v.rowThroughput())
	if len(v.sweeps) > 0 {
		rows = append(rows, v.rowKnee())
	}
	rows = append(rows, v.faultRows()...)
	rows = append(rows, v.rowIdle())
	rows = append(rows, v.rowCold())
	rows = append(rows, v.rowCost())
	rows = append(rows, v.rowHops())
	return rows
}

// ackQuants are the steady phase's upload ack p99 of every architecture
// (or the highest quantile every run backs).
func (v *view) ackQuants() map[string]qfig {
	return v.quants(v.steady, opLatency(loadgen.OpUpload), 0.99)
}

// asFigures are the values qs show, as plain figures, and the name of the
// quantile they all show ("p99"; "max" when none is backed).
func asFigures(qs map[string]qfig) (map[string]figure, string) {
	out := map[string]figure{}
	name := ""
	for _, a := range sortedKeys(qs) {
		out[a] = qs[a].asFigure()
		if qs[a].ok() && name == "" {
			name = qs[a].name()
		}
	}
	if name == "" {
		name = "p99"
	}
	return out, name
}

func (v *view) rowAck() []string {
	q := v.ackQuants()
	f, name := asFigures(q)
	s := v.compare("the difference in upload ack latency", func(a, b string) (string, int, bool) {
		return v.fasterOf(a, b, f[a], f[b], "ack uploads", "at "+name)
	})
	return v.row(fmt.Sprintf("Upload ack latency p99, or the highest percentile backed (%s)", orPhase(v.steady)),
		func(a string) string { return q[a].withN(fmtSeconds, v.missing(a, v.steady)) }, s)
}

func orPhase(p string) string {
	if p == "" {
		return "no such phase"
	}
	return p
}

func (v *view) rowReady() []string {
	ack, ackName := asFigures(v.ackQuants())
	q50 := v.quants(v.steady, readyLatency, 0.5)
	q99 := v.quants(v.steady, readyLatency, 0.99)
	p50, n50 := asFigures(q50)
	p99, n99 := asFigures(q99)
	cell := func(arch string) string {
		a, b := q50[arch], q99[arch]
		if !a.ok() {
			return na(v.missing(arch, v.steady) + "; no upload followed until ready")
		}
		return a.text(fmtSeconds, "") + " / " + b.text(fmtSeconds, "") + " (" + a.shown().nText() + ")"
	}
	cmp := func(a, b string) (string, int, bool) {
		a50, b50 := p50[a], p50[b]
		if !a50.ok() || !b50.ok() {
			return v.missingOf(a, b, a50.ok(), b50.ok()), dirSame, false
		}
		than := ""
		if v.three() {
			than = " than on " + v.subj(a)
		}
		var ready string
		dir := dirSame
		if d := b50.value() - a50.value(); near(a50.value(), b50.value()) || overlap(a50, b50) {
			ready = fmt.Sprintf("photos are ready within 10%% or the spread of each other at %s (%s %s, %s %s)", n50, archName(a), fmtSeconds(a50.value()),
				archName(b), fmtSeconds(b50.value()))
		} else {
			word := "later"
			dir = dirWorse
			if d < 0 {
				word, dir = "sooner", dirBetter
			}
			ready = fmt.Sprintf("photos are ready %s %s on %s%s at %s", fmtSeconds(math.Abs(d)), word, v.subj(b), than, n50)
			if a99, b99 := p99[a], p99[b]; a99.ok() && b99.ok() {
				d99 := b99.value() - a99.value()
				w99 := "later"
				if d99 < 0 {
					w99 = "sooner"
				}
				ready += fmt.Sprintf(" (%s %s at %s)", fmtSeconds(math.Abs(d99)), w99, n99)
			}
		}
		if s, winner := faster(v.subj(a), v.subj(b), archName(a), archName(b), ack[a], ack[b], "ack uploads", "at "+ackName); s != "" {
			conj := "and"
			if winner != dirSame && dir != dirSame && winner != dir {
				conj = "but"
			}
			return s + ", " + conj + " " + ready, dir, true
		}
		return ready, dir, true
	}
	return v.row(fmt.Sprintf("Upload-to-ready p50/p99 (%s)", orPhase(v.steady)), cell, v.compare("the difference in time until ready", cmp))
}

func latReady(q func(loadgen.Quantiles) float64) func(loadgen.PhaseSummary) (float64, bool) {
	return readyGet(func(r loadgen.ReadySummary) float64 { return q(r.Latency) }, true)
}

// throughput are one architecture's figures in the burst phase.
type throughput struct {
	target, achieved, okRate, okShare figure
	cell                              string
}

func (v *view) throughputOf(arch string) throughput {
	var t throughput
	t.target = v.fig(arch, v.burst, statGet("", func(s loadgen.Stats) float64 { return s.TargetRate }))
	t.achieved = v.fig(arch, v.burst, statGet("", func(s loadgen.Stats) float64 { return s.AchievedRate }))
	for _, run := range v.runs[arch] {
		w, ok1 := run.Phase(v.burst)
		ps, ok2 := run.Summary.Phase(v.burst)
		if ok1 && ok2 && dur(w) > 0 && ps.All.Scheduled > 0 {
			t.okRate.vals = append(t.okRate.vals, float64(ps.All.OK)/dur(w))
			t.okShare.vals = append(t.okShare.vals, float64(ps.All.OK)/float64(ps.All.Scheduled))
		}
	}
	if !t.target.ok() || !t.okRate.ok() {
		t.cell = na(v.missing(arch, v.burst))
		return t
	}
	t.cell = fmt.Sprintf("sent %s of %s target; %s (%s of requests) (n=%d)", t.achieved.text(fmtRate("req/s"), ""),
		t.target.text(fmtRate("req/s"), ""), t.okRate.text(fmtRate("ok/s"), ""), t.okShare.text(fmtPct, ""), len(t.target.vals))
	return t
}

func (v *view) rowThroughput() []string {
	label := fmt.Sprintf("Throughput achieved / target (%s, the phase with the highest target)", orPhase(v.burst))
	tp := map[string]throughput{}
	for _, a := range v.archs {
		tp[a] = v.throughputOf(a)
	}
	cmp := func(a, b string) (string, int, bool) {
		m, e := tp[a], tp[b]
		if !m.okShare.ok() || !e.okShare.ok() {
			return v.missingOf(a, b, m.okShare.ok(), e.okShare.ok()), dirSame, false
		}
		s := fmt.Sprintf("at %s offered, %s answered %s of requests ok (%s), %s %s (%s)",
			fmtRate("req/s")(m.target.value()), v.subj(a), fmtPct(m.okShare.value()), fmtRate("ok/s")(m.okRate.value()),
			v.subj(b), fmtPct(e.okShare.value()), fmtRate("ok/s")(e.okRate.value()))
		d := e.okRate.value() - m.okRate.value()
		if math.Abs(d) < 0.05*math.Max(m.okRate.value(), e.okRate.value()) {
			return s, dirSame, true
		}
		who, dir := v.subj(b), dirBetter
		if d < 0 {
			who, dir = v.subj(a), dirWorse
		}
		return s + fmt.Sprintf(": %s served %s more", who, fmtRate("ok/s")(math.Abs(d))), dir, true
	}
	return v.row(label, func(a string) string { return tp[a].cell }, v.compare("the difference in requests served", cmp))
}

// faultRows are the two fault rows (errors, backlog) of the reference
// scenario; when it injected no fault, those of every scenario that did,
// each named by its fault and scenario.
func (v *view) faultRows() [][]string {
	ref := faultScen{name: v.scenario, ref: v.ref}
	scens := []faultScen{ref}
	suffix := func(faultScen) string { return "" }
	if fs := v.faultScens(); len(fs) > 0 && fs[0].name != v.scenario {
		refHas := false
		for _, s := range fs {
			refHas = refHas || s.name == v.scenario
		}
		if !refHas {
			scens = fs
			suffix = func(s faultScen) string { return fmt.Sprintf(" (%s)", s.name) }
		}
	}
	var rows [][]string
	for _, s := range scens {
		fs := s.faults(v.archs)
		rows = append(rows, v.rowOutageErrors(s, "Errors during the fault: "+s.faultName(v.archs)+suffix(s), fs))
		label := "Backlog peak and catch-up after the fault"
		if suf := suffix(s); suf != "" {
			label += ": " + s.faultName(v.archs) + suf
		}
		rows = append(rows, v.rowBacklog(label, fs))
	}
	return rows
}

func uploadErrCell(fs *faultStats, why string) string {
	if fs == nil {
		return na(why)
	}
	if !fs.havePhase || fs.phaseStats.Scheduled == 0 {
		return na("no uploads in the phase the fault covered")
	}
	st := fs.phaseStats
	return fmt.Sprintf("%d of %d uploads failed (%s; 5xx %d) in %s (n=1)", st.Errors, st.Scheduled,
		fmtPct(float64(st.Errors)/float64(st.Scheduled)), st.ErrorsByClass["5xx"], fs.phase)
}

// errShareTie is how far apart two architectures' shares of failed
// uploads may be and count as the same.
const errShareTie = 0.01

func (v *view) rowOutageErrors(sc faultScen, label string, fs map[string]*faultStats) []string {
	why := func(arch string) string {
		if sc.ref[arch] == nil {
			if sc.name != v.scenario {
				return "no usable run of " + sc.name
			}
			return v.missing(arch, v.outage)
		}
		return "no fault in this run"
	}
	has := func(f *faultStats) bool { return f != nil && f.havePhase && f.phaseStats.Scheduled > 0 }
	cmp := func(a, b string) (string, int, bool) {
		m, e := fs[a], fs[b]
		if !has(m) || !has(e) {
			return fmt.Sprintf("%s without the fault", v.missingOf(a, b, has(m), has(e))), dirSame, false
		}
		mf := float64(m.phaseStats.Errors) / float64(m.phaseStats.Scheduled)
		ef := float64(e.phaseStats.Errors) / float64(e.phaseStats.Scheduled)
		s := fmt.Sprintf("during the fault %s failed %s of uploads (%d), %s %s (%d)",
			v.subj(a), fmtPct(mf), m.phaseStats.Errors, v.subj(b), fmtPct(ef), e.phaseStats.Errors)
		if e.haveLag && e.peak > e.preMax && (m == nil || !m.haveLag) {
			s += fmt.Sprintf("; %s backlog grew from at most %s to %s %s instead", v.possessive(b), fmtNum(e.preMax), fmtNum(e.peak), backlogUnit(b))
		}
		switch {
		case math.Abs(ef-mf) <= errShareTie:
			return s, dirSame, true
		case ef < mf:
			return s, dirBetter, true
		}
		return s, dirWorse, true
	}
	s := v.compare("the difference in failed uploads", cmp)
	if !v.three() {
		if _, _, ok := v.pair(); ok && strings.HasPrefix(s, "no comparison: ") {
			s = "no comparison: a run without the fault"
		}
	}
	return v.row(label, func(a string) string { return uploadErrCell(fs[a], why(a)) }, s)
}

func backlogCell(fs *faultStats, arch string) string {
	if fs == nil {
		return na("no fault in this run")
	}
	if !fs.haveLag {
		if arch == archMonolith {
			return na("no queue: a request either completes or fails")
		}
		if arch == archAsync {
			return na("no job series captured")
		}
		return na("no lag series captured")
	}
	s := fmt.Sprintf("peak %s %s at %s", fmtNum(fs.peak), backlogUnit(arch), fmtOffset(fs.peakAt))
	if fs.caughtUp {
		s += fmt.Sprintf("; caught up %s after the fault ended", fmtSeconds(fs.catchUp))
	} else {
		s += fmt.Sprintf("; not caught up by the end of the capture (%s after the fault)", fmtSeconds(fs.lastLagT-fs.to))
	}
	return s + " (n=1)"
}

// catchUpTie is how far apart two catch-up times may be and count as the
// same: two samples of the 1 s capture.
const catchUpTie = 2.0

// queueClause says how arch's backlog grew and drained around the fault.
func (v *view) queueClause(arch string, fs *faultStats) string {
	if fs == nil {
		return "no " + archName(arch) + " run with the fault"
	}
	if !fs.haveLag {
		return "no backlog series captured for " + archName(arch)
	}
	s := fmt.Sprintf("%s backlog peaked at %s %s (at most %s in the %s before the fault)", v.possessive(arch), fmtNum(fs.peak), backlogUnit(arch),
		fmtNum(fs.preMax), fmtSeconds(preFaultWindow))
	if fs.caughtUp {
		return s + fmt.Sprintf(" and was back to that level %s after the fault ended", fmtSeconds(fs.catchUp))
	}
	return s + " and had not drained by the end of the capture"
}

func (v *view) rowBacklog(label string, fs map[string]*faultStats) []string {
	cell := func(a string) string { return backlogCell(fs[a], a) }
	readyOf := func(a string) (string, bool) {
		if f := fs[a]; f != nil && f.haveReady {
			return fmtSeconds(f.readyMax), true
		}
		return "", false
	}
	if !v.three() {
		a, b, ok := v.pair()
		if !ok {
			return v.row(label, cell, v.alone())
		}
		// The later of the two is the one with a queue (the sync monolith
		// has none).
		s := v.queueClause(b, fs[b])
		if e := fs[b]; e != nil && e.haveLag && e.haveReady {
			s += fmt.Sprintf("; uploads accepted during the fault took up to %s to be ready", fmtSeconds(e.readyMax))
			if r, ok := readyOf(a); ok {
				s += fmt.Sprintf(" (%s: %s)", archName(a), r)
			}
		}
		return v.row(label, cell, s)
	}
	sync, async, event := fs[archMonolith], fs[archAsync], fs[archEvent]
	first := "the sync monolith has no queue to hold a backlog"
	if sync != nil && sync.haveLag {
		first = v.queueClause(archMonolith, sync)
	}
	s := axisTime + ": " + first + ", " + v.queueClause(archAsync, async) + "; " + axisProcess + ": " + v.queueClause(archEvent, event)
	var readies []string
	for _, a := range []string{archAsync, archEvent} {
		if r, ok := readyOf(a); ok {
			readies = append(readies, fmt.Sprintf("%s (%s)", r, archName(a)))
		}
	}
	if len(readies) > 0 {
		s += "; uploads accepted during the fault took up to " + joinAnd(readies) + " to be ready"
		if r, ok := readyOf(archMonolith); ok {
			s += fmt.Sprintf(" (sync monolith: %s)", r)
		}
	}
	if async == nil || event == nil || !async.haveLag || !event.haveLag {
		return v.row(label, cell, s+"; no attribution to an axis without both backlogs")
	}
	s += "; so the backlog itself comes from coupling in time"
	switch {
	case async.caughtUp && event.caughtUp && math.Abs(async.catchUp-event.catchUp) <= catchUpTie:
		s += fmt.Sprintf(", and one process vs many makes no difference to its catch-up beyond %s (%s vs %s)", fmtSeconds(catchUpTie),
			fmtSeconds(async.catchUp), fmtSeconds(event.catchUp))
	case async.caughtUp && event.caughtUp:
		who, by := "the async monolith", event.catchUp-async.catchUp
		if by < 0 {
			who, by = "event-driven", -by
		}
		s += fmt.Sprintf(", and one process vs many changes its catch-up: %s caught up %s sooner", who, fmtSeconds(by))
	case async.caughtUp != event.caughtUp:
		who := "the async monolith"
		if event.caughtUp {
			who = "event-driven"
		}
		s += ", and one process vs many changes its catch-up: only " + who + " caught up within the capture"
	default:
		s += "; neither caught up within the capture"
	}
	return v.row(label, cell, s)
}

// idleStats are one run's figures over the idle phase.
type idleStats struct {
	ok                 bool
	seconds            float64
	cpu                float64 // app processes (vision excluded) and the architecture's servers
	haveReplicas       bool
	meanReplicas       float64
	zeroAfter          float64 // seconds into the phase until no replica was left; -1: never
	replicaSeconds     float64
	haveReplicaSeconds bool
	peakMemory         float64
}

// idleOf reads run's idle phase; servers are the stack's servers its
// architecture needs (their CPU counts).
func idleOf(run *results.Run, phase string, servers []string) idleStats {
	var s idleStats
	w, ok := run.Phase(phase)
	if !ok {
		return s
	}
	s.ok, s.seconds = true, dur(w)
	byComp := run.Increases(results.QProcessCPU, "component", w.Start, w.End)
	for _, comp := range sortedKeys(byComp) { // one order: the same bits every time
		if comp != "vision" {
			s.cpu += byComp[comp]
		}
	}
	comp := run.Increases(results.QComponentCPU, "component", w.Start, w.End)
	for _, srv := range servers {
		s.cpu += comp[srv]
	}
	from, to := unix(w.Start), unix(w.End)
	for _, p := range sumAt(run.Series[results.QProcessMemory], func(l map[string]string) bool { return l["component"] != "vision" }) {
		if p.t >= from && p.t <= to {
			s.peakMemory = math.Max(s.peakMemory, p.v)
		}
	}
	if ss := run.Series[results.QReplicas]; len(ss) > 0 {
		s.zeroAfter = -1
		sum, n := 0.0, 0
		for _, p := range sumAt(ss, nil) {
			if p.t < from || p.t > to {
				continue
			}
			s.haveReplicas = true
			sum += p.v
			n++
			if p.v == 0 && s.zeroAfter < 0 {
				s.zeroAfter = p.t - from
			}
			if p.v > 0 {
				s.zeroAfter = -1
			}
		}
		if n > 0 {
			s.meanReplicas = sum / float64(n)
		}
	}
	if ss := run.Series[results.QReplicaSeconds]; len(ss) > 0 {
		s.haveReplicaSeconds = true
		rs := run.Increases(results.QReplicaSeconds, "", w.Start, w.End)
		for _, k := range sortedKeys(rs) {
			s.replicaSeconds += rs[k]
		}
	}
	return s
}

func (v *view) rowIdle() []string {
	label := fmt.Sprintf("Idle replicas / idle cost (%s)", orPhase(v.idle))
	idleCost := v.costCells("idle", "idle cost")
	st := map[string]idleStats{}
	cell := func(arch string) string {
		run := v.ref[arch]
		if run == nil || v.idle == "" {
			return na(v.missing(arch, v.idle))
		}
		s := idleOf(run, v.idle, v.serversOf(arch))
		st[arch] = s
		if !s.ok {
			return na(v.missing(arch, v.idle))
		}
		var parts []string
		switch {
		case s.haveReplicas && s.zeroAfter >= 0:
			parts = append(parts, fmt.Sprintf("0 replicas after %s (mean %s)", fmtSeconds(s.zeroAfter), fmtNum(s.meanReplicas)))
		case s.haveReplicas:
			parts = append(parts, fmt.Sprintf("never at 0 replicas (mean %s)", fmtNum(s.meanReplicas)))
		case isMonolith(arch):
			parts = append(parts, "1 process, always on")
		default:
			parts = append(parts, na("no replica series"))
		}
		if s.haveReplicaSeconds {
			parts = append(parts, fmtNum(s.replicaSeconds)+" replica-s")
		}
		parts = append(parts, fmtCPU(s.cpu)+" incl. "+strings.Join(v.serversOf(arch), ", "))
		if s.peakMemory > 0 {
			parts = append(parts, "apps' peak "+fmtMB(s.peakMemory))
		}
		c := strings.Join(parts, "; ") + " (n=1)"
		if o := idleCost[arch]; len(o) > 0 {
			c += "; idle cost " + optionsText(o)
		}
		return c
	}
	cells := map[string]string{}
	for _, a := range v.archs {
		cells[a] = cell(a)
	}
	cmp := func(a, b string) (string, int, bool) {
		m, e := st[a], st[b]
		if !m.ok || !e.ok {
			return v.missingOf(a, b, m.ok, e.ok) + " for the idle phase", dirSame, false
		}
		s := fmt.Sprintf("over the %s idle phase", fmtSeconds(e.seconds))
		if e.haveReplicas && e.zeroAfter >= 0 {
			s += fmt.Sprintf(" %s was at zero replicas after %s", v.subj(b), fmtSeconds(e.zeroAfter))
		} else if e.haveReplicas {
			s += fmt.Sprintf(" %s never reached zero replicas", v.subj(b))
		}
		dir := dirSame
		switch {
		case m.cpu > 0 && e.cpu > 0 && !near(m.cpu, e.cpu):
			more, r := v.subj(b), e.cpu/m.cpu
			dir = dirWorse
			if m.cpu > e.cpu {
				more, r, dir = v.subj(a), m.cpu/e.cpu, dirBetter
			}
			s += fmt.Sprintf("; %s used %s the CPU-seconds (%s vs %s, servers included)", more, fmtRatio(r), fmtCPU(math.Max(m.cpu, e.cpu)), fmtCPU(math.Min(m.cpu, e.cpu)))
		default:
			s += fmt.Sprintf("; CPU while idle: %s %s, %s %s (servers included)", archName(a), fmtCPU(m.cpu), archName(b), fmtCPU(e.cpu))
		}
		if im, ie := idleCost[a], idleCost[b]; len(im) > 0 && len(ie) > 0 {
			mv, okm := costValue(im[0])
			var cheaper []string
			for _, o := range ie {
				if ev, ok := costValue(o); ok && okm && mv > 0 {
					cheaper = append(cheaper, fmt.Sprintf("%s %s %s", o.name, ratioWords(ev, mv), v.possessive(a)))
				}
			}
			if len(cheaper) > 0 {
				s += "; idle cost: " + strings.Join(cheaper, ", ")
			}
		}
		return s, dir, true
	}
	s := v.compare("the difference in idle CPU", cmp)
	if !v.three() && strings.HasPrefix(s, "no comparison: ") && len(v.archs) >= 2 {
		s = "no comparison: a run without the idle phase"
	}
	return v.row(label, func(a string) string { return cells[a] }, s)
}

func (v *view) rowCold() []string {
	label := "Cold start (first requests after idle) p99, or the highest percentile backed"
	if v.cold != "" {
		label += fmt.Sprintf(" (%s, all operations)", v.cold)
	}
	q := v.quants(v.cold, opLatency(""), 0.99)
	f, name := asFigures(q)
	var runtime string
	if run := v.ref[archEvent]; run != nil {
		for _, c := range coldStarts(run, false) {
			if c.phase == "first_request" && c.total() > 0 {
				runtime = fmt.Sprintf("replica start to first answer %s over %s cold starts (runtime histogram, whole run)", c.boundText(0.99), fmtCount(c.total()))
			}
		}
	}
	cell := func(a string) string {
		c := q[a].withN(fmtSeconds, v.missing(a, v.cold))
		if a == archEvent && runtime != "" && f[a].ok() {
			c += "; " + runtime
		}
		return c
	}
	s := v.compare("the difference in cold-start latency", func(a, b string) (string, int, bool) {
		return v.fasterOf(a, b, f[a], f[b], "answer", "at "+name+" after the idle gap")
	})
	return v.row(label, cell, s)
}

// ratioWords says how a compares with b: "2.0x", "about the same as",
// "40% of".
func ratioWords(a, b float64) string {
	switch {
	case b <= 0:
		return "n/a against"
	case near(a, b):
		return "about the same as"
	case a > b:
		return fmtRatio(a/b) + ""
	}
	return fmtPct(a/b) + " of"
}

// fmtBound formats a histogram bucket bound.
func fmtBound(le float64) string {
	if math.IsInf(le, 1) {
		return "∞ (beyond the last bucket)"
	}
	return fmtSeconds(le)
}

// costOption is one pricing option's figure from a cost table.
type costOption struct{ name, value, unit string }

// costArch is the architecture a pricing option's name belongs to:
// "async monolith (VM ...)", "monolith (VM ...)", "event-driven (AWS
// Lambda)"; "" when the name says none.
func costArch(name string) string {
	switch l := strings.ToLower(name); {
	case strings.Contains(l, "async"):
		return archAsync
	case strings.Contains(l, "monolith"):
		return archMonolith
	case strings.Contains(l, "event"):
		return archEvent
	}
	return ""
}

// costCells looks in the analysis's tables for a figure given as text: in
// the first table whose title contains title, the first column whose header
// contains column, on each row; rows are pricing options, named in their
// first cell ("monolith ...", "async monolith ...", "event-driven ..."). It
// returns each architecture's options.
func (v *view) costCells(title, column string) map[string][]costOption {
	return costCellsOf(v.a, title, column)
}

// costCellsOf is costCells of analysis a.
func costCellsOf(a *cost.Analysis, title, column string) map[string][]costOption {
	out := map[string][]costOption{}
	if a == nil {
		return out
	}
	for _, t := range a.Tables {
		if !strings.Contains(strings.ToLower(t.Title), title) {
			continue
		}
		col, unit := -1, ""
		for i, h := range lowerNames(t.Header) {
			if i > 0 && strings.Contains(h, column) {
				col = i
				if _, u, ok := strings.Cut(t.Header[i], "("); ok {
					unit = strings.TrimSuffix(strings.TrimSpace(u), ")")
				}
				break
			}
		}
		if col < 0 {
			continue
		}
		for _, row := range t.Rows {
			if len(row) <= col {
				continue
			}
			if a := costArch(row[0]); a != "" {
				out[a] = append(out[a], costOption{name: row[0], value: row[col], unit: unit})
			}
		}
		return out
	}
	return out
}

// optionsText joins pricing options' figures: "value" for one, "value
// (name); ..." for several.
func optionsText(os []costOption) string {
	var parts []string
	for _, o := range os {
		s := o.value
		if o.unit != "" && !strings.HasPrefix(s, "n/a") {
			s += " " + o.unit
		}
		if len(os) > 1 {
			s = o.name + ": " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// costValue is the number a pricing option's figure starts with.
func costValue(o costOption) (float64, bool) {
	if strings.HasPrefix(o.value, "n/a") {
		return 0, false
	}
	return leadingNumber(o.value)
}

func (v *view) rowCost() []string {
	label := "Cost per million photos"
	if v.a == nil {
		return v.row(label, func(string) string { return na("no cost analysis") }, "No cost analysis was given to the report.")
	}
	opts := v.costCells("million", "million")
	cell := func(a string) string {
		if len(opts[a]) == 0 {
			return na("not in the cost tables")
		}
		return optionsText(opts[a])
	}
	priced := 0
	for _, a := range v.archs {
		if len(opts[a]) > 0 {
			priced++
		}
	}
	if priced < 2 {
		s := "The cost analysis has no per-million figure for two architectures or more; see the Cost section."
		for _, x := range v.a.Sentences {
			if strings.Contains(strings.ToLower(x), "million") {
				s = x
				break
			}
		}
		return v.row(label, cell, s)
	}
	cmp := func(a, b string) (string, int, bool) {
		m, e := opts[a], opts[b]
		if len(m) == 0 || len(e) == 0 {
			return v.missingOf(a, b, len(m) > 0, len(e) > 0) + " in the cost tables", dirSame, false
		}
		mv, okm := costValue(m[0])
		ref, refs := v.subj(a), v.possessive(a)
		if len(m) > 1 {
			ref, refs = m[0].name, m[0].name+"'s"
		}
		var parts []string
		dirs := map[int]bool{}
		for _, o := range e {
			ev, ok := costValue(o)
			if !okm || !ok || mv <= 0 || ev <= 0 {
				continue
			}
			who := v.subj(b)
			if len(e) > 1 {
				who = o.name
			}
			switch {
			case near(mv, ev):
				parts = append(parts, who+" costs about the same as "+ref+" (within 10%)")
				dirs[dirSame] = true
			case ev > mv:
				parts = append(parts, fmt.Sprintf("%s costs %s %s", who, fmtRatio(ev/mv), refs))
				dirs[dirWorse] = true
			default:
				parts = append(parts, fmt.Sprintf("%s costs %s of %s (%s %s as much)", who, fmtPct(ev/mv), refs, ref, fmtRatio(mv/ev)))
				dirs[dirBetter] = true
			}
		}
		if len(parts) == 0 {
			return "the cost tables give no comparable figures for " + v.subj(a) + " and " + v.subj(b), dirSame, false
		}
		dir := dirMixed
		if len(dirs) == 1 {
			for d := range dirs {
				dir = d
			}
		}
		return "per million photos at the measured load, " + strings.Join(parts, "; "), dir, true
	}
	return v.row(label, cell, v.compare("the difference in cost", cmp))
}

// The static architecture facts: deployables and the network hops of one
// upload. The event-driven app's come from its registry (deploy.Registry);
// a test counts one real upload through each app and compares.
var (
	// MonolithHops are the monolith's network hops of one upload (with
	// its photos on disk).
	MonolithHops = []deploy.Hop{
		{From: deploy.Client, To: "monolith", What: "POST /v1/photos", N: 1},
		{From: "monolith", To: deploy.Vision, What: "analyze", N: 1},
		{From: "monolith", To: deploy.PostgreSQL, What: "one transaction: BEGIN, the photo, its thumbnails (one batch), COMMIT", N: 4},
	}
	// MonolithAsyncHops are the async monolith's network hops of one
	// upload that its counters tell apart from River's own work, each
	// exactly N.
	MonolithAsyncHops = []deploy.Hop{
		{From: deploy.Client, To: "monolith-async", What: "POST /v1/photos", N: 1},
		{From: "monolith-async", To: deploy.Vision, What: "analyze", N: 1},
	}
	// MonolithAsyncStatements are the PostgreSQL statements on the async
	// monolith's upload path, each step at least N: the statements the
	// monolith's code sends, and one at least for each of River's calls.
	// Exact counts are not to be had: River's background queries (a fetch
	// poll every 200 ms, leader election, maintenance) and the job gauge's
	// count on each scrape share the pool and its counter, and River
	// notifies of an insert at most once per interval per queue, so the
	// count of one upload depends on timing.
	MonolithAsyncStatements = []deploy.Hop{
		{From: "monolith-async", To: deploy.PostgreSQL, What: "the upload's transaction: BEGIN, the photo's pending row, River's job insert, COMMIT", N: 4},
		{From: "monolith-async", To: deploy.PostgreSQL, What: "River's fetch of the job (LISTEN/NOTIFY or a poll)", N: 1},
		{From: "monolith-async", To: deploy.PostgreSQL, What: "the completing transaction: BEGIN, the photo ready, its thumbnails (one batch), River's job completion, COMMIT", N: 5},
	}
)

// deployables are what architecture arch deploys: its processes and the
// servers it needs.
func (v *view) deployables(arch string) []string {
	var out []string
	switch arch {
	case archMonolith:
		out = []string{"monolith (1 app process)", "PostgreSQL"}
	case archAsync:
		out = []string{"monolith --mode async (1 app process: its HTTP server and River's job workers)", "PostgreSQL (its rows and River's job queue)"}
	case archEvent:
		return append(deploy.Names(), "runtime (scaler + activator)", "Kafka", "MinIO", "PostgreSQL")
	default:
		return nil
	}
	if s, _ := v.storageOf(arch); s == "s3" {
		out = append(out, "MinIO (its photos)")
	}
	return out
}

func countHops(hs []deploy.Hop) int {
	n := 0
	for _, h := range hs {
		n += h.N
	}
	return n
}

// hopsOf is how many times one upload through arch crosses the network
// before its photo is ready, and whether that is a lower bound.
func hopsOf(arch string) (n int, atLeast, known bool) {
	switch arch {
	case archMonolith:
		return countHops(MonolithHops), false, true
	case archAsync:
		return countHops(MonolithAsyncHops) + countHops(MonolithAsyncStatements), true, true
	case archEvent:
		return countHops(deploy.Hops()), false, true
	}
	return 0, false, false
}

func hopsText(n int, atLeast bool) string {
	if atLeast {
		return fmt.Sprintf("≥ %d", n)
	}
	return fmt.Sprint(n)
}

func (v *view) rowHops() []string {
	cell := func(a string) string {
		n, atLeast, ok := hopsOf(a)
		if !ok {
			return na("not known to the report")
		}
		return fmt.Sprintf("%d / %s", len(v.deployables(a)), hopsText(n, atLeast))
	}
	cmp := func(a, b string) (string, int, bool) {
		ma, la, oka := hopsOf(a)
		mb, lb, okb := hopsOf(b)
		if !oka || !okb {
			return v.missingOf(a, b, oka, okb), dirSame, false
		}
		da, db := len(v.deployables(a)), len(v.deployables(b))
		word := func(n int, atLeast bool) string {
			if atLeast {
				return fmt.Sprintf("at least %d", n)
			}
			return fmt.Sprint(n)
		}
		s := fmt.Sprintf("%s deploys %d processes to %s %d and an upload crosses the network %s times before its photo is ready instead of %s",
			v.subj(b), db, v.possessive(a), da, word(mb, lb), word(ma, la))
		if !la && !lb && ma > 0 {
			s += fmt.Sprintf(" (%s)", fmtRatio(float64(mb)/float64(ma)))
		}
		switch {
		case da == db:
			return s, dirSame, true
		case db > da:
			return s, dirWorse, true
		}
		return s, dirBetter, true
	}
	return v.row("Deployables / network hops per upload", cell, v.compare("the difference in deployables", cmp))
}

// hopsSection is the static table of deployables and hops.
func (v *view) hopsSection(d *doc) {
	d.h(2, "Deployables and network hops per upload")
	d.p("What each architecture deploys, and every network exchange one upload causes until its photo is ready: an HTTP request and its answer, a PostgreSQL statement (one round trip once the connection has prepared it; the first use on a connection costs one more), a Kafka message produced, or a Kafka message delivered and its offset committed. Not measured in this run: the table is the apps' registry, which a test holds to the counters of one real upload through each app (the vision service, an external API for both, is not counted as a deployable).")
	archs := v.archs
	if len(archs) == 0 {
		archs = []string{archMonolith, archEvent}
	}
	var deps [][]string
	for _, a := range archs {
		if ds := v.deployables(a); ds != nil {
			deps = append(deps, []string{archName(a), fmt.Sprint(len(ds)), strings.Join(ds, ", ")})
		}
	}
	d.add(table{caption: "Deployables", header: []string{"architecture", "count", "what"}, rows: deps})
	var rows [][]string
	var notes []string
	for _, a := range archs {
		switch a {
		case archMonolith:
			rows = append(rows, hopRows(archName(a), MonolithHops, false)...)
			rows = append(rows, []string{archName(a), "total", "", fmt.Sprint(countHops(MonolithHops))})
		case archAsync:
			rows = append(rows, hopRows(archName(a), MonolithAsyncHops, false)...)
			rows = append(rows, hopRows(archName(a), MonolithAsyncStatements, true)...)
			n, _, _ := hopsOf(a)
			rows = append(rows, []string{archName(a), "total", "at least: the PostgreSQL statements are not counted exactly", hopsText(n, true)})
			notes = append(notes, "The async monolith's PostgreSQL statements (≥) are lower bounds, not counts: River's background queries (a fetch poll every 200 ms, "+
				"leader election, maintenance) and the job gauge's count on each scrape go through the same connection pool and the same counter, and River "+
				"notifies of an insert at most once per interval per queue, so the statements of one upload cannot be told apart exactly. The test holds the "+
				"request and the vision call to their exact counts and the pool's statements over the upload to at least the sum shown. Not counted at all: "+
				"River's background queries themselves, which run whether or not anything is uploaded.")
		case archEvent:
			rows = append(rows, hopRows(archName(a), deploy.Hops(), false)...)
			rows = append(rows, []string{archName(a), "total", "", fmt.Sprint(countHops(deploy.Hops()))})
		}
	}
	for _, a := range []string{archMonolith, archAsync} {
		if s, _ := v.storageOf(a); s == "s3" && v.has(a) {
			notes = append(notes, fmt.Sprintf("The %s ran with --storage s3: its files went to MinIO (a PUT for the original and one for each thumbnail, and reads of the original), "+
				"which this table, counted with the photos on disk, does not show.", archName(a)))
		}
	}
	d.add(table{caption: "Network hops of one upload until ready", header: []string{"architecture", "hop", "what", "count"}, rows: rows, notes: notes})
}

// hopRows are the hop table's rows of hops; atLeast marks lower bounds.
func hopRows(name string, hops []deploy.Hop, atLeast bool) [][]string {
	var rows [][]string
	for _, h := range hops {
		rows = append(rows, []string{name, h.From + " → " + h.To, h.What, hopsText(h.N, atLeast)})
	}
	return rows
}
