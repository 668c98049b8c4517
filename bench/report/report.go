// Package report turns a bench run (bench/results) and its cost analysis
// (bench/cost) into the run directory's report.md and report.html, with the
// charts as SVG files in charts/ (the HTML inlines the same SVGs, so it is
// one self-contained file: no scripts, fonts or other external resources),
// and headline.json, the headline figures for machines (schema below).
//
// Every number in the report is read from the results: the trade-off
// sentences are computed, never written in advance; a missing figure reads
// "n/a" with the reason. Latency comes from the load generator's HDR
// histograms, everything else from the Prometheus series captured at a 1 s
// step. Every figure over repetitions is computed per run and shown as the
// median with a 95% percentile-bootstrap interval (BootstrapResamples
// resamples from BootstrapSeed, afresh for every interval) from
// MinRunsForInterval runs on, and with its run values below that; a ratio
// between variants carries its own interval, each side resampled
// independently. A percentile q is shown only when 10/(1-q) samples back
// it, else the highest backed one with its sample count (stats.go). The
// first screen is the charts that carry the verdict; a rate sweep is judged
// with results.Run.CheckSLO (ack, ready, backlog) and gives each variant's
// capacity in photos/s (capacity.go).
//
// headline.json (HeadlineSchema) is one object, keys in this order:
//
//	schema      "photobench-headline/1"
//	profile     the bench profile; scenario: the one the figures are about
//	started     when the bench started (RFC 3339)
//	statistics  statistic, interval, confidence (0.95), resamples, seed,
//	            min_runs_for_interval, percentile_support (the rule)
//	slo         ack_p99_seconds, ready_p99_seconds, max_error_share
//	figures     one per figure, variant and pricing option: key
//	            (ack_p50_seconds, ack_p99_seconds, ready_p50_seconds,
//	            ready_p99_seconds, photos_per_second, cpu_seconds_per_photo,
//	            cost_per_million_photos_usd, fault_upload_error_share), name,
//	            variant (results.Monolith, ...), option (pricing option, for
//	            cost), phase, unit, quantile (shown) and wanted_quantile,
//	            support (why a lower quantile is shown), note, n (runs),
//	            median, lo, hi (null without an interval), interval (bool),
//	            runs: [{scenario, repeat, value, samples}]
//	ratios      numerator's median over denominator's, for each figure key
//	            and pair of variants (the later in results.Archs order over
//	            the earlier): key, unit "ratio", numerator, numerator_option,
//	            denominator, denominator_option, n_numerator, n_denominator,
//	            n (both sides' runs), median, lo, hi, interval
//	capacity    per sweep and variant: knee ("at", "at_least_highest_rate",
//	            "below_lowest_rate", "none"), knee_rate_requests_per_second,
//	            confirmed, offered_photos_per_second,
//	            first_failed_offered_photos_per_second, photos_per_second
//	            {n, median, lo, hi, interval}, failing_rates [{rate, why}],
//	            cost_per_million_photos_at_capacity [{option, usd}]
//	work        per run, failed ones included: variant, scenario, repeat,
//	            status, work (results.Run.Work: uploads accepted, events
//	            handled per function, duplicates, missing, lost, ingest
//	            invocations; null until that accounting is wired)
//
// Numbers are JSON numbers in the unit given (seconds, photos/s, USD, a
// share from 0 to 1); absent values are null, never NaN.
//
// The architectures are those of results.Archs that have runs, in that
// order, one column each: the sync monolith, the async monolith and the
// event-driven app; one without runs (a results.json from before the
// async monolith) has no column. Neighbours differ along one axis each
// (axes.go): sync to async monolith is coupling in time (same process,
// code and database; only when the work happens differs), async monolith
// to event-driven is one process vs many (both asynchronous). With all
// three, each trade-off sentence compares both pairs and says which axis a
// difference comes from, a difference within the figures' spread or the
// row's tolerance counting as none; with two, it compares them and the
// table's note says which axes that mixes. A backlog is the event-driven
// functions' consumer lag, or the async monolith's job queue (River's jobs
// available, retryable, scheduled or running); the sync monolith has
// none. The settings section states the monoliths' storage (disk or s3)
// and River's settings when the results record them.
package report

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/report/svg"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/internal/atomicfile"
)

