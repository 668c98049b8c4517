package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/photobench/photobench/bench/report/svg"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/loadgen"
)

// maxGap breaks a per-second line where seconds are missing (nothing was
// sent or measured then).
const maxGap = 2.5

func secondsTick(v float64) string {
	if v == 0 {
		return "0"
	}
	if v >= 100 {
		return compactNum(v) + " s"
	}
	return trimZeros(fmtSeconds(v))
}

// chartSection draws every chart, each with its caption.
func (v *view) chartSection(d *doc) {
	d.h(2, "Charts")
	if len(v.ref) == 0 {
		d.p("No charts: no usable run of scenario %q.", v.scenario)
		return
	}
	var which []string
	for _, a := range v.archs {
		if run := v.ref[a]; run != nil {
			which = append(which, fmt.Sprintf("%s: %s", archName(a), runLabel(*run)))
		}
	}
	var colours []string
	for _, a := range v.archs {
		if v.ref[a] != nil {
			colours = append(colours, fmt.Sprintf("%s %s", archName(a), colourName(a)))
		}
	}
	d.p("The charts show one run per architecture (%s), on a time axis in seconds from each run's start; every run follows the same schedule, "+
		"so their phases line up. Phases are shaded grey and labelled; fault windows are shaded red. Colours: %s.", strings.Join(which, "; "), joinAnd(colours))
	d.p("The upload ack latency, upload-to-ready latency and errors charts are at the top of the report, with the cost chart.")
	v.throughputChart(d)
	v.replicasChart(d)
	v.coldStartSection(d)
	v.resourceSection(d)
	v.couplingSection(d)
}

// glanceSection is the report's first screen: the charts that carry the
// verdict (ack and ready latency over time, errors in the fault, cost per
// million photos against load), above the tables.
func (v *view) glanceSection(d *doc) {
	g := &doc{}
	if len(v.ref) > 0 {
		v.glanceTimeCharts(g)
	}
	if v.a != nil {
		if c := v.breakEvenChart(); c != nil {
			g.add(*c)
		}
	}
	if cs := g.charts(); len(cs) > 0 {
		d.add(gallery{charts: cs})
	}
}

// glanceTimeCharts are the first screen's charts over time.
func (v *view) glanceTimeCharts(g *doc) {
	v.latencyChart(g, "upload-ack", "Upload ack latency over time", string(loadgen.OpUpload), "upload ack latency",
		"From the load generator's per-second interval histograms (Timeline, op upload), latency of the HTTP answer from each request's intended start: "+
			"the largest value of each second (thick) and its p50 (thin, light), drawn only for seconds with at least 20 samples; a per-second p99 would need 1,000 "+
			"samples in the second, so none is drawn. Seconds with no upload are gaps.")
	v.latencyChart(g, "upload-ready", "Upload-to-ready latency over time", "ready", "upload-to-ready latency",
		"From the load generator's per-second histograms of following uploads (Timeline, op ready), placed at the second the upload was intended, from the upload's "+
			"intended start to the photo's ready_at: the largest value of each second (thick) and its p50 (thin, light) where the second has at least 20 samples.")
	v.errorsChart(g)
}

func (v *view) latencyChart(d *doc, file, title, op, what, caption string) {
	lo, hi := v.window()
	p := svg.Panel{YLabel: what + " (s)", LogY: true, YTick: secondsTick}
	for _, a := range v.archs {
		run := v.ref[a]
		if run == nil {
			continue
		}
		var p50, top []svg.Point
		for _, x := range timeline(run, op) {
			if backed(0.5, x.Count) {
				p50 = append(p50, svg.Point{X: x.T, Y: x.P50})
			}
			top = append(top, svg.Point{X: x.T, Y: x.Max})
		}
		p.Lines = append(p.Lines,
			svg.Line{Name: archName(a) + " p50", Colour: archColour(a, true), Width: 1.3, Points: p50, Gap: maxGap},
			svg.Line{Name: archName(a) + " max", Colour: archColour(a, false), Width: 2, Points: top, Gap: maxGap})
	}
	p.Empty = "no timeline points: the load generator's interval log was not captured"
	c := svg.LineChart{Title: title, XLabel: "time since the run's start (s)", XMin: lo, XMax: hi, Shades: v.shades(), Panels: []svg.Panel{p}}
	d.add(chart{file: file, title: title, caption: caption, svg: c.Render()})
}

