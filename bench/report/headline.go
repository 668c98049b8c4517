package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/loadgen"
)

// The headline: the figures that carry the verdict, each computed per run
// and shown as the median with its 95% bootstrap interval, the run values
// beside it, and the ratios between variants with their own intervals.
// The same figures go to headline.json (schema in doc.go).

// HeadlineFile is the machine-readable headline, written beside report.md.
const HeadlineFile = "headline.json"

// HeadlineSchema names the version of headline.json's layout.
const HeadlineSchema = "photobench-headline/1"

// hfig is one headline figure of one variant (and pricing option).
type hfig struct {
	key, name, unit string
	variant, option string
	phase           string
	quantile, want  string // the percentile shown and the one wanted ("" when not a percentile)
	support         string // why a lower percentile is shown
	note            string
	runs            []hrun
	est             estimate
	format          func(float64) string
}

// hrun is one run's value of a headline figure.
type hrun struct {
	scenario string
	repeat   int
	value    float64
	samples  int64
}

// workOf is a run's work accounting (results.Run.Work: uploads accepted,
// events handled per function, duplicates, missing, lost, ingest
// invocations), written into headline.json as it marshals.
var workOf = func(r results.Run) any { return r.Work() }

// headline computes every headline figure, in display order: by figure,
// then by variant in results.Archs order.
func (v *view) headline() []hfig {
	var out []hfig
	quant := func(key, name string, get func(loadgen.PhaseSummary) (loadgen.Quantiles, bool), want float64) {
		if v.steady == "" {
			return
		}
		qs := v.quants(v.steady, get, want)
		for _, a := range v.archs {
			q := qs[a]
			if !q.ok() {
				continue
			}
			h := hfig{key: key, name: name, unit: "s", variant: a, phase: v.steady, quantile: q.name(), want: pctName(want),
				support: q.support(), est: q.shown(), format: fmtSeconds}
			h.runs = v.runValues(a, func(run results.Run) (float64, int64, bool) {
				ps, ok := run.Summary.Phase(v.steady)
				if !ok {
					return 0, 0, false
				}
				qq, ok := get(ps)
				if !ok || qq.Count == 0 {
					return 0, 0, false
				}
				if q.level == 0 {
					return qq.Max, qq.Count, true
				}
				return quantileAt(qq, q.level), qq.Count, true
			})
			out = append(out, h)
		}
	}
	quant("ack_p50_seconds", "upload ack latency p50", opLatency(loadgen.OpUpload), 0.5)
	quant("ack_p99_seconds", "upload ack latency p99", opLatency(loadgen.OpUpload), 0.99)
	quant("ready_p50_seconds", "upload-to-ready latency p50", readyLatency, 0.5)
	quant("ready_p99_seconds", "upload-to-ready latency p99", readyLatency, 0.99)
	perRun := func(key, name, unit string, format func(float64) string, get func(results.Run) (float64, bool)) {
		for _, a := range v.archs {
			h := hfig{key: key, name: name, unit: unit, variant: a, phase: v.steady, format: format}
			h.runs = v.runValues(a, func(run results.Run) (float64, int64, bool) {
				x, ok := get(run)
				return x, 0, ok
			})
			if len(h.runs) == 0 {
				continue
			}
			h.est = estimateOf(runVals(h.runs))
			out = append(out, h)
		}
	}
	if v.steady != "" {
		perRun("photos_per_second", "photos accepted per second", "photos/s", fmtPPS, func(run results.Run) (float64, bool) {
			return acceptedPerSecond(run, v.steady)
		})
		perRun("cpu_seconds_per_photo", "CPU-seconds per photo", "CPU-s/photo", fmtCPUPerPhoto, func(run results.Run) (float64, bool) {
			return v.cpuPerPhoto(run)
		})
	}
	out = append(out, v.costFigures()...)
	out = append(out, v.faultFigures()...)
	return out
}

// runValues reads get from each of arch's usable runs of the scenario.
func (v *view) runValues(arch string, get func(results.Run) (float64, int64, bool)) []hrun {
	var out []hrun
	for _, run := range v.runs[arch] {
		if x, n, ok := get(run); ok && finite(x) {
			out = append(out, hrun{scenario: run.Scenario, repeat: run.Repeat, value: x, samples: n})
		}
	}
	return out
}