// Files written by Write, relative to the run directory.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	ChartsDir    = "charts"
)

// Write writes dir/report.md, dir/report.html, dir/headline.json and dir/charts/*.svg from the
// results r and the cost analysis a (nil: the report says there is none).
// Every file is written atomically; the output depends only on r and a (and
// on which raw data files exist in dir, which the appendix lists).
func Write(dir string, r *results.Results, a *cost.Analysis) error {
	if r == nil {
		return errors.New("write report: no results")
	}
	v := newView(dir, r, a)
	d := v.build()
	head, err := v.headlineJSON(v.hfigs)
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, HeadlineFile), head, 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	for _, c := range d.charts() {
		if err := atomicfile.Write(filepath.Join(dir, ChartsDir, c.file+".svg"), c.svg, 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	if err := atomicfile.Write(filepath.Join(dir, MarkdownFile), d.markdown(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, HTMLFile), d.html(v.title()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// view is the results as the report reads them.
type view struct {
	dir string
	r   *results.Results
	a   *cost.Analysis

	scenario string                   // the scenario the trade-offs and charts are about
	archs    []string                 // architectures that have runs, in results.Archs order
	runs     map[string][]results.Run // usable runs of scenario, per architecture
	ref      map[string]*results.Run  // the first of them: the one the charts show
	refArch  string                   // the architecture whose phases shade the charts
	phases   []results.Window         // the scenario's phases (of the reference run)

	steady, idle, cold, burst, outage string // phase names ("" when absent)

	sweeps []*sweep // the rate sweeps, in the order their first runs appear
	hfigs  []hfig   // the headline figures
}

func newView(dir string, r *results.Results, a *cost.Analysis) *view {
	v := &view{dir: dir, r: r, a: a, runs: map[string][]results.Run{}, ref: map[string]*results.Run{}}
	seen := map[string]bool{}
	for _, run := range r.Runs {
		if !seen[run.Arch] {
			seen[run.Arch] = true
			v.archs = append(v.archs, run.Arch)
		}
	}
	sort.SliceStable(v.archs, func(i, j int) bool { return archRank(v.archs[i]) < archRank(v.archs[j]) })
	v.sweeps = findSweeps(r)
	swept := map[string]bool{}
	for _, s := range v.sweeps {
		for sc := range s.scens {
			swept[sc] = true
		}
	}
	// The scenario: the first that has the steady phase, else the first;
	// a sweep's steps only when nothing else was run (they have their own
	// section).
	for _, sweeps := range []bool{false, true} {
		for _, run := range r.Runs {
			if swept[run.Scenario] != sweeps {
				continue
			}
			if _, ok := run.Phase(r.SteadyPhase); ok && r.SteadyPhase != "" {
				v.scenario = run.Scenario
				break
			}
		}
		if v.scenario != "" {
			break
		}
	}
	for _, run := range r.Runs {
		if v.scenario == "" && !swept[run.Scenario] {
			v.scenario = run.Scenario
		}
	}
	if v.scenario == "" && len(r.Runs) > 0 {
		v.scenario = r.Runs[0].Scenario
	}
	for _, run := range r.Runs {
		if run.Scenario == v.scenario && usable(run) {
			v.runs[run.Arch] = append(v.runs[run.Arch], run)
		}
	}
	for _, a := range v.archs {
		if rs := v.runs[a]; len(rs) > 0 {
			v.ref[a] = &rs[0]
			if v.refArch == "" {
				v.refArch = a
			}
		}
	}
	if v.refArch != "" {
		v.phases = v.ref[v.refArch].Phases
	} else {
		for _, run := range r.Runs {
			if run.Scenario == v.scenario && len(run.Phases) > 0 {
				v.phases = run.Phases
				break
			}
		}
	}
	v.findPhases()
	v.hfigs = v.headline()
	return v
}

// archRank is a's place in results.Archs (report order); architectures
// the report does not know come last.
func archRank(a string) int {
	for i, x := range results.Archs {
		if x == a {
			return i
		}
	}
	return len(results.Archs)
}

// findPhases names the phases the trade-offs read: steady and idle as the
// profile names them, cold the one after idle, burst the one with the
// highest target rate, outage the one the first fault covers most.
func (v *view) findPhases() {
	has := func(name string) bool {
		for _, p := range v.phases {
			if p.Name == name {
				return true
			}
		}
		return false
	}
	if has(v.r.SteadyPhase) {
		v.steady = v.r.SteadyPhase
	}
	if has(v.r.IdlePhase) {
		v.idle = v.r.IdlePhase
		for i, p := range v.phases {
			if p.Name == v.idle && i+1 < len(v.phases) {
				v.cold = v.phases[i+1].Name
			}
		}
	}
	best := 0.0
	for _, a := range v.archs {
		run := v.ref[a]
		if run == nil {
			continue
		}
		for _, ps := range run.Summary.Phases {
			if ps.All.TargetRate > best+1e-9 {
				best, v.burst = ps.All.TargetRate, ps.Name
			}
		}
		if f := run.Injected(); v.outage == "" && len(f) > 0 {
			v.outage, _ = overlapPhase(run, f[0])
		}
	}
}

func (v *view) title() string {
	names := []string{archName(archMonolith), archName(archEvent)}
	if len(v.archs) > 0 {
		names = nil
		for _, a := range v.archs {
			names = append(names, archName(a))
		}
	}
	t := fmt.Sprintf("photobench: %s — profile %s, %s", strings.Join(names, " vs "), v.r.Profile, v.r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	if n := v.fewestRuns(); n > 0 && n < MinRunsForInterval {
		t += fmt.Sprintf(" — a first look: %d run(s) per variant, no intervals", n)
	}
	return t
}

// fewestRuns is the fewest usable runs any variant has of the report's
// scenario (0 when there is none).
func (v *view) fewestRuns() int {
	fewest := 0
	for i, a := range v.archs {
		if n := len(v.runs[a]); i == 0 || n < fewest {
			fewest = n
		}
	}
	return fewest
}

// window returns the x range of the time charts: the capture window of
// the longest reference run, in seconds from its start.
func (v *view) window() (float64, float64) { return v.windowOf(v.ref, v.phases) }

// windowOf is window for the reference runs ref (phases: the fallback
// when no run has a time).
func (v *view) windowOf(ref map[string]*results.Run, phases []results.Window) (float64, float64) {
	lo, hi := -5.0, 0.0
	for _, a := range v.archs {
		run := ref[a]
		if run == nil {
			continue
		}
		end := run.Drain
		if end.IsZero() || end.Before(run.End) {
			end = run.End
		}
		hi = math.Max(hi, offset(run, end)+5)
	}
	if hi <= 0 {
		for _, p := range phases {
			hi = math.Max(hi, p.End.Sub(phases[0].Start).Seconds())
		}
	}
	if hi <= lo {
		hi = lo + 10
	}
	return lo, hi
}

// shades are the phases of the reference run and every reference run's
// faults, in seconds from each run's start.
func (v *view) shades() []svg.Shade {
	var out []svg.Shade
	if len(v.phases) > 0 {
		t0 := v.phases[0].Start
		if run := v.ref[v.refArch]; run != nil {
			t0 = run.Start
		}
		for _, p := range v.phases {
			out = append(out, svg.Shade{From: p.Start.Sub(t0).Seconds(), To: p.End.Sub(t0).Seconds(), Label: p.Name})
		}
	}
	labelled := map[string]bool{}
	for _, a := range v.archs {
		run := v.ref[a]
		if run == nil {
			continue
		}
		for _, f := range run.Injected() {
			label := ""
			if !labelled[f.Name] {
				label, labelled[f.Name] = f.Name, true
			}
			out = append(out, svg.Shade{From: offset(run, f.Start), To: offset(run, f.End), Label: label, Fault: true})
		}
	}
	return out
}

// build lays out the whole report.
func (v *view) build() *doc {
	d := &doc{}
	v.summarySection(d)
	v.sweepSection(d)
	v.measuredSection(d)
	v.phaseSection(d)
	v.chartSection(d)
	v.lostSection(d)
	v.costSection(d)
	publishedSection(d, v.ours(v.hfigs))
	v.hopsSection(d)
	v.appendix(d)
	return d
}

// summarySection is the title, what was run, and the trade-offs.
func (v *view) summarySection(d *doc) {
	r := v.r
	d.h(1, v.title())
	var ok, failed, partial int
	for _, run := range r.Runs {
		switch run.Status {
		case results.StatusFailed:
			failed++
		case results.StatusPartial:
			partial++
		default:
			ok++
		}
	}
	var phases []string
	for _, p := range v.phases {
		s := fmt.Sprintf("%s %s", p.Name, fmtSeconds(p.End.Sub(p.Start).Seconds()))
		if p.Description != "" {
			s += " (" + p.Description + ")"
		}
		if p.Warmup {
			s += " [warm-up, excluded]"
		}
		phases = append(phases, s)
	}
	var faults []string
	if run := v.ref[v.refArch]; run != nil {
		for _, f := range run.Faults {
			s := f.Name
			if ph, ok := overlapPhase(run, f); ok {
				s += " during " + ph
			}
			if f.NotInjected {
				s += " (not injected: the target could not take it; the figures of that phase measure no fault)"
			}
			faults = append(faults, s)
		}
	}
	what := fmt.Sprintf("What was run: profile %q", r.Profile)
	if r.Description != "" {
		what += " (" + strings.TrimSuffix(strings.TrimSpace(r.Description), ".") + ")"
	}
	var archNames []string
	for _, a := range v.archs {
		archNames = append(archNames, archName(a))
	}
	where := "in turn on one machine"
	if r.Machine.OnTarget() {
		where = "in turn, on a deployment the bench did not start (" + r.Machine.Deployment + "; the Machine table is the bench's machine)"
	}
	what += fmt.Sprintf(". The same open-loop schedule (same seed, same vision profile) ran against %s %s, from %s to %s.",
		joinAnd(archNames), where, r.Started.UTC().Format("15:04:05"), r.Ended.UTC().Format("15:04:05 UTC"))
	if v.scenario != "" {
		what += fmt.Sprintf(" Scenario %q: %s.", v.scenario, strings.Join(phases, "; "))
	}
	if len(faults) > 0 {
		what += " Faults: " + strings.Join(faults, "; ") + "."
	}
	what += fmt.Sprintf(" Runs: %d (%d ok, %d failed, %d partial).", len(r.Runs), ok, failed, partial)
	if st := v.storageText(); st != "" {
		what += " " + st
	}
	if r.Partial {
		what += " The bench was interrupted: the figures are what it collected until then."
	}
	d.p("%s", what)
	v.glanceSection(d)
	v.headlineSection(d, v.hfigs)
	d.h(2, "Trade-offs")
	header := []string{""}
	for _, a := range v.archs {
		header = append(header, archName(a))
	}
	d.add(table{
		header: append(header, "what it means"),
		rows:   v.tradeoffs(),
		notes: []string{fmt.Sprintf("Each figure is the median over runs (n=runs) with its 95%% bootstrap interval [lo–hi] from %d runs on; with two runs, the two run values; with one, "+
			"its value (n=1, no interval). Percentiles are shown where every run backs them (%s), else the highest backed one, named, with its sample count. ",
			MinRunsForInterval, supportRule()) +
			"The sentences are computed from the figures beside them. " + v.axesNote()},
	})
	d.h(3, "Cost in brief")
	if v.a == nil {
		d.p("No cost analysis was given to the report: there are no cost figures in it.")
	} else if len(v.a.Sentences) == 0 {
		d.p("The cost analysis has no summary sentences; see the Cost section.")
	} else {
		d.list(v.a.Sentences)
	}
}

func joinAnd(ss []string) string {
	switch len(ss) {
	case 0:
		return "no architecture"
	case 1:
		return ss[0]
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " and " + ss[len(ss)-1]
}

// measuredSection says how the figures were obtained.
func (v *view) measuredSection(d *doc) {
	d.h(2, "How it was measured")
	d.add(machineTable(v.r.Machine))
	v.settings(d)
	if st := v.storageText(); st != "" {
		d.p("%s", st)
	}
	if rt := v.riverText(); rt != "" {
		d.p("%s", rt)
	}
	v.phaseTable(d)
	v.faultTable(d)
	v.runTable(d)
	v.orderTable(d)
	d.p("Where the figures come from: latency comes from the load generator's HDR histograms, measured from each request's intended start " +
		"(so a stalled server or generator cannot hide queueing: no coordinated omission), warm-up phases excluded; upload-to-ready is " +
		"from the upload's intended start to the photo's ready_at. Everything else (request rates, replicas, lag, cold starts, CPU, memory, " +
		"dead-letter writes) comes from Prometheus range queries over each run's window (from 5 s before its start to 5 s after its last " +
		"upload was final) at a 1 s step; the appendix lists every query. Counters are read as they grew over the window (a process " +
		"restarted or started inside it counts from 0).")
	d.p("%s", methodsText())
}

// methodsText says exactly what each spread and interval in the report is.
func methodsText() string {
	return fmt.Sprintf("Statistics. A figure over repetitions is computed per run and shown as the median of the run values. Its interval [lo–hi] "+
		"is a 95%% percentile bootstrap of that median: %d resamples of the run values drawn with replacement, the median of each, and the 2.5th and "+
		"97.5th percentiles of those medians; the generator (PCG) starts from seed %d for every interval, so the same results give the same report. "+
		"An interval is given from %d runs on; with fewer, the report shows the run values and says “no interval” (n is always the number of runs). "+
		"A ratio between two variants is the ratio of their medians; its interval resamples each variant's run values independently, %d times, "+
		"and reads the same percentiles of the resampled ratios. Percentiles of latency are read from each run's HDR histogram and shown only where "+
		"the histogram backs them: %s; below that the highest backed percentile is shown, named, with its sample count (a p99 of 119 samples is "+
		"about the second-largest value). Counts and per-second rates are exact per run. There are no other spreads: the per-phase, sweep and "+
		"trade-off tables use the same median, interval and run values.", BootstrapResamples, BootstrapSeed, MinRunsForInterval, BootstrapResamples, supportRule())
}

// orNotRecorded is s, or "not recorded" (as n/a) when s is blank.
func orNotRecorded(s string) string {
	if strings.TrimSpace(s) == "" {
		return na("not recorded")
	}
	return s
}

// machineTable is the machine's fingerprint: its hardware, its OS and the
// versions of the software measured, the stack's first.
func machineTable(m results.Machine) table {
	mem := na("not recorded")
	if m.MemoryBytes > 0 {
		mem = fmt.Sprintf("%.1f GiB", float64(m.MemoryBytes)/(1<<30))
	}
	cores := na("not recorded")
	if m.Cores > 0 {
		cores = fmt.Sprint(m.Cores)
	}
	rows := [][]string{{"CPU", orNotRecorded(m.CPU)}, {"cores", cores}, {"memory", mem}, {"OS", orNotRecorded(m.OS)}, {"kernel", orNotRecorded(m.Kernel)}}
	if m.Deployment != "" {
		rows = append([][]string{{"deployment", m.Deployment}}, rows...)
	}
	if m.Commit != "" {
		c := m.Commit
		if m.Dirty {
			c += " (dirty: the tree had uncommitted changes)"
		}
		if m.CommitSource != "" {
			c += ", read from the " + m.CommitSource
		}
		rows = append(rows, []string{"photobench commit", c})
	}
	if m.Load.Seconds > 0 {
		rows = append(rows, []string{"host load before the bench", loadText(m.Load)})
	}
	named := []string{"go", "postgresql", "kafka", "minio", "prometheus"}
	display := map[string]string{"go": "Go", "postgresql": "PostgreSQL", "kafka": "Kafka", "minio": "MinIO", "prometheus": "Prometheus"}
	for _, k := range named {
		rows = append(rows, []string{display[k] + " version", orNotRecorded(m.Versions[k])})
	}
	for _, k := range sortedKeys(m.Versions) {
		if _, ok := display[k]; !ok {
			rows = append(rows, []string{k + " version", orNotRecorded(m.Versions[k])})
		}
	}
	caption := "Machine"
	if m.OnTarget() {
		caption = "Machine (the bench's; a target's nodes are not recorded)"
	}
	return table{caption: caption, header: []string{"", "value"}, rows: rows}
}

// settings lists the knobs that shape the figures, the phases the cost
// model reads and the SLO.
func (v *view) settings(d *doc) {
	r := v.r
	var set [][]string
	for _, k := range sortedKeys(r.Settings) {
		set = append(set, []string{k, r.Settings[k]})
	}
	if r.SteadyPhase != "" {
		set = append(set, []string{"steady phase (cost model)", r.SteadyPhase})
	}
	if r.IdlePhase != "" {
		set = append(set, []string{"idle phase (cost model)", r.IdlePhase})
	}
	if r.SLO > 0 {
		set = append(set, []string{"SLO: p99 ack latency", fmtSeconds(r.SLO)})
	}
	if r.SLOReady > 0 {
		set = append(set, []string{"SLO: p99 upload-to-ready latency", fmtSeconds(r.SLOReady)})
	}
	if len(set) == 0 {
		d.p("Settings: none recorded.")
	} else {
		d.add(table{caption: "Settings", header: []string{"setting", "value"}, rows: set})
	}
}

// phaseTable lists the phases of the scenario the report charts, when it
// has any.
func (v *view) phaseTable(d *doc) {
	var ph [][]string
	for _, p := range v.phases {
		warm := "no"
		if p.Warmup {
			warm = "yes (excluded from every figure)"
		}
		ph = append(ph, []string{p.Name, fmtSeconds(p.End.Sub(p.Start).Seconds()), orNotRecorded(p.Description), warm})
	}
	if len(ph) > 0 {
		d.add(table{caption: fmt.Sprintf("Phases of scenario %q", v.scenario), header: []string{"phase", "duration", "pacer", "warm-up"}, rows: ph})
	}
}

// faultTable lists every fault injected, in every run, as it happened.
func (v *view) faultTable(d *doc) {
	var fr [][]string
	for _, run := range v.r.Runs {
		for _, f := range run.Faults {
			phase, _ := overlapPhase(&run, f)
			fr = append(fr, []string{runLabel(run), f.Name, orNotRecorded(f.Description), orNotRecorded(phase),
				fmt.Sprintf("%.1f s – %.1f s", offset(&run, f.Start), offset(&run, f.End)), fmtSeconds(f.End.Sub(f.Start).Seconds())})
		}
	}
	if len(fr) == 0 {
		d.p("Faults: none were injected.")
	} else {
		d.add(table{caption: "Faults, as they happened", header: []string{"run", "fault", "description", "phase", "window (from the run's start)", "duration"}, rows: fr})
	}
}

// loadText is a host load: "load average 0.12 / 0.30 / 0.41; other processes 0.05 cores over 3 s".
func loadText(l results.HostLoad) string {
	if l.Seconds <= 0 {
		return na("not recorded")
	}
	return fmt.Sprintf("load average %.2f / %.2f / %.2f (1, 5, 15 min); other processes %.2f cores over %s",
		l.LoadAvg[0], l.LoadAvg[1], l.LoadAvg[2], l.OtherCPU, fmtSeconds(l.Seconds))
}

// orderTable lists the runs in the order they ran, with their place in the
// balanced order and the state each started from.
func (v *view) orderTable(d *doc) {
	r := v.r
	if len(r.Order) == 0 {
		return
	}
	var rows [][]string
	for _, o := range r.Order {
		var state []string
		if o.Fresh != "" {
			state = append(state, "fresh: "+o.Fresh)
		}
		for _, m := range []struct {
			what string
			n    map[string]int64
		}{{"rows", o.Rows}, {"objects", o.Objects}, {"lag", o.Lag}} {
			var parts []string
			for _, k := range sortedKeys(m.n) {
				parts = append(parts, fmt.Sprintf("%s %d", k, m.n[k]))
			}
			if len(parts) > 0 {
				state = append(state, m.what+" at start: "+strings.Join(parts, ", "))
			}
		}
		state = append(state, o.Problems...)
		name := o.Scenario
		if o.SweepRate > 0 {
			name = fmt.Sprintf("%s (%s req/s)", o.Scenario, fmtNum(o.SweepRate))
		}
		rows = append(rows, []string{fmt.Sprint(o.Index), fmt.Sprintf("%d.%d", o.Block, o.Position), archName(o.Arch), name, fmt.Sprint(o.Repeat),
			orNotRecorded(strings.Join(state, "; ")), loadText(o.Load)})
	}
	d.add(table{caption: fmt.Sprintf("Order of the runs (seed %d: each block runs every variant once, in a counterbalanced order)", r.OrderSeed),
		header: []string{"#", "block.position", "architecture", "scenario", "repeat", "state at start", "host load before the run"}, rows: rows})
}

// runTable lists every run, failed ones included, with its window and
// where its raw data is.
func (v *view) runTable(d *doc) {
	var rr [][]string
	for _, run := range v.r.Runs {
		win := na("never started")
		if !run.Start.IsZero() {
			win = fmt.Sprintf("%s, schedule %s, drained after %s", run.Start.UTC().Format("15:04:05"),
				fmtSeconds(run.End.Sub(run.Start).Seconds()), fmtSeconds(math.Max(run.Drain.Sub(run.Start).Seconds(), 0)))
		}
		errText := run.Error
		if errText == "" {
			errText = "–"
		}
		rr = append(rr, []string{archName(run.Arch), run.Scenario, fmt.Sprint(run.Repeat), run.Status, errText, win, run.Dir})
	}
	if len(rr) == 0 {
		d.p("Runs: none — there is nothing to report.")
	} else {
		d.add(table{caption: "Runs (failed runs included)", header: []string{"architecture", "scenario", "repeat", "status", "error", "window", "raw data"}, rows: rr,
			code: map[int]bool{6: true}})
	}
}

// runLabel names a run in tables.
func runLabel(run results.Run) string {
	return fmt.Sprintf("%s %s #%d", archName(run.Arch), run.Scenario, run.Repeat)
}

// appendix lists the queries and the raw files.
func (v *view) appendix(d *doc) {
	d.h(2, "Appendix")
	var q [][]string
	for _, x := range v.r.Queries {
		q = append(q, []string{x.Name, x.Unit, x.Expr, x.Description})
	}
	if len(q) == 0 {
		d.p("Queries: none recorded in results.json.")
	} else {
		d.add(table{caption: "Prometheus queries (range queries, 1 s step)", header: []string{"name", "unit", "expression", "what"}, rows: q,
			code: map[int]bool{0: true, 2: true}})
	}
	var files [][]string
	add := func(path, what string) {
		files = append(files, []string{path, what, fileState(filepath.Join(v.dir, path))})
	}
	add(results.File, "every figure of this report")
	add("queries.json", "the PromQL of every captured series")
	for _, run := range v.r.Runs {
		if run.Dir == "" {
			continue
		}
		add(filepath.ToSlash(filepath.Join(run.Dir, "summary.json")), runLabel(run)+": the load generator's HDR summary")
		add(filepath.ToSlash(filepath.Join(run.Dir, "latency.hlog")), runLabel(run)+": its raw interval histograms (HdrHistogram log)")
		add(filepath.ToSlash(filepath.Join(run.Dir, "prom"))+"/<query>.json", runLabel(run)+": Prometheus's answers, as returned")
	}
	d.add(table{caption: "Raw data (paths relative to this directory)", header: []string{"path", "what", "present"}, rows: files, code: map[int]bool{0: true}})
}

// fileState says whether path exists (a "<query>" pattern: how many match).
func fileState(path string) string {
	if strings.Contains(path, "<query>") {
		entries, _ := os.ReadDir(filepath.Dir(path))
		n := 0
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".json") {
				n++
			}
		}
		if n == 0 {
			return "no"
		}
		return fmt.Sprintf("%d files", n)
	}
	if _, err := os.Stat(path); err == nil {
		return "yes"
	}
	return "no"
}

// fmtOffset formats seconds from a run's start.
func fmtOffset(s float64) string { return fmt.Sprintf("%.0f s", s) }

// dur is a window's length in seconds.
func dur(w results.Window) float64 { return w.End.Sub(w.Start).Seconds() }

// captureMarginDur is how far the captured series reach beyond a run's
// schedule on both sides (package bench).
const captureMarginDur = 5 * time.Second