func (v *view) throughputChart(d *doc) {
	lo, hi := v.window()
	p := svg.Panel{YLabel: "ok answers (req/s)", Empty: "no " + results.QRequestRate + " series captured"}
	for _, a := range v.archs {
		run := v.ref[a]
		if run == nil {
			continue
		}
		s := sumAt(run.Series[results.QRequestRate], func(l map[string]string) bool { return l["outcome"] == "ok" })
		if len(s) == 0 {
			continue
		}
		p.Lines = append(p.Lines, svg.Line{Name: archName(a) + " ok/s", Colour: archColour(a, false), Width: 2, Points: toPts(run, s)})
	}
	c := svg.LineChart{Title: "Throughput: ok answers per second", XLabel: "time since the run's start (s)", XMin: lo, XMax: hi, Shades: v.shades(), Panels: []svg.Panel{p}}
	d.add(chart{file: "throughput", title: "Throughput", caption: "From Prometheus (" + results.QRequestRate + ": the load generator's answers per second, rate over 5 s, outcome ok, summed over operations), 1 s step.", svg: c.Render()})
}

var outcomeDash = map[string]string{"5xx": svg.DashSolid, "4xx": svg.DashDashed, "timeout": svg.DashDotted, "transport": svg.DashDotDash, "dropped": svg.DashLong, "build": svg.DashDotted, "canceled": svg.DashDashed}

func (v *view) errorsChart(d *doc) {
	lo, hi := v.window()
	p := svg.Panel{YLabel: "errors and dropped (req/s)", Empty: "no errors and no dropped requests in either run"}
	var quiet []string
	for _, a := range v.archs {
		run := v.ref[a]
		if run == nil {
			continue
		}
		byOutcome := groupAt(run.Series[results.QRequestRate], "outcome", func(l map[string]string) bool { return l["outcome"] != "ok" })
		for _, o := range sortedKeys(byOutcome) {
			s := byOutcome[o]
			peak := 0.0
			for _, x := range s {
				peak = math.Max(peak, x.v)
			}
			if peak == 0 {
				quiet = append(quiet, archName(a)+" "+o)
				continue
			}
			dash, ok := outcomeDash[o]
			if !ok {
				dash = svg.DashDotDash
			}
			p.Lines = append(p.Lines, svg.Line{Name: archName(a) + " " + o, Colour: archColour(a, false), Dash: dash, Width: 1.8, Points: toPts(run, s)})
		}
	}
	caption := "From Prometheus (" + results.QRequestRate + ", outcomes other than ok: 4xx, 5xx, timeout, transport, build, dropped at the in-flight cap, canceled), rate over 5 s, summed over operations, by outcome; 1 s step."
	if len(quiet) > 0 {
		caption += " Zero throughout (not drawn): " + strings.Join(quiet, ", ") + "."
	}
	c := svg.LineChart{Title: "Errors and dropped requests per second", XLabel: "time since the run's start (s)", XMin: lo, XMax: hi, Shades: v.shades(), Panels: []svg.Panel{p}}
	d.add(chart{file: "errors", title: "Errors and dropped requests", caption: caption, svg: c.Render()})
}