func runVals(rs []hrun) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.value
	}
	return out
}

func fmtCPUPerPhoto(v float64) string { return fmtNum(v) + " CPU-s" }

func fmtUSD(v float64) string { return "$" + fmtNum(v) }

// cpuPerPhoto is the CPU-seconds run's architecture used over the steady
// phase per upload accepted in it: its app processes (the vision service,
// an external API for every variant, left out) and the stack's servers it
// needs.
func (v *view) cpuPerPhoto(run results.Run) (float64, bool) {
	w, ok := run.Phase(v.steady)
	ps, ok2 := run.Summary.Phase(v.steady)
	up, ok3 := ps.Ops[loadgen.OpUpload]
	if !ok || !ok2 || !ok3 || up.OK == 0 {
		return 0, false
	}
	if _, ok := run.Series[results.QProcessCPU]; !ok {
		return 0, false
	}
	cpu := 0.0
	byComp := run.Increases(results.QProcessCPU, "component", w.Start, w.End)
	for _, comp := range sortedKeys(byComp) { // one order: the same bits every time
		if comp != "vision" {
			cpu += byComp[comp]
		}
	}
	servers := run.Increases(results.QComponentCPU, "component", w.Start, w.End)
	for _, srv := range v.serversOf(run.Arch) {
		cpu += servers[srv]
	}
	return cpu / float64(up.OK), true
}

// costPerRun prices one run alone with the analysis's price sheets: its
// cost per million photos by pricing option name. Empty when the analysis
// has no sheets (or none of the option's figures is a number).
func costPerRun(r *results.Results, run results.Run, sheets []cost.Sheet) map[string]float64 {
	out := map[string]float64{}
	if len(sheets) == 0 {
		return out
	}
	one := *r
	one.Runs = []results.Run{run}
	a, err := cost.Analyze(&one, sheets)
	if err != nil {
		return out
	}
	for _, os := range costCellsOf(a, "million", "million") {
		for _, o := range os {
			if x, ok := costValue(o); ok {
				out[o.name] = x
			}
		}
	}
	return out
}

// costFigures are the cost per million photos of each pricing option, per
// run (the cost model applied to each run alone); when the analysis has no
// price sheets to do that with, its own figure, marked as such.
func (v *view) costFigures() []hfig {
	if v.a == nil {
		return nil
	}
	var out []hfig
	for _, a := range v.archs {
		byOption := map[string][]hrun{}
		var order []string
		if len(v.a.Sheets) > 0 {
			for _, run := range v.runs[a] {
				costs := costPerRun(v.r, run, v.a.Sheets)
				for _, name := range sortedKeys(costs) {
					if costArch(name) != a {
						continue
					}
					if _, seen := byOption[name]; !seen {
						order = append(order, name)
					}
					byOption[name] = append(byOption[name], hrun{scenario: run.Scenario, repeat: run.Repeat, value: costs[name]})
				}
			}
		}
		for _, name := range order {
			out = append(out, hfig{key: "cost_per_million_photos_usd", name: "cost per million photos at the measured load", unit: "USD",
				variant: a, option: name, runs: byOption[name], est: estimateOf(runVals(byOption[name])), format: fmtUSD})
		}
		if len(order) > 0 {
			continue
		}
		for _, o := range v.costCells("million", "million")[a] {
			if x, ok := costValue(o); ok {
				out = append(out, hfig{key: "cost_per_million_photos_usd", name: "cost per million photos at the measured load", unit: "USD",
					variant: a, option: o.name, est: estimateOf([]float64{x}), format: fmtUSD,
					note: "the cost analysis's own figure over the runs: no price sheets to price each run alone"})
			}
		}
	}
	return out
}

