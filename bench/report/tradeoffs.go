package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/loadgen"
)

// The trade-off table: one row per question, a cell per architecture, and
// a sentence computed from the two cells.

// fig is phaseFigure over the scenario's usable runs of arch.
func (v *view) fig(arch, phase string, get func(loadgen.PhaseSummary) (float64, bool), tl *tlSpec) figure {
	if phase == "" {
		return figure{}
	}
	return phaseFigure(v.runs[arch], phase, get, tl)
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

// faster compares two latencies (lower is better) as a clause:
// "event-driven acks uploads 9.1x faster at p99 (12.0 ms vs 110 ms)".
func faster(m, e figure, verb, what string) (string, int) {
	if !m.ok() || !e.ok() {
		return "", 0
	}
	mv, ev := m.value(), e.value()
	switch {
	case mv <= 0 || ev <= 0:
		return fmt.Sprintf("%s %s: monolith %s, event-driven %s", verb, what, fmtSeconds(mv), fmtSeconds(ev)), 0
	case math.Max(mv, ev)/math.Min(mv, ev) < 1.1:
		return fmt.Sprintf("both %s within 10%% of each other %s (monolith %s, event-driven %s)", verb, what, fmtSeconds(mv), fmtSeconds(ev)), 0
	case ev < mv:
		return fmt.Sprintf("event-driven %s %s faster %s (%s vs %s)", verbS(verb), fmtRatio(mv/ev), what, fmtSeconds(ev), fmtSeconds(mv)), 1
	default:
		return fmt.Sprintf("the monolith %s %s faster %s (%s vs %s)", verbS(verb), fmtRatio(ev/mv), what, fmtSeconds(mv), fmtSeconds(ev)), -1
	}
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
	ackM, ackE, ackRow := v.rowAck()
	rows = append(rows, ackRow)
	rows = append(rows, v.rowReady(ackM, ackE))
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

func (v *view) rowAck() (figure, figure, []string) {
	tl := &tlSpec{op: string(loadgen.OpUpload), sel: selP99}
	get := latGet(loadgen.OpUpload, qP99)
	m, e := v.fig(archMonolith, v.steady, get, tl), v.fig(archEvent, v.steady, get, tl)
	s, _ := faster(m, e, "ack uploads", "at p99")
	if s == "" {
		s = "no comparison: " + oneMissing(m, e)
	}
	return m, e, []string{fmt.Sprintf("Upload ack latency p99 (%s)", orPhase(v.steady)),
		m.withN(fmtSeconds, v.missing(archMonolith, v.steady)), e.withN(fmtSeconds, v.missing(archEvent, v.steady)), sentence(s)}
}

func oneMissing(m, e figure) string {
	switch {
	case !m.ok() && !e.ok():
		return "neither architecture has the figure"
	case !m.ok():
		return "the monolith has no figure"
	}
	return "event-driven has no figure"
}

func orPhase(p string) string {
	if p == "" {
		return "no such phase"
	}
	return p
}

func (v *view) rowReady(ackM, ackE figure) []string {
	p50 := latReady(qP50)
	p99 := latReady(qP99)
	mk := func(arch string) (figure, figure, string) {
		a := v.fig(arch, v.steady, p50, &tlSpec{op: "ready", sel: selP50})
		b := v.fig(arch, v.steady, p99, &tlSpec{op: "ready", sel: selP99})
		if !a.ok() {
			return a, b, na(v.missing(arch, v.steady) + "; no upload followed until ready")
		}
		return a, b, "p50 " + a.text(fmtSeconds, "") + " / p99 " + b.text(fmtSeconds, "") + fmt.Sprintf(" (n=%d)", len(a.vals))
	}
	m50, m99, mc := mk(archMonolith)
	e50, e99, ec := mk(archEvent)
	s := ""
	if m50.ok() && e50.ok() {
		d50 := e50.value() - m50.value()
		word, readyWinner := "later", -1 // the monolith's photos are ready sooner
		if d50 < 0 {
			word, readyWinner = "sooner", 1
		}
		ready := fmt.Sprintf("photos are ready %s %s on event-driven at p50", fmtSeconds(math.Abs(d50)), word)
		if m99.ok() && e99.ok() {
			d99 := e99.value() - m99.value()
			w99 := "later"
			if d99 < 0 {
				w99 = "sooner"
			}
			ready += fmt.Sprintf(" (%s %s at p99)", fmtSeconds(math.Abs(d99)), w99)
		}
		if ack, winner := faster(ackM, ackE, "ack uploads", "at p99"); ack != "" {
			conj := "and"
			if winner != 0 && winner != readyWinner {
				conj = "but"
			}
			s = ack + ", " + conj + " " + ready
		} else {
			s = ready
		}
	} else {
		s = "no comparison: " + oneMissing(m50, e50)
	}
	return []string{fmt.Sprintf("Upload-to-ready p50/p99 (%s)", orPhase(v.steady)), mc, ec, sentence(s)}
}

func latReady(q func(loadgen.Quantiles) float64) func(loadgen.PhaseSummary) (float64, bool) {
	return readyGet(func(r loadgen.ReadySummary) float64 { return q(r.Latency) }, true)
}

func (v *view) rowThroughput() []string {
	label := fmt.Sprintf("Throughput achieved / target (%s, the phase with the highest target)", orPhase(v.burst))
	type tp struct {
		target, achieved, okRate, okShare figure
		cell                              string
	}
	mk := func(arch string) tp {
		var t tp
		t.target = v.fig(arch, v.burst, statGet("", func(s loadgen.Stats) float64 { return s.TargetRate }), nil)
		t.achieved = v.fig(arch, v.burst, statGet("", func(s loadgen.Stats) float64 { return s.AchievedRate }), nil)
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
	m, e := mk(archMonolith), mk(archEvent)
	s := "no comparison: " + oneMissing(m.okShare, e.okShare)
	if m.okShare.ok() && e.okShare.ok() {
		s = fmt.Sprintf("at %s offered, the monolith answered %s of requests ok (%s), event-driven %s (%s)",
			fmtRate("req/s")(m.target.value()), fmtPct(m.okShare.value()), fmtRate("ok/s")(m.okRate.value()),
			fmtPct(e.okShare.value()), fmtRate("ok/s")(e.okRate.value()))
		if d := e.okRate.value() - m.okRate.value(); math.Abs(d) >= 0.05*math.Max(m.okRate.value(), e.okRate.value()) {
			who := "event-driven"
			if d < 0 {
				who = "the monolith"
			}
			s += fmt.Sprintf(": %s served %s more", who, fmtRate("ok/s")(math.Abs(d)))
		}
	}
	return []string{label, m.cell, e.cell, sentence(s)}
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
		m, e := s.faults()
		rows = append(rows, v.rowOutageErrors(s, "Errors during the fault: "+s.faultName(v.archs)+suffix(s), m, e))
		label := "Backlog peak and catch-up after the fault"
		if suf := suffix(s); suf != "" {
			label += ": " + s.faultName(v.archs) + suf
		}
		rows = append(rows, v.rowBacklog(label, m, e))
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

func (v *view) rowOutageErrors(sc faultScen, label string, m, e *faultStats) []string {
	why := func(arch string) string {
		if sc.ref[arch] == nil {
			if sc.name != v.scenario {
				return "no usable run of " + sc.name
			}
			return v.missing(arch, v.outage)
		}
		return "no fault in this run"
	}
	s := "no comparison: a run without the fault"
	if m != nil && e != nil && m.havePhase && e.havePhase && m.phaseStats.Scheduled > 0 && e.phaseStats.Scheduled > 0 {
		mf := float64(m.phaseStats.Errors) / float64(m.phaseStats.Scheduled)
		ef := float64(e.phaseStats.Errors) / float64(e.phaseStats.Scheduled)
		s = fmt.Sprintf("during the fault the monolith failed %s of uploads (%d), event-driven %s (%d)",
			fmtPct(mf), m.phaseStats.Errors, fmtPct(ef), e.phaseStats.Errors)
		if e.haveLag && e.peak > e.preMax {
			s += fmt.Sprintf("; event-driven's backlog grew from at most %s to %s messages instead", fmtNum(e.preMax), fmtNum(e.peak))
		}
	}
	return []string{label, uploadErrCell(m, why(archMonolith)), uploadErrCell(e, why(archEvent)), sentence(s)}
}

func backlogCell(fs *faultStats, arch string) string {
	if fs == nil {
		return na("no fault in this run")
	}
	if !fs.haveLag {
		if arch == archMonolith {
			return na("no queue: a request either completes or fails")
		}
		return na("no lag series captured")
	}
	s := fmt.Sprintf("peak %s messages at %s", fmtNum(fs.peak), fmtOffset(fs.peakAt))
	if fs.caughtUp {
		s += fmt.Sprintf("; caught up %s after the fault ended", fmtSeconds(fs.catchUp))
	} else {
		s += fmt.Sprintf("; not caught up by the end of the capture (%s after the fault)", fmtSeconds(fs.lastLagT-fs.to))
	}
	return s + " (n=1)"
}

func (v *view) rowBacklog(label string, m, e *faultStats) []string {
	s := "no event-driven run with the fault"
	if e != nil && e.haveLag {
		s = fmt.Sprintf("event-driven's backlog peaked at %s messages (at most %s in the %s before the fault)", fmtNum(e.peak), fmtNum(e.preMax), fmtSeconds(preFaultWindow))
		if e.caughtUp {
			s += fmt.Sprintf(" and was back to that level %s after the fault ended", fmtSeconds(e.catchUp))
		} else {
			s += " and had not drained by the end of the capture"
		}
		if e.haveReady {
			s += fmt.Sprintf("; uploads accepted during the fault took up to %s to be ready", fmtSeconds(e.readyMax))
			if m != nil && m.haveReady {
				s += fmt.Sprintf(" (monolith: %s)", fmtSeconds(m.readyMax))
			}
		}
	} else if e != nil {
		s = "no lag series captured for event-driven"
	}
	return []string{label, backlogCell(m, archMonolith), backlogCell(e, archEvent), sentence(s)}
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

func idleOf(run *results.Run, phase string) idleStats {
	var s idleStats
	w, ok := run.Phase(phase)
	if !ok {
		return s
	}
	s.ok, s.seconds = true, dur(w)
	for comp, v := range run.Increases(results.QProcessCPU, "component", w.Start, w.End) {
		if comp != "vision" {
			s.cpu += v
		}
	}
	comp := run.Increases(results.QComponentCPU, "component", w.Start, w.End)
	for _, srv := range serversOf[run.Arch] {
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
		for _, v := range run.Increases(results.QReplicaSeconds, "", w.Start, w.End) {
			s.replicaSeconds += v
		}
	}
	return s
}

func (v *view) rowIdle() []string {
	label := fmt.Sprintf("Idle replicas / idle cost (%s)", orPhase(v.idle))
	cell := func(arch string) (idleStats, string) {
		run := v.ref[arch]
		if run == nil || v.idle == "" {
			return idleStats{}, na(v.missing(arch, v.idle))
		}
		st := idleOf(run, v.idle)
		if !st.ok {
			return st, na(v.missing(arch, v.idle))
		}
		var parts []string
		switch {
		case st.haveReplicas && st.zeroAfter >= 0:
			parts = append(parts, fmt.Sprintf("0 replicas after %s (mean %s)", fmtSeconds(st.zeroAfter), fmtNum(st.meanReplicas)))
		case st.haveReplicas:
			parts = append(parts, fmt.Sprintf("never at 0 replicas (mean %s)", fmtNum(st.meanReplicas)))
		case arch == archMonolith:
			parts = append(parts, "1 process, always on")
		default:
			parts = append(parts, na("no replica series"))
		}
		if st.haveReplicaSeconds {
			parts = append(parts, fmtNum(st.replicaSeconds)+" replica-s")
		}
		parts = append(parts, fmtCPU(st.cpu)+" incl. "+strings.Join(serversOf[arch], ", "))
		if st.peakMemory > 0 {
			parts = append(parts, "apps' peak "+fmtMB(st.peakMemory))
		}
		return st, strings.Join(parts, "; ") + " (n=1)"
	}
	m, mc := cell(archMonolith)
	e, ec := cell(archEvent)
	if im, ie := v.costCells("idle", "idle cost"); len(im) > 0 || len(ie) > 0 {
		if len(im) > 0 {
			mc += "; idle cost " + optionsText(im)
		}
		if len(ie) > 0 {
			ec += "; idle cost " + optionsText(ie)
		}
	}
	s := "no comparison: a run without the idle phase"
	if m.ok && e.ok {
		s = fmt.Sprintf("over the %s idle phase", fmtSeconds(e.seconds))
		if e.haveReplicas && e.zeroAfter >= 0 {
			s += fmt.Sprintf(" event-driven was at zero replicas after %s", fmtSeconds(e.zeroAfter))
		} else if e.haveReplicas {
			s += " event-driven never reached zero replicas"
		}
		switch {
		case m.cpu > 0 && e.cpu > 0 && math.Max(m.cpu, e.cpu)/math.Min(m.cpu, e.cpu) >= 1.1:
			more, r := "event-driven", e.cpu/m.cpu
			if m.cpu > e.cpu {
				more, r = "the monolith", m.cpu/e.cpu
			}
			s += fmt.Sprintf("; %s used %s the CPU-seconds (%s vs %s, servers included)", more, fmtRatio(r), fmtCPU(math.Max(m.cpu, e.cpu)), fmtCPU(math.Min(m.cpu, e.cpu)))
		default:
			s += fmt.Sprintf("; CPU while idle: monolith %s, event-driven %s (servers included)", fmtCPU(m.cpu), fmtCPU(e.cpu))
		}
		if im, ie := v.costCells("idle", "idle cost"); len(im) > 0 && len(ie) > 0 {
			mv, okm := costValue(im[0])
			var cheaper []string
			for _, o := range ie {
				if ev, ok := costValue(o); ok && okm && mv > 0 {
					cheaper = append(cheaper, fmt.Sprintf("%s %s the monolith's", o.name, ratioWords(ev, mv)))
				}
			}
			if len(cheaper) > 0 {
				s += "; idle cost: " + strings.Join(cheaper, ", ")
			}
		}
	}
	return []string{label, mc, ec, sentence(s)}
}

func (v *view) rowCold() []string {
	label := "Cold start (first requests after idle) p99"
	if v.cold != "" {
		label += fmt.Sprintf(" (%s, all operations)", v.cold)
	}
	get := latGet("", qP99)
	tl := &tlSpec{sel: selP99}
	m, e := v.fig(archMonolith, v.cold, get, tl), v.fig(archEvent, v.cold, get, tl)
	ec := e.withN(fmtSeconds, v.missing(archEvent, v.cold))
	var runtime string
	if run := v.ref[archEvent]; run != nil {
		for _, c := range coldStarts(run, false) {
			if c.phase == "first_request" && c.total() > 0 {
				runtime = fmt.Sprintf("replica start to first answer p99 ≤ %s over %s cold starts (runtime histogram, whole run)", fmtBound(c.quantile(0.99)), fmtCount(c.total()))
			}
		}
	}
	if runtime != "" && e.ok() {
		ec += "; " + runtime
	}
	s, _ := faster(m, e, "answer", "at p99 after the idle gap")
	if s == "" {
		s = "no comparison: " + oneMissing(m, e)
	}
	return []string{label, m.withN(fmtSeconds, v.missing(archMonolith, v.cold)), ec, sentence(s)}
}

// ratioWords says how a compares with b: "2.0x", "about the same as",
// "40% of".
func ratioWords(a, b float64) string {
	switch {
	case b <= 0:
		return "n/a against"
	case math.Max(a, b)/math.Min(a, b) < 1.1:
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

// costCells looks in the analysis's tables for a figure given as text: in
// the first table whose title contains title, the first column whose header
// contains column, on each row; rows are pricing options, named in their
// first cell ("monolith ...", "event-driven ..."). It returns the monolith's
// options and the event-driven ones.
func (v *view) costCells(title, column string) (mono, event []costOption) {
	if v.a == nil {
		return nil, nil
	}
	for _, t := range v.a.Tables {
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
			o := costOption{name: row[0], value: row[col], unit: unit}
			switch l := strings.ToLower(row[0]); {
			case strings.Contains(l, "monolith"):
				mono = append(mono, o)
			case strings.Contains(l, "event"):
				event = append(event, o)
			}
		}
		return mono, event
	}
	return nil, nil
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
		return []string{label, na("no cost analysis"), na("no cost analysis"), "No cost analysis was given to the report."}
	}
	m, e := v.costCells("million", "million")
	if len(m) == 0 || len(e) == 0 {
		s := "The cost analysis has no per-million figure for both architectures; see the Cost section."
		for _, x := range v.a.Sentences {
			if strings.Contains(strings.ToLower(x), "million") {
				s = x
				break
			}
		}
		mc, ec := na("not in the cost tables"), na("not in the cost tables")
		if len(m) > 0 {
			mc = optionsText(m)
		}
		if len(e) > 0 {
			ec = optionsText(e)
		}
		return []string{label, mc, ec, s}
	}
	var parts []string
	mv, okm := costValue(m[0])
	for _, o := range e {
		ev, ok := costValue(o)
		if !okm || !ok || mv <= 0 || ev <= 0 {
			continue
		}
		who := "event-driven"
		if len(e) > 1 {
			who = o.name
		}
		switch {
		case math.Max(mv, ev)/math.Min(mv, ev) < 1.1:
			parts = append(parts, who+" costs about the same as the monolith (within 10%)")
		case ev > mv:
			parts = append(parts, fmt.Sprintf("%s costs %s the monolith's", who, fmtRatio(ev/mv)))
		default:
			parts = append(parts, fmt.Sprintf("%s costs %s of the monolith's (the monolith %s as much)", who, fmtPct(ev/mv), fmtRatio(mv/ev)))
		}
	}
	s := "see the Cost section for the figures' basis"
	if len(parts) > 0 {
		s = "per million photos at the measured load, " + strings.Join(parts, "; ")
	}
	return []string{label, optionsText(m), optionsText(e), sentence(s)}
}

// The static architecture facts: deployables and the network hops of one
// upload. The event-driven app's come from its registry (deploy.Registry);
// a test counts one real upload through each app and compares.
var (
	monolithDeployables = []string{"monolith (1 app process)", "PostgreSQL"}
	// MonolithHops are the monolith's network hops of one upload.
	MonolithHops = []deploy.Hop{
		{From: deploy.Client, To: "monolith", What: "POST /v1/photos", N: 1},
		{From: "monolith", To: deploy.Vision, What: "analyze", N: 1},
		{From: "monolith", To: deploy.PostgreSQL, What: "one transaction: BEGIN, the photo, its thumbnails (one batch), COMMIT", N: 4},
	}
)

// eventDeployables are the event-driven app's processes and servers.
func eventDeployables() []string {
	return append(deploy.Names(), "runtime (scaler + activator)", "Kafka", "MinIO", "PostgreSQL")
}

func countHops(hs []deploy.Hop) int {
	n := 0
	for _, h := range hs {
		n += h.N
	}
	return n
}

func (v *view) rowHops() []string {
	md, ed := len(monolithDeployables), len(eventDeployables())
	mh, eh := countHops(MonolithHops), countHops(deploy.Hops())
	s := fmt.Sprintf("event-driven deploys %d processes to the monolith's %d and an upload crosses the network %d times before its photo is ready instead of %d (%s)",
		ed, md, eh, mh, fmtRatio(float64(eh)/float64(mh)))
	return []string{"Deployables / network hops per upload", fmt.Sprintf("%d / %d", md, mh), fmt.Sprintf("%d / %d", ed, eh), sentence(s)}
}

// hopsSection is the static table of deployables and hops.
func (v *view) hopsSection(d *doc) {
	d.h(2, "Deployables and network hops per upload")
	d.p("What each architecture deploys, and every network exchange one upload causes until its photo is ready: an HTTP request and its answer, a PostgreSQL statement (one round trip once the connection has prepared it; the first use on a connection costs one more), a Kafka message produced, or a Kafka message delivered and its offset committed. Not measured in this run: the table is the apps' registry, which a test holds to the counters of one real upload through each app (the vision service, an external API for both, is not counted as a deployable).")
	d.add(table{caption: "Deployables", header: []string{"architecture", "count", "what"}, rows: [][]string{
		{"monolith", fmt.Sprint(len(monolithDeployables)), strings.Join(monolithDeployables, ", ")},
		{"event-driven", fmt.Sprint(len(eventDeployables())), strings.Join(eventDeployables(), ", ")},
	}})
	var rows [][]string
	for _, arch := range []struct {
		name string
		hops []deploy.Hop
	}{{"monolith", MonolithHops}, {"event-driven", deploy.Hops()}} {
		for _, h := range arch.hops {
			rows = append(rows, []string{arch.name, h.From + " → " + h.To, h.What, fmt.Sprint(h.N)})
		}
		rows = append(rows, []string{arch.name, "total", "", fmt.Sprint(countHops(arch.hops))})
	}
	d.add(table{caption: "Network hops of one upload until ready", header: []string{"architecture", "hop", "what", "count"}, rows: rows})
}