func (v *view) replicasChart(d *doc) {
	run := v.ref[archEvent]
	caption := "From Prometheus (" + results.QReplicas + ": replica processes alive per function, solid; " + results.QDesiredReplicas +
		": what the scaler wanted, dashed), event-driven run, 1 s step. The monoliths have no replicas: one process each, always on."
	if run == nil {
		d.p("Replicas per function: n/a (no usable event-driven run; the monoliths have no replicas).")
		return
	}
	lo, hi := v.window()
	p := svg.Panel{YLabel: "replicas", Empty: "no replica series captured"}
	alive := groupAt(run.Series[results.QReplicas], "function", nil)
	desired := groupAt(run.Series[results.QDesiredReplicas], "function", nil)
	for _, fn := range sortedKeys(alive) {
		p.Lines = append(p.Lines, svg.Line{Name: fn, Colour: functionColour(fn), Width: 2, Points: toPts(run, alive[fn])})
	}
	for _, fn := range sortedKeys(desired) {
		p.Lines = append(p.Lines, svg.Line{Name: fn + " desired", Colour: functionColour(fn), Dash: svg.DashDashed, Width: 1.3, Points: toPts(run, desired[fn])})
	}
	c := svg.LineChart{Title: "Event-driven replicas per function", XLabel: "time since the run's start (s)", XMin: lo, XMax: hi, Shades: v.shades(), Panels: []svg.Panel{p}}
	d.add(chart{file: "replicas", title: "Replicas per function", caption: caption, svg: c.Render()})
}

// coldPhaseDash tells the cold-start phases apart.
var coldPhaseDash = map[string]string{"process_ready": svg.DashDotted, "first_event": svg.DashSolid, "first_request": svg.DashDashed}

func (v *view) coldStartSection(d *doc) {
	run := v.ref[archEvent]
	if run == nil {
		d.p("Cold starts: n/a (no usable event-driven run; the monoliths do not scale to zero).")
		return
	}
	cs := coldStarts(run, true)
	p := svg.Panel{YLabel: "share of cold starts at or below (%)", YMax: 1, YTick: func(x float64) string { return fmtPct(x) },
		Empty: "no cold start in the run (or no " + results.QColdStarts + " series)"}
	var rows [][]string
	for _, c := range cs {
		n := c.total()
		if n == 0 {
			continue
		}
		var pts []svg.Point
		for i, le := range c.les {
			if !math.IsInf(le, 1) {
				pts = append(pts, svg.Point{X: le, Y: c.cum[i] / n})
			}
		}
		dash, ok := coldPhaseDash[c.phase]
		if !ok {
			dash = svg.DashDotDash
		}
		p.Lines = append(p.Lines, svg.Line{Name: fmt.Sprintf("%s %s (n=%s)", c.function, c.phase, fmtCount(n)), Colour: functionColour(c.function), Dash: dash, Width: 1.8, Points: pts, Dots: true})
		name := c.function
		if f, ok := deploy.Lookup(name); ok && f.Timer {
			name += " (on a timer: each run starts from zero, by design)"
		}
		rows = append(rows, []string{name, c.phase, fmtCount(n), c.boundText(0.5), c.boundText(0.99), "≤ " + fmtBound(c.quantile(1))})
	}
	c := svg.LineChart{Title: "Event-driven cold starts: cumulative distribution", XLabel: "seconds from the replica's process start (log scale)", LogX: true,
		XTick: secondsTick, Panels: []svg.Panel{p}}
	d.add(chart{file: "cold-starts", title: "Cold-start distribution", svg: c.Render(),
		caption: "From Prometheus (" + results.QColdStarts + ": the runtime's cold-start histogram, cumulative bucket counts by function, phase and bucket bound le), " +
			"each bucket's growth over the run (last minus first sample): the share of cold starts that reached the phase within each bound, points at the bucket bounds. " +
			"Phases: process_ready (dotted, the replica listens), first_event (solid, an event function committed its first event), first_request (dashed, the activator got a first answer)."})
	if len(rows) > 0 {
		d.add(table{caption: "Cold starts per function and phase (event-driven; quantiles are bucket upper bounds)", header: []string{"function", "phase", "cold starts", "p50", "p99 (or the highest backed)", "max"}, rows: rows})
	}
}