// faultFigures are the share of uploads that failed in the phase each
// run's first fault covered, in the first scenario with a fault.
func (v *view) faultFigures() []hfig {
	scens := v.faultScens()
	if len(scens) == 0 {
		return nil
	}
	sc := scens[0]
	var out []hfig
	for _, a := range v.archs {
		h := hfig{key: "fault_upload_error_share", unit: "share of uploads", variant: a, format: fmtPct}
		for _, run := range v.r.Runs {
			faults := run.Injected()
			if run.Arch != a || run.Scenario != sc.name || !usable(run) || len(faults) == 0 {
				continue
			}
			fs := faultStatsOf(&run, faults[0])
			if !fs.havePhase || fs.phaseStats.Scheduled == 0 {
				continue
			}
			h.phase = fs.phase
			h.name = fmt.Sprintf("uploads failed during %s (scenario %s)", faults[0].Name, sc.name)
			h.runs = append(h.runs, hrun{scenario: run.Scenario, repeat: run.Repeat, value: float64(fs.phaseStats.Errors) / float64(fs.phaseStats.Scheduled),
				samples: int64(fs.phaseStats.Scheduled)})
		}
		if len(h.runs) > 0 {
			h.est = estimateOf(runVals(h.runs))
			out = append(out, h)
		}
	}
	return out
}

// hratio is the ratio of two variants' figures.
type hratio struct {
	num, den hfig
	est      estimate
}

// ratios pairs the headline figures of each key between variants: each
// later variant (in results.Archs order) over each earlier one; for cost,
// each option of the later over the earlier one's reference option (its
// single VM). A percentile that fell back to the median (too few samples
// for the one wanted) gives no ratio: the median's is already there.
func ratios(figs []hfig) []hratio {
	var out []hratio
	for i, den := range figs {
		for _, num := range figs[i+1:] {
			if num.key != den.key || num.variant == den.variant || archRank(num.variant) < archRank(den.variant) {
				continue
			}
			if num.quantile != num.want && (num.quantile == "p50" || den.quantile == "p50") {
				continue
			}
			if den.option != "" && den.option != referenceOption(den.variant) {
				continue
			}
			if len(num.runs) == 0 || len(den.runs) == 0 {
				continue
			}
			out = append(out, hratio{num: num, den: den, est: ratioOf(runVals(num.runs), runVals(den.runs))})
		}
	}
	return out
}

// referenceOption is the display name of arch's first pricing option (the
// single VM for a monolith), "" when it has none.
func referenceOption(arch string) string {
	if os := cost.OptionsOf(arch); len(os) > 0 {
		return cost.OptionName(os[0])
	}
	return ""
}

// label names a headline figure's variant: "event-driven" or
// "event-driven (AWS Lambda)" for a pricing option.
func (h hfig) label() string {
	if h.option != "" {
		return h.option
	}
	return archName(h.variant)
}

