package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/photobench/photobench/bench/report/svg"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/loadgen"
)

// group is the runs of one scenario on one architecture.
type group struct {
	arch, scenario string
	all            []results.Run
	usable         []results.Run
}

func (v *view) groups() []group {
	var out []group
	idx := map[[2]string]int{}
	for _, run := range v.r.Runs {
		k := [2]string{run.Scenario, run.Arch}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, group{arch: run.Arch, scenario: run.Scenario})
		}
		out[i].all = append(out[i].all, run)
		if usable(run) {
			out[i].usable = append(out[i].usable, run)
		}
	}
	return out
}

// phaseSection is the per-phase tables of every scenario and architecture.
func (v *view) phaseSection(d *doc) {
	d.h(2, "Per phase")
	d.p("Each figure is the median over the runs (n) with its 95%% bootstrap interval [lo–hi] from %d runs on, and the run values in order "+
		"when there are two; with one run, the run's value. Counts are exact. Rates are per second over the span from the phase's first to its last "+
		"request (target: intended starts; achieved: sends). Latency is from the intended start (ack: the HTTP answer; ready: until the photo's "+
		"ready_at); a column's percentile is shown only where every run's histogram backs it (%s), else the highest one that is backed, "+
		"named in the cell with the sample count.", MinRunsForInterval, supportRule())
	gs := v.groups()
	if len(gs) == 0 {
		d.p("No runs.")
		return
	}
	for _, g := range gs {
		d.h(3, fmt.Sprintf("%s — scenario %s", archName(g.arch), g.scenario))
		if len(g.usable) == 0 {
			d.p("No figures: every run of this scenario on %s failed (see the runs table).", archName(g.arch))
			continue
		}
		v.phaseTables(d, g)
	}
}

// phaseTables writes group g's requests and latency tables, a row per
// phase that is not a warm-up.
func (v *view) phaseTables(d *doc, g group) {
	runs := g.usable
	n := len(runs)
	var req, lat [][]string
	nText := fmt.Sprint(n)
	if n < len(g.all) {
		nText = fmt.Sprintf("%d (of %d runs)", n, len(g.all))
	}
	for _, w := range measuredPhases(runs[0]) {
		ph := w.Name
		present := false
		for _, r := range runs {
			if ps, ok := r.Summary.Phase(ph); ok && ps.All.Scheduled > 0 {
				present = true
			}
		}
		if !present {
			req = append(req, []string{ph, nText, "0", "–", "–", "–", "–", "no requests in this phase", ""})
			lat = append(lat, []string{ph, nText, "no requests in this phase"})
			continue
		}
		req = append(req, append([]string{ph, nText}, requestCells(runs, ph)...))
		lat = append(lat, append([]string{ph, nText}, latencyCells(runs, ph)...))
	}
	spread := "one run: its values"
	switch {
	case n >= MinRunsForInterval:
		spread = fmt.Sprintf("%d runs: median [95%% bootstrap interval]", n)
	case n > 1:
		spread = fmt.Sprintf("%d runs: median (run values), no interval", n)
	}
	d.add(table{caption: fmt.Sprintf("Requests — %s, %s (%s)", archName(g.arch), g.scenario, spread),
		header: []string{"phase", "n (runs)", "scheduled", "sent", "ok", "errors", "dropped", "target", "achieved"}, rows: req})
	d.add(table{caption: fmt.Sprintf("Latency — %s, %s (%s)", archName(g.arch), g.scenario, spread),
		header: []string{"phase", "n (runs)", "upload ack p50", "upload ack p99 (or the highest backed)", "upload ack max", "all ops ack p50",
			"all ops ack p99 (or the highest backed)", "all ops ack max", "ready p50", "ready p99 (or the highest backed)", "followed / ready / failed / timeouts", "polls per photo"}, rows: lat})
}

// measuredPhases are run's phases other than warm-ups, or, when it has no
// windows, its summary's phases by name.
func measuredPhases(run results.Run) []results.Window {
	var phases []results.Window
	for _, p := range run.Phases {
		if !p.Warmup {
			phases = append(phases, p)
		}
	}
	if len(phases) == 0 { // no windows: fall back to the summary's phases
		for _, ps := range run.Summary.Phases {
			phases = append(phases, results.Window{Name: ps.Name})
		}
	}
	return phases
}

// phaseText formats the figure get (with its timeline range tl) of phase
// ph over runs, or "not measured".
func phaseText(runs []results.Run, ph string, get func(loadgen.PhaseSummary) (float64, bool), format func(float64) string) string {
	return phaseFigure(runs, ph, get).text(format, "not measured")
}