// resourceSection is CPU over the steady phase and peak memory, per component.
func (v *view) resourceSection(d *doc) {
	use := map[string]componentUsage{}
	comps := map[string]bool{}
	for _, a := range v.archs {
		run := v.ref[a]
		if run == nil {
			continue
		}
		u := usageOf(run, v.steady)
		for k := range u.cpu {
			comps[k] = true
		}
		for k := range u.mem {
			comps[k] = true
		}
		use[a] = u
	}
	if len(comps) == 0 {
		d.p("CPU and memory per component: n/a (no %s, %s, %s or %s series captured).", results.QProcessCPU, results.QComponentCPU, results.QProcessMemory, results.QComponentMemory)
		return
	}
	names := componentOrder(sortedKeys(comps))
	cpuChart, memChart := v.resourceCharts(names, use)
	header := []string{"component"}
	for _, a := range v.archs {
		header = append(header, archName(a)+" CPU ("+orPhase(v.steady)+")", archName(a)+" peak memory")
	}
	d.add(chart{file: "cpu", title: "CPU per component", svg: cpuChart.Render(),
		caption: fmt.Sprintf("From Prometheus: %s (app processes, every replica's counter grown over the %s phase, summed per component) and %s (the stack's servers' process trees). "+
			"The servers run during every architecture's run; %s. Vision stands in for an external API.", results.QProcessCPU, orPhase(v.steady), results.QComponentCPU, v.serversNeeded())})
	d.add(chart{file: "memory", title: "Peak memory per component", svg: memChart.Render(),
		caption: fmt.Sprintf("From Prometheus: %s summed over a component's processes at each second, the peak over the run's capture window, and %s for the stack's servers; MB = 10^6 bytes.",
			results.QProcessMemory, results.QComponentMemory)})
	d.add(table{caption: "CPU and memory per component", header: header, rows: v.resourceRows(names, use)})
}

// componentUsage is one run's CPU-seconds over the steady phase and peak
// memory (bytes), by component.
type componentUsage struct{ cpu, mem map[string]float64 }

// usageOf reads run's usage by component: the CPU its app processes and
// the stack's servers used over the steady phase, and their peak memory
// over the run's capture window.
func usageOf(run *results.Run, steady string) componentUsage {
	u := componentUsage{cpu: map[string]float64{}, mem: map[string]float64{}}
	if w, ok := run.Phase(steady); ok {
		for k, x := range run.Increases(results.QProcessCPU, "component", w.Start, w.End) {
			u.cpu[k] += x
		}
		for k, x := range run.Increases(results.QComponentCPU, "component", w.Start, w.End) {
			u.cpu[k] += x
		}
	}
	from, to := run.Start.Add(-captureMarginDur), run.Drain.Add(captureMarginDur)
	if run.Drain.IsZero() {
		to = run.End.Add(captureMarginDur)
	}
	for k, x := range run.Peaks(results.QProcessMemory, "component", from, to) {
		u.mem[k] += x
	}
	for k, x := range run.Peaks(results.QComponentMemory, "component", from, to) {
		u.mem[k] += x
	}
	return u
}

// resourceCharts are the CPU and the memory bar charts of the components
// names, one series per architecture with a usable run.
func (v *view) resourceCharts(names []string, use map[string]componentUsage) (cpuChart, memChart svg.BarChart) {
	cpuChart = svg.BarChart{Title: fmt.Sprintf("CPU-seconds per component over the %s phase", orPhase(v.steady)), YLabel: "CPU-s", Groups: names, ValueFmt: compactNum}
	memChart = svg.BarChart{Title: "Peak resident memory per component", YLabel: "MB", Groups: names, ValueFmt: compactNum}
	for _, a := range v.archs {
		u, ok := use[a]
		if !ok {
			continue
		}
		cs := svg.BarSeries{Name: archName(a), Colour: archColour(a, false)}
		ms := svg.BarSeries{Name: archName(a), Colour: archColour(a, false)}
		for _, n := range names {
			c, okc := u.cpu[n]
			m, okm := u.mem[n]
			if !okc {
				c = math.NaN()
			}
			if !okm {
				m = math.NaN()
			}
			cs.Values = append(cs.Values, c)
			ms.Values = append(ms.Values, m/1e6)
		}
		cpuChart.Series = append(cpuChart.Series, cs)
		memChart.Series = append(memChart.Series, ms)
	}
	return cpuChart, memChart
}