// cell is the figure's value as the headline table shows it.
func (h hfig) cell() string {
	if !h.est.ok() {
		return na("no value")
	}
	s := h.est.text(h.format)
	if h.quantile != "" {
		s = h.quantile + " " + s
	}
	paren := []string{h.support, h.est.nText(), h.note}
	var kept []string
	for _, p := range paren {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return s + " (" + strings.Join(kept, "; ") + ")"
}

// headlineSection is the headline table, the ratios and the run values.
func (v *view) headlineSection(d *doc, figs []hfig) {
	d.h(2, "Headline figures")
	if len(figs) == 0 {
		d.p("No headline figures: no usable run of scenario %q with the steady phase.", v.scenario)
		return
	}
	d.p("Each figure is computed per run, then shown as the median over runs [95%% percentile-bootstrap interval] (n = runs); with fewer than %d runs "+
		"there is no interval and the run values are shown instead. Percentiles are read from each run's histogram only where it backs them (%s); "+
		"otherwise the highest backed percentile is shown, named, with its sample count. The same figures, with every run value, are in %s.",
		MinRunsForInterval, supportRule(), HeadlineFile)
	var rows [][]string
	for _, h := range figs {
		what := h.name
		if h.phase != "" && !strings.Contains(what, h.phase) {
			what += " (" + h.phase + ")"
		}
		rows = append(rows, []string{what, h.label(), h.cell()})
	}
	d.add(table{caption: "Headline figures per variant", header: []string{"figure", "variant", "median [95% CI] (n)"}, rows: rows})
	rs := ratios(figs)
	if len(rs) > 0 {
		var rr [][]string
		for _, r := range rs {
			what := r.num.name
			if r.num.quantile != "" && r.num.quantile != r.num.want {
				what += " (at " + r.num.quantile + ")"
			}
			rr = append(rr, []string{what, r.num.label() + " ÷ " + r.den.label(), ratioText(r.est, len(r.num.runs), len(r.den.runs)), stability(r.est)})
		}
		d.add(table{caption: "Ratios between variants", header: []string{"figure", "ratio", "median ratio [95% CI] (runs of each)", "stable?"}, rows: rr,
			notes: []string{fmt.Sprintf("A ratio is the later variant's median over the earlier one's; its interval resamples each side's run values independently "+
				"(%d resamples, seed %d) and reads the 2.5th and 97.5th percentiles of the resampled ratios. Below 1× the later variant's figure is smaller.",
				BootstrapResamples, BootstrapSeed)}})
	}
	var rv [][]string
	for _, h := range figs {
		if len(h.runs) == 0 {
			continue
		}
		var parts []string
		for _, r := range h.runs {
			p := fmt.Sprintf("#%d %s", r.repeat, h.format(r.value))
			if r.samples > 0 {
				p += fmt.Sprintf(" (n=%d)", r.samples)
			}
			parts = append(parts, p)
		}
		name := h.name
		if h.quantile != "" && h.quantile != h.want {
			name += " (shown: " + h.quantile + ")"
		}
		rv = append(rv, []string{name, h.label(), strings.Join(parts, ", ")})
	}
	if len(rv) > 0 {
		d.add(table{caption: "Run values of the headline figures (run order; n: samples behind a percentile, or uploads scheduled in the fault)",
			header: []string{"figure", "variant", "per run"}, rows: rv})
	}
}

// The layout of headline.json (documented in doc.go). Struct fields keep
// their order when marshalled, so the file's key order is stable.
type (
	headlineDoc struct {
		Schema     string             `json:"schema"`
		Profile    string             `json:"profile"`
		Scenario   string             `json:"scenario"`
		Started    time.Time          `json:"started"`
		Statistics headlineStatistics `json:"statistics"`
		SLO        headlineSLO        `json:"slo"`
		Figures    []headlineFigure   `json:"figures"`
		Ratios     []headlineRatio    `json:"ratios"`
		Capacity   []headlineCapacity `json:"capacity"`
		Work       []headlineWork     `json:"work"`
	}
	headlineStatistics struct {
		Statistic         string  `json:"statistic"`
		Interval          string  `json:"interval"`
		Confidence        float64 `json:"confidence"`
		Resamples         int     `json:"resamples"`
		Seed              uint64  `json:"seed"`
		MinRuns           int     `json:"min_runs_for_interval"`
		PercentileSupport string  `json:"percentile_support"`
	}
	headlineSLO struct {
		AckP99    float64 `json:"ack_p99_seconds"`
		ReadyP99  float64 `json:"ready_p99_seconds"`
		MaxErrors float64 `json:"max_error_share"`
	}
	headlineEst struct {
		N        int      `json:"n"`
		Median   *float64 `json:"median"`
		Lo       *float64 `json:"lo"`
		Hi       *float64 `json:"hi"`
		Interval bool     `json:"interval"`
	}
	headlineFigure struct {
		Key            string `json:"key"`
		Name           string `json:"name"`
		Variant        string `json:"variant"`
		Option         string `json:"option,omitempty"`
		Phase          string `json:"phase,omitempty"`
		Unit           string `json:"unit"`
		Quantile       string `json:"quantile,omitempty"`
		WantedQuantile string `json:"wanted_quantile,omitempty"`
		Support        string `json:"support,omitempty"`
		Note           string `json:"note,omitempty"`
		headlineEst
		Runs []headlineRun `json:"runs"`
	}
	headlineRun struct {
		Scenario string  `json:"scenario"`
		Repeat   int     `json:"repeat"`
		Value    float64 `json:"value"`
		Samples  int64   `json:"samples,omitempty"`
	}
	headlineRatio struct {
		Key               string `json:"key"`
		Unit              string `json:"unit"`
		Numerator         string `json:"numerator"`
		NumeratorOption   string `json:"numerator_option,omitempty"`
		Denominator       string `json:"denominator"`
		DenominatorOption string `json:"denominator_option,omitempty"`
		NNumerator        int    `json:"n_numerator"`
		NDenominator      int    `json:"n_denominator"`
		headlineEst
		// Stability is "stable: ...", "unstable: ..." (its interval wider
		// than ±StableWithin) or "not judged: ..." (no interval).
		Stability string `json:"stability"`
	}
	headlineCapacity struct {
		Sweep              string            `json:"sweep"`
		Variant            string            `json:"variant"`
		Unit               string            `json:"unit"`
		Kind               string            `json:"knee"`
		KneeRate           *float64          `json:"knee_rate_requests_per_second"`
		Confirmed          bool              `json:"confirmed"`
		Offered            *float64          `json:"offered_photos_per_second"`
		FirstFailedOffered *float64          `json:"first_failed_offered_photos_per_second"`
		Estimate           headlineEst       `json:"photos_per_second"`
		Failing            []headlineFailure `json:"failing_rates"`
		// CostPerMillionAtCapacity prices each of the variant's options at
		// its capacity (cost.OptionsOf, (*cost.Analysis).PerMillionAt).
		CostPerMillionAtCapacity []headlineCost `json:"cost_per_million_photos_at_capacity"`
	}
	headlineFailure struct {
		Rate float64 `json:"rate_requests_per_second"`
		Why  string  `json:"why"`
	}
	headlineCost struct {
		Option string  `json:"option"`
		USD    float64 `json:"usd"`
	}
	headlineWork struct {
		Variant  string `json:"variant"`
		Scenario string `json:"scenario"`
		Repeat   int    `json:"repeat"`
		Status   string `json:"status"`
		Work     any    `json:"work"`
	}
)

func headlineEstimate(e estimate) headlineEst {
	h := headlineEst{N: e.n(), Median: ptr(e.med), Interval: e.ci}
	if e.ci {
		h.Lo, h.Hi = ptr(e.lo), ptr(e.hi)
	}
	return h
}

// headlineJSON is headline.json's content.
func (v *view) headlineJSON(figs []hfig) ([]byte, error) {
	slo := sloOf(v.r)
	doc := headlineDoc{Schema: HeadlineSchema, Profile: v.r.Profile, Scenario: v.scenario, Started: v.r.Started.UTC(),
		Statistics: headlineStatistics{Statistic: "median over runs", Interval: "percentile bootstrap of the median (ratios: of the ratio of medians, each side resampled independently)",
			Confidence: Confidence, Resamples: BootstrapResamples, Seed: BootstrapSeed, MinRuns: MinRunsForInterval, PercentileSupport: supportRule()},
		SLO:     headlineSLO{AckP99: slo.AckP99, ReadyP99: slo.ReadyP99, MaxErrors: slo.MaxErrors},
		Figures: []headlineFigure{}, Ratios: []headlineRatio{}, Capacity: v.capacities(), Work: []headlineWork{}}
	if doc.Capacity == nil {
		doc.Capacity = []headlineCapacity{}
	}
	for _, h := range figs {
		f := headlineFigure{Key: h.key, Name: h.name, Variant: h.variant, Option: h.option, Phase: h.phase, Unit: h.unit, Quantile: h.quantile,
			WantedQuantile: h.want, Support: h.support, Note: h.note, headlineEst: headlineEstimate(h.est), Runs: []headlineRun{}}
		for _, r := range h.runs {
			f.Runs = append(f.Runs, headlineRun{Scenario: r.scenario, Repeat: r.repeat, Value: r.value, Samples: r.samples})
		}
		doc.Figures = append(doc.Figures, f)
	}
	for _, r := range ratios(figs) {
		doc.Ratios = append(doc.Ratios, headlineRatio{Key: r.num.key, Unit: "ratio", Numerator: r.num.variant, NumeratorOption: r.num.option,
			Denominator: r.den.variant, DenominatorOption: r.den.option, NNumerator: len(r.num.runs), NDenominator: len(r.den.runs),
			headlineEst: headlineEstimate(r.est), Stability: stability(r.est)})
	}
	for _, run := range v.r.Runs {
		w := headlineWork{Variant: run.Arch, Scenario: run.Scenario, Repeat: run.Repeat, Status: run.Status}
		if workOf != nil && usable(run) {
			w.Work = workOf(run)
		}
		doc.Work = append(doc.Work, w)
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("headline: %w", err)
	}
	return append(data, '\n'), nil
}