// requestCells are the requests table's figures of phase ph: the requests
// scheduled, sent, ok, in error and dropped, and the target and achieved
// rates.
func requestCells(runs []results.Run, ph string) []string {
	f := func(get func(loadgen.PhaseSummary) (float64, bool), format func(float64) string) string {
		return phaseText(runs, ph, get, format)
	}
	count := func(c func(loadgen.Stats) uint64) func(loadgen.PhaseSummary) (float64, bool) {
		return statGet("", func(s loadgen.Stats) float64 { return float64(c(s)) })
	}
	return []string{
		f(count(func(s loadgen.Stats) uint64 { return s.Scheduled }), fmtCount),
		f(count(func(s loadgen.Stats) uint64 { return s.Sent }), fmtCount),
		f(count(func(s loadgen.Stats) uint64 { return s.OK }), fmtCount),
		f(count(func(s loadgen.Stats) uint64 { return s.Errors }), fmtCount),
		f(count(func(s loadgen.Stats) uint64 { return s.Dropped }), fmtCount),
		f(statGet("", func(s loadgen.Stats) float64 { return s.TargetRate }), fmtRate("req/s")),
		f(statGet("", func(s loadgen.Stats) float64 { return s.AchievedRate }), fmtRate("req/s")),
	}
}

// latencyCells are the latency table's figures of phase ph: upload and
// all-operation ack latencies, and, when uploads were followed, their
// upload-to-ready latencies, outcomes and polls per photo.
func latencyCells(runs []results.Run, ph string) []string {
	readyCounts := "–"
	polls := "–"
	rp50, rp99 := na("no upload followed"), na("no upload followed")
	if fig := phaseFigure(runs, ph, readyGet(func(r loadgen.ReadySummary) float64 { return float64(r.Followed) }, false)); fig.ok() {
		c := func(get func(loadgen.ReadySummary) uint64) string {
			return phaseFigure(runs, ph, readyGet(func(r loadgen.ReadySummary) float64 { return float64(get(r)) }, false)).text(fmtCount, "")
		}
		readyCounts = strings.Join([]string{c(func(r loadgen.ReadySummary) uint64 { return r.Followed }),
			c(func(r loadgen.ReadySummary) uint64 { return r.Ready }), c(func(r loadgen.ReadySummary) uint64 { return r.Failed }),
			c(func(r loadgen.ReadySummary) uint64 { return r.Timeouts })}, " / ")
		polls = phaseText(runs, ph, readyGet(func(r loadgen.ReadySummary) float64 { return r.PollsPerPhoto }, false), fmtNum)
		rp50 = phaseQuant(runs, ph, readyLatency, 0.5).text(fmtSeconds, "no photo ready or failed")
		rp99 = phaseQuant(runs, ph, readyLatency, 0.99).text(fmtSeconds, "no photo ready or failed")
	}
	q := func(op loadgen.Op, want float64) string {
		return phaseQuant(runs, ph, opLatency(op), want).text(fmtSeconds, "not measured")
	}
	return []string{
		q(loadgen.OpUpload, 0.5), q(loadgen.OpUpload, 0.99),
		phaseText(runs, ph, latGet(loadgen.OpUpload, qMax), fmtSeconds),
		q("", 0.5), q("", 0.99),
		phaseText(runs, ph, latGet("", qMax), fmtSeconds),
		rp50, rp99, readyCounts, polls,
	}
}