// resourceRows are the table's rows: per component, each architecture's
// CPU and peak memory, or why there is none.
func (v *view) resourceRows(names []string, use map[string]componentUsage) [][]string {
	var rows [][]string
	for _, n := range names {
		row := []string{n}
		for _, a := range v.archs {
			u, ok := use[a]
			if !ok {
				row = append(row, na("no usable run"), na("no usable run"))
				continue
			}
			c, okc := u.cpu[n]
			m, okm := u.mem[n]
			cpuText, memText := na("no series in this run"), na("no series in this run")
			if other, ok := ownComponent[n]; ok && other != a {
				cpuText, memText = "– (not part of "+archName(a)+")", "–"
			}
			if okc {
				cpuText = fmtCPU(c)
			}
			if okm {
				memText = fmtMB(m)
			}
			row = append(row, cpuText, memText)
		}
		rows = append(rows, row)
	}
	return rows
}

// ownComponent names the architecture an app component belongs to; the
// rest (the vision service, the stack's servers) run for both.
var ownComponent = func() map[string]string {
	m := map[string]string{"monolith": archMonolith, "monolith-async": archAsync, "runtime": archEvent}
	for _, name := range deploy.Names() {
		m[name] = archEvent
	}
	return m
}()

// couplingSection is the coupling timeline of every fault window, of
// every scenario that injected one (in the order its runs appear).
func (v *view) couplingSection(d *doc) {
	scens := v.faultScens()
	if len(scens) == 0 {
		d.p("Coupling timeline: n/a (no fault was injected in scenario %q).", v.scenario)
		return
	}
	if scens[0].name != v.scenario || len(scens) > 1 {
		refHas := false
		for _, s := range scens {
			refHas = refHas || s.name == v.scenario
		}
		if !refHas {
			d.p("Scenario %q injected no fault; the coupling timelines below are those of the scenarios that did.", v.scenario)
		}
	}
	used := map[string]bool{}
	for _, s := range scens {
		nFaults := 0
		for _, a := range v.archs {
			if run := s.ref[a]; run != nil {
				nFaults = max(nFaults, len(run.Faults))
			}
		}
		var phases []results.Window
		for _, a := range v.archs {
			if run := s.ref[a]; run != nil {
				phases = run.Phases
				break
			}
		}
		wlo, whi := v.windowOf(s.ref, phases)
		for i := range nFaults {
			stats := map[string]*faultStats{}
			name := ""
			for _, a := range v.archs {
				run := s.ref[a]
				if run == nil || i >= len(run.Faults) {
					continue
				}
				fs := faultStatsOf(run, run.Faults[i])
				stats[a] = &fs
				if name == "" {
					name = run.Faults[i].Name
				}
			}
			title := name
			file := "coupling"
			if len(scens) > 1 || s.name != v.scenario {
				title = fmt.Sprintf("%s (scenario %s)", name, s.name)
			}
			if len(scens) > 1 {
				file += "-" + fileSafe(s.name)
			}
			if i > 0 {
				file += fmt.Sprintf("-%d", i+1)
			}
			for base, n := file, 2; used[file]; n++ {
				file = fmt.Sprintf("%s-x%d", base, n)
			}
			used[file] = true
			v.couplingChart(d, file, title, name, wlo, whi, stats)
		}
	}
}

// couplingChart draws one fault's chart and table: label names it in the
// report, name is the fault's own name (the shade's label), [wlo, whi] the
// capture window of its scenario.
func (v *view) couplingChart(d *doc, file, label, name string, wlo, whi float64, stats map[string]*faultStats) {
	lo, hi := couplingRange(stats, wlo, whi)
	shades, panels := v.couplingPanels(name, stats)
	title := "Coupling: " + label
	c := svg.LineChart{Title: title, XLabel: "time since the run's start (s)", XMin: lo, XMax: hi, Shades: shades, Panels: panels}
	d.h(3, title)
	d.add(chart{file: file, title: title, svg: c.Render(),
		caption: "Around the fault window (red): upload 5xx answers per second (Prometheus " + results.QRequestRate + ", operation upload, outcome 5xx), " +
			"upload ack p99 (load generator Timeline, op upload), the backlog (" + v.backlogSources() + ") and upload-to-ready p99 " +
			"(Timeline, op ready, at the upload's intended second). Each architecture's own fault window is shaded."})
	var rows [][]string
	for _, a := range v.archs {
		fs, ok := stats[a]
		if !ok {
			rows = append(rows, []string{archName(a), na("no usable run with this fault"), "", "", "", ""})
			continue
		}
		rows = append(rows, couplingRow(a, fs))
	}
	d.add(table{caption: "Coupling figures: " + label + " (n=1 run each)",
		header: []string{"architecture", "fault window", "failed uploads", "backlog peak (lag or jobs)", "catch-up time", "longest upload-to-ready of uploads accepted during the fault"},
		rows:   rows,
		notes: []string{fmt.Sprintf("Failed uploads: the load generator's upload errors in the phase the fault covered. Catch-up time: from the fault's end until the backlog (summed lag, or jobs) is back to its level before the fault (at most its maximum in the %s before the fault). "+
			"Longest upload-to-ready: the largest per-second maximum of the Timeline's ready points for uploads intended during the fault.", fmtSeconds(preFaultWindow))}})
}

// couplingRange is the x range of a coupling chart: from 30 s before the
// earliest fault to 60 s after the latest, or until its backlog was caught
// up (or last seen), within the capture window [wlo, whi].
func couplingRange(stats map[string]*faultStats, wlo, whi float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, fs := range stats {
		lo = math.Min(lo, fs.from-30)
		end := fs.to + 60
		if fs.haveLag && fs.caughtUp {
			end = math.Max(end, fs.to+fs.catchUp+30)
		} else if fs.haveLag {
			end = math.Max(end, fs.lastLagT)
		}
		hi = math.Max(hi, end)
	}
	return math.Max(lo, wlo), math.Min(hi, whi)
}

// couplingPanels are a coupling chart's shades (each architecture's fault
// window, the first labelled name) and its panels: upload 5xx answers,
// upload ack p99, the event-driven backlog and upload-to-ready p99.
func (v *view) couplingPanels(name string, stats map[string]*faultStats) ([]svg.Shade, []svg.Panel) {
	errP := svg.Panel{YLabel: "upload 5xx answers (req/s)", Empty: "no upload 5xx series"}
	ackP := svg.Panel{YLabel: "upload ack p99 (s)", LogY: true, YTick: secondsTick, Empty: "no upload timeline"}
	lagP := svg.Panel{YLabel: "backlog: lag (messages) or jobs", Empty: "no backlog series (the sync monolith has no queue)"}
	readyP := svg.Panel{YLabel: "upload-to-ready p99 by upload time (s)", LogY: true, YTick: secondsTick, Empty: "no ready timeline"}
	var shades []svg.Shade
	for _, a := range v.archs {
		fs, ok := stats[a]
		if !ok {
			continue
		}
		run := fs.run
		shades = append(shades, svg.Shade{From: fs.from, To: fs.to, Fault: true, Label: faultLabel(name, len(shades) == 0)})
		s := sumAt(run.Series[results.QRequestRate], func(l map[string]string) bool {
			return l["operation"] == "upload" && l["outcome"] == "5xx"
		})
		if len(s) > 0 {
			errP.Lines = append(errP.Lines, svg.Line{Name: archName(a) + " upload 5xx/s", Colour: archColour(a, false), Width: 2, Points: toPts(run, s)})
		}
		var ack, ready []svg.Point
		for _, x := range timeline(run, "upload") {
			ack = append(ack, svg.Point{X: x.T, Y: x.P99})
		}
		for _, x := range timeline(run, "ready") {
			ready = append(ready, svg.Point{X: x.T, Y: x.P99})
		}
		if len(ack) > 0 {
			ackP.Lines = append(ackP.Lines, svg.Line{Name: archName(a) + " upload ack p99", Colour: archColour(a, false), Width: 2, Points: ack, Gap: maxGap})
		}
		if len(ready) > 0 {
			readyP.Lines = append(readyP.Lines, svg.Line{Name: archName(a) + " ready p99", Colour: archColour(a, false), Dash: svg.DashDashed, Width: 2, Points: ready, Gap: maxGap})
		}
		if lag := sumAt(run.Series[backlogQuery(a)], nil); len(lag) > 0 {
			lagP.Lines = append(lagP.Lines, svg.Line{Name: archName(a) + " " + backlogName(a), Colour: archColour(a, false), Width: 2, Points: toPts(run, lag)})
		}
	}
	return shades, []svg.Panel{errP, ackP, lagP, readyP}
}