// lostSection lists what each run lost, zeros included.
func (v *view) lostSection(d *doc) {
	d.h(2, "What was lost")
	d.p("Per run, warm-up excluded: requests the load generator could not start (dropped at its in-flight cap), errors by class, " +
		"uploads whose photo never became ready (from following them: failed, still pending at the follow timeout, polling errors, " +
		"cut short by the end of the run, not followed), events dead-lettered (growth of the DLQ counters over the run's window), " +
		"and object notifications the reconciler found lost and published again (its timer runs, failed ones, in brackets).")
	classes := []string{"4xx", "5xx", "timeout", "transport", "build"}
	header := []string{"run", "dropped", "errors"}
	for _, c := range classes {
		header = append(header, "errors "+c)
	}
	header = append(header, "canceled", "followed", "ready", "failed", "timeouts", "polling errors", "cut short", "not followed", "DLQ writes", "reconciled")
	var rows [][]string
	for _, run := range v.r.Runs {
		if !usable(run) {
			row := []string{runLabel(run), na("run failed: see the runs table")}
			for range header[2:] {
				row = append(row, "–")
			}
			rows = append(rows, row)
			continue
		}
		l := lostOf(&run)
		row := []string{runLabel(run), fmt.Sprint(l.dropped), fmt.Sprint(l.errors)}
		for _, c := range classes {
			row = append(row, fmt.Sprint(l.byClass[c]))
		}
		row = append(row, fmt.Sprint(l.canceled))
		if l.ready == nil {
			for range 7 {
				row = append(row, na("no upload followed"))
			}
		} else {
			r := l.ready
			for _, x := range []uint64{r.Followed, r.Ready, r.Failed, r.Timeouts, r.Errors, r.Canceled, r.Skipped} {
				row = append(row, fmt.Sprint(x))
			}
		}
		switch {
		case !l.dlqCaptured && isMonolith(run.Arch):
			row = append(row, na("no DLQ in this architecture"))
		case !l.dlqCaptured:
			row = append(row, na("series not captured"))
		case !l.dlqHasAnything:
			row = append(row, "0 (no DLQ series: nothing dead-lettered)")
		default:
			var parts []string
			total := 0.0
			for _, c := range sortedKeys(l.dlq) {
				total += l.dlq[c]
				parts = append(parts, fmt.Sprintf("%s %s", c, fmtCount(l.dlq[c])))
			}
			row = append(row, fmtCount(total)+" ("+strings.Join(parts, ", ")+")")
		}
		switch {
		case !l.reconciledCaptured && isMonolith(run.Arch):
			row = append(row, na("no notifications to lose"))
		case !l.reconciledCaptured:
			row = append(row, na("series not captured"))
		default:
			row = append(row, fmt.Sprintf("%s (%s runs, %s failed)", fmtCount(l.reconciled), fmtCount(l.runs), fmtCount(l.failedRuns)))
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		d.p("No runs.")
		return
	}
	d.add(table{caption: "Lost, per run", header: header, rows: rows})
}

// costSection renders the cost analysis as it is.
func (v *view) costSection(d *doc) {
	d.h(2, "Cost")
	if v.a == nil {
		d.p("No cost analysis was given to the report (no price sheets, or the analysis failed): this report has no cost figures.")
		return
	}
	d.p("The cost model's own tables (package bench/cost), as it computed them; its summary sentences are under the trade-offs above.")
	for _, t := range v.a.Tables {
		d.add(table{caption: t.Title, header: t.Header, rows: t.Rows, notes: t.Notes})
	}
	if c := v.breakEvenChart(); c != nil {
		d.p("The break-even chart (monthly cost against load) is at the top of the report.")
	} else {
		d.p("Break-even chart: n/a (the analysis has no lines).")
	}
	if len(v.a.Assumptions) > 0 {
		d.h(3, "Assumptions")
		d.list(v.a.Assumptions)
	}
}

func (v *view) breakEvenChart() *chart {
	be := v.a.BreakEven
	if len(be.X) == 0 || len(be.Lines) == 0 {
		return nil
	}
	p := svg.Panel{YLabel: be.YLabel, LogY: be.LogY}
	// The sync monolith's lines blue, the async monolith's green,
	// event-driven's orange then other warm hues, dashed, so that several
	// pricing options stay apart.
	nm, nas, ne, no := 0, 0, 0, 0
	for _, l := range be.Lines {
		colour, dash := warm[(2+no)%len(warm)], svg.DashDotted
		switch costArch(l.Name) {
		case archMonolith:
			colour, dash = []string{colMonolith, "#3f8fd0", "#173e7a"}[nm%3], []string{svg.DashSolid, svg.DashDashed, svg.DashDotted}[nm%3]
			nm++
		case archAsync:
			colour, dash = []string{colAsync, "#4dbb9a", "#006b4e"}[nas%3], []string{svg.DashSolid, svg.DashDashed, svg.DashDotted}[nas%3]
			nas++
		case archEvent:
			colour, dash = []string{colEvent, "#a3360f", "#e0a800"}[ne%3], []string{svg.DashSolid, svg.DashDashed, svg.DashDotDash}[ne%3]
			ne++
		default:
			no++
		}
		var pts []svg.Point
		for j, x := range be.X {
			y := math.NaN()
			if j < len(l.Y) {
				y = l.Y[j]
			}
			pts = append(pts, svg.Point{X: x, Y: y})
		}
		p.Lines = append(p.Lines, svg.Line{Name: l.Name, Colour: colour, Dash: dash, Width: 2.2, Points: pts, Dots: len(pts) <= 30})
	}
	var marks []string
	for _, m := range be.Marks {
		p.Marks = append(p.Marks, svg.Mark{X: m.X, Y: m.Y, Label: m.Label})
		marks = append(marks, m.Label)
	}
	title := be.Title
	if title == "" {
		title = "Break-even"
	}
	c := svg.LineChart{Title: title, XLabel: be.XLabel, Panels: []svg.Panel{p}}
	caption := "From the cost analysis (bench/cost): " + title + ", " + be.YLabel + " against " + be.XLabel + "."
	if len(marks) > 0 {
		caption += " Crossovers marked: " + strings.Join(marks, "; ") + "."
	} else {
		caption += " The lines do not cross in the range shown."
	}
	return &chart{file: "break-even", title: title, caption: caption, svg: c.Render()}
}