// couplingRow is architecture a's row of the coupling table: its fault
// window, the uploads that failed in the phase the fault covered, its
// backlog's peak and catch-up time, and its longest upload-to-ready.
func couplingRow(a string, fs *faultStats) []string {
	failed := na("no uploads in the phase the fault covered")
	if fs.havePhase && fs.phaseStats.Scheduled > 0 {
		failed = fmt.Sprintf("%d of %d (%s) in %s", fs.phaseStats.Errors, fs.phaseStats.Scheduled,
			fmtPct(float64(fs.phaseStats.Errors)/float64(fs.phaseStats.Scheduled)), fs.phase)
	}
	peak, catch := na("no backlog series: no queue"), na("no backlog series: no queue")
	if fs.haveLag {
		peak = fmt.Sprintf("%s %s at %s (before: at most %s)", fmtNum(fs.peak), backlogUnit(a), fmtOffset(fs.peakAt), fmtNum(fs.preMax))
		if fs.caughtUp {
			catch = fmtSeconds(fs.catchUp)
		} else {
			catch = fmt.Sprintf("not caught up by the end of the capture (> %s)", fmtSeconds(fs.lastLagT-fs.to))
		}
	}
	readyMax := na("no upload followed during the fault")
	if fs.haveReady {
		readyMax = fmt.Sprintf("%s (%d uploads followed)", fmtSeconds(fs.readyMax), fs.acceptedInFault)
	}
	return []string{archName(a), fmt.Sprintf("%.1f s – %.1f s", fs.from, fs.to), failed, peak, catch, readyMax}
}

// backlogSources says where each architecture's backlog comes from.
func (v *view) backlogSources() string {
	var parts []string
	for _, a := range v.archs {
		switch a {
		case archMonolith:
			parts = append(parts, v.subj(a)+" has no queue")
		case archAsync:
			parts = append(parts, "async monolith: Prometheus "+qJobs+", River's jobs summed over the states available, retryable, scheduled and running, "+
				"the counterpart of consumer lag, which counts messages delivered but not yet committed")
		case archEvent:
			parts = append(parts, "event-driven: Prometheus "+results.QLag+", consumer lag summed over functions")
		}
	}
	return strings.Join(parts, "; ")
}

// backlogName names a's backlog in a chart's legend.
func backlogName(a string) string {
	if a == archAsync {
		return "jobs"
	}
	return "lag"
}

// serversNeeded says which of the stack's servers each architecture run
// needs.
func (v *view) serversNeeded() string {
	var parts []string
	for _, a := range v.archs {
		if s := v.serversOf(a); len(s) > 0 {
			parts = append(parts, archName(a)+" needs "+joinAnd(s))
		}
	}
	if len(parts) == 0 {
		return "no architecture was run"
	}
	return strings.Join(parts, ", ")
}

func faultLabel(name string, first bool) string {
	if first {
		return name
	}
	return ""
}
