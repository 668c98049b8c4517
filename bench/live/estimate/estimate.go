// Package estimate is the live page's CPU and running cost per million
// photos of each variant, from the same model the bench report uses
// (package bench/cost): for a window of the live session (the last
// minute, say) it captures the report's own series from the stack's
// Prometheus (results.QueriesFor, bench.QueryRange), makes of them and of
// the load generator's in-process counts a one-run results.Results whose
// steady phase is the window, runs cost.Analyze on it and reads the
// architecture's reference pricing option at the window's photo rate
// (Analysis.PerMillionAt).
//
// One thing differs from a report, and the figures say so: a bench runs
// the variants one at a time, a live session runs all three at once on one
// stack. Their own processes are told apart by their architecture label,
// but one PostgreSQL serves the three (databases monolith, monolith_async
// and catalog), and the report's model adds the PostgreSQL server's whole
// CPU to each. Here it is split between them, so that it is counted once:
// by the CPU its backends (one process per connection, each serving one
// database) used for each variant's database over the window, measured
// from /proc (Backends, Shares). Kafka and MinIO serve the event-driven
// app only (the monoliths keep photos on disk unless the stack's
// PHOTOBENCH_MONOLITH_STORAGE says s3, which the note then says) and are
// counted there, as in the report; the vision service and Prometheus are
// left out, as in the report.
//
// The stack's servers' CPU and PostgreSQL's backends' are exported while a
// live session runs by an Exporter the session starts (a bench exports the
// servers' CPU for its own runs only).
package estimate

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/loadgen"
)

// Phase is the name of the window's phase in the results the estimate
// builds: the cost model's steady phase.
const Phase = "live"

// postgres is the PostgreSQL server's component label (stack.ServerPIDs).
const postgres = "postgresql"

// Estimator estimates each variant's CPU and cost per million photos over
// a window of a live session. ForStack fills it for a stack.
type Estimator struct {
	// PrometheusURL is the stack's Prometheus.
	PrometheusURL string
	// AppSet selects the apps' series (scrape label app_set): "stack" for
	// make up's apps.
	AppSet string
	// Sheets are the price sheets (cost.Sheets).
	Sheets []cost.Sheet
	// Databases name each architecture's PostgreSQL database: the split of
	// PostgreSQL's CPU reads their backends' CPU.
	Databases map[string]string
	// Exporter is the session's: only its series of the servers' CPU and
	// of the backends' are read (a bench running meanwhile exports the
	// servers' CPU too), and windows start no earlier than its Since. Nil
	// reads every exporter's series, from any time.
	Exporter *Exporter
	// Settings are the results' settings the cost model reads
	// (kafka_partitions, monolith_storage).
	Settings map[string]string
}

// ForStack is an Estimator for the apps of stack c, reading the servers'
// CPU and PostgreSQL's backends' from exporter.
func ForStack(c stack.Config, sheets []cost.Sheet, exporter *Exporter) Estimator {
	mono, _, _ := c.MonolithState("monolith")
	async, _, _ := c.MonolithState("monolith-async")
	storage := c.MonolithStorage
	if storage == "" {
		storage = "disk"
	}
	return Estimator{
		PrometheusURL: c.PrometheusURL(),
		AppSet:        c.AppSet(),
		Sheets:        sheets,
		Databases: map[string]string{results.Monolith: mono, results.MonolithAsync: async,
			results.EventDriven: databaseOf(appEnv(c, "PHOTOBENCH_CATALOG_PG_DSN"))},
		Exporter: exporter,
		Settings: map[string]string{"kafka_partitions": strconv.Itoa(c.KafkaPartitions), "monolith_storage": storage},
	}
}

// appEnv is the value of name in the stack's apps' environment contract.
func appEnv(c stack.Config, name string) string {
	for _, kv := range c.AppEnv() {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

// databaseOf is the database a PostgreSQL URL names.
func databaseOf(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// LoadCounts are the load generator's counts of one variant over the
// window, from the load running in the session's process.
type LoadCounts struct {
	Uploads  uint64 // uploads answered ok: the photos
	Requests uint64 // requests answered ok, uploads included
	Sent     uint64 // requests sent: the front door's requests
	Polls    uint64 // the ready follower's polls (instrumentation, left out of the cost)
}

// Estimate is one variant's figures over a window.
type Estimate struct {
	// CPUCores is the cores the variant used over the window: the
	// CPU-seconds of the components the cost model counts for it (its
	// processes, its share of PostgreSQL, and Kafka and MinIO for the
	// event-driven app) over the window's length. NaN when not measured;
	// CPUNote says what is counted, or why it is missing.
	CPUCores float64
	CPUNote  string
	// PostgreSQLCores is the part of CPUCores that is the variant's share
	// (PostgreSQLShare, 0 to 1) of the PostgreSQL server's cores: the
	// three variants' add up to the server's. NaN when not measured.
	PostgreSQLCores float64
	PostgreSQLShare float64
	// PerMillionUSD is the cost of a million photos at the window's photo
	// rate with the architecture's reference pricing option (Option, its
	// display name), when OK; NaN otherwise. Note says what it rests on,
	// or why there is none.
	PerMillionUSD float64
	Option        string
	Note          string
	OK            bool
}

// Estimate returns architecture arch's estimate over the window [from,
// to], with the load generator's counts over the same window. The window
// should be a minute or so (the cost model reads a steady load; a short
// window is noisy), start no earlier than the Exporter's Since and end no
// later than now. Figures that cannot be measured are NaN with a note; the
// error is for unusable arguments and for a Prometheus that answers no
// query. Safe for concurrent use.
func (e Estimator) Estimate(ctx context.Context, arch string, from, to time.Time, counts LoadCounts) (Estimate, error) {
	out := Estimate{CPUCores: math.NaN(), PostgreSQLCores: math.NaN(), PerMillionUSD: math.NaN()}
	opts := cost.OptionsOf(arch)
	if len(opts) == 0 {
		return out, fmt.Errorf("live estimate: unknown architecture %q", arch)
	}
	out.Option = cost.OptionName(opts[0])
	secs := to.Sub(from).Seconds()
	if !(secs > 0) {
		return out, fmt.Errorf("live estimate %s: empty window %s to %s", arch, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if e.Exporter != nil {
		if since := e.Exporter.Since(); since.IsZero() || from.Before(since) {
			out.CPUNote = "not measured yet: the window starts before the live exporter's first sample"
			out.Note = out.CPUNote
			return out, nil
		}
	}
	series, problems, err := e.capture(ctx, arch, from, to)
	if err != nil {
		return out, err
	}
	split := e.split(ctx, from, to)
	scale(series[results.QComponentCPU], postgres, split.Shares[arch])

	run := results.Run{Arch: arch, Scenario: Phase, Repeat: 1, Status: results.StatusOK,
		Start: from, End: to, Drain: to,
		Phases:  []results.Window{{Name: Phase, Start: from, End: to, Description: "the live session's window"}},
		Summary: summary(counts), Series: series}
	r := &results.Results{Profile: Phase, Started: from, Ended: to, SteadyPhase: Phase,
		Settings: e.Settings, Runs: []results.Run{run}}
	a, err := cost.Analyze(r, e.Sheets)
	if err != nil {
		return out, fmt.Errorf("live estimate %s: %w", arch, err)
	}
	u := a.Usage[arch]
	out.CPUCores, out.CPUNote = cores(u.CPUSeconds, secs, arch, split)
	out.PostgreSQLShare = split.Shares[arch]
	if pg, ok := u.CPUSeconds[postgres]; ok {
		out.PostgreSQLCores = pg / secs
	}
	if strings.HasPrefix(e.Settings["monolith_storage"], "s3") {
		out.CPUNote += "; the monoliths keep photos in MinIO here (PHOTOBENCH_MONOLITH_STORAGE=s3), whose CPU counts for the event-driven app only, as in the report"
	}
	if len(problems) > 0 {
		out.CPUNote += "; " + brief.OneLine(strings.Join(problems, "; "))
	}

	if counts.Uploads == 0 {
		out.Note = "no photos in the window"
		return out, nil
	}
	load := float64(counts.Uploads) / secs
	usd, ok := a.PerMillionAt(opts[0], load)
	if !ok {
		// The window is a steady phase only: the idle figures' reasons are
		// not why.
		why := slices.DeleteFunc(slices.Clone(u.Missing), func(m string) bool { return strings.Contains(m, "idle") })
		out.Note = "not priced: " + strings.Join(why, "; ")
		if len(why) == 0 {
			out.Note = "not priced: the cost model has no line for " + out.Option + " (a price or a measurement missing)"
		}
		return out, nil
	}
	out.PerMillionUSD, out.OK = usd, true
	out.Note = fmt.Sprintf("%s at %s photos/s (%d photos in the last %s), the bench report's model; PostgreSQL's CPU split between the variants by their backends' CPU, since they run together (a report runs each alone)",
		out.Option, strconv.FormatFloat(load, 'g', 3, 64), counts.Uploads, time.Duration(secs*float64(time.Second)).Round(time.Second))
	return out, nil
}

// summary is the load generator's summary of the window's counts, as the
// cost model reads it.
func summary(c LoadCounts) loadgen.Summary {
	return loadgen.Summary{Phases: []loadgen.PhaseSummary{{
		Name:  Phase,
		All:   loadgen.Stats{OK: c.Requests, Sent: c.Sent},
		Ops:   map[loadgen.Op]loadgen.Stats{loadgen.OpUpload: {OK: c.Uploads, Sent: c.Uploads}},
		Ready: &loadgen.ReadySummary{Polls: c.Polls},
	}}}
}

// capture queries the report's series of arch over the window from the
// stack's Prometheus (from a few seconds before it, so that every counter
// has its baseline), the servers' CPU of the Exporter's instance only
// when set. problems name the queries that failed; the error is for none
// answering.
func (e Estimator) capture(ctx context.Context, arch string, from, to time.Time) (map[string][]results.Series, []string, error) {
	series := map[string][]results.Series{}
	var problems []string
	var last error
	qs := results.QueriesFor(arch, e.AppSet)
	for _, q := range qs {
		_, ss, err := bench.QueryRange(ctx, e.PrometheusURL, q.Expr, from.Add(-results.CaptureMargin), to, time.Second)
		if err != nil {
			problems, last = append(problems, q.Name+": "+err.Error()), err
			continue
		}
		if q.Name == results.QComponentCPU && e.Exporter != nil {
			ss = slices.DeleteFunc(ss, func(s results.Series) bool { return s.Labels["instance"] != e.Exporter.Addr })
		}
		series[q.Name] = ss
	}
	if len(problems) == len(qs) {
		return nil, nil, fmt.Errorf("live estimate %s: query Prometheus at %s: %w", arch, e.PrometheusURL, last)
	}
	return series, problems, nil
}

// split measures the CPU of each architecture's database's backends over
// the window and shares PostgreSQL out by it (Shares); an equal split says
// why.
func (e Estimator) split(ctx context.Context, from, to time.Time) Split {
	sel := ""
	if e.Exporter != nil {
		sel = `{instance="` + e.Exporter.Addr + `"}`
	}
	expr := `sum by (instance, database) (` + BackendCPUMetric + sel + `)`
	_, ss, err := bench.QueryRange(ctx, e.PrometheusURL, expr, from.Add(-results.CaptureMargin), to, time.Second)
	byDB := results.Run{Series: map[string][]results.Series{"backends": ss}}.Increases("backends", "database", from, to)
	cpu := map[string]float64{}
	for _, arch := range results.Archs {
		cpu[arch] = byDB[e.Databases[arch]]
	}
	s := Shares(cpu)
	switch {
	case err != nil:
		s.Why = "its backends' CPU not read (" + brief.OneLine(err.Error()) + "): split in equal thirds"
	case len(ss) == 0:
		s.Why = "its backends' CPU not measured (no " + BackendCPUMetric + " series: is the live exporter running?): split in equal thirds"
	case s.Equal:
		s.Why = "no backend CPU of the variants' databases in the window: split in equal thirds"
	}
	return s
}

// scale multiplies the points of the series of component c by f: the
// variant's share of a server's CPU.
func scale(ss []results.Series, c string, f float64) {
	for i := range ss {
		if ss[i].Labels["component"] != c {
			continue
		}
		pts := make([][2]float64, len(ss[i].Points))
		for j, p := range ss[i].Points {
			pts[j] = [2]float64{p[0], p[1] * f}
		}
		ss[i].Points = pts
	}
}

// cores is the cores the CPU-seconds by component (the cost model's, for
// arch) make over secs, and what they count.
func cores(cpu map[string]float64, secs float64, arch string, split Split) (float64, string) {
	var apps []string
	for _, c := range slices.Sorted(maps.Keys(cpu)) {
		if c != postgres {
			apps = append(apps, c+" "+coresText(cpu[c]/secs))
		}
	}
	if len(apps) == 0 {
		return math.NaN(), "not measured: no CPU series of its processes in the window"
	}
	total := 0.0
	for _, c := range slices.Sorted(maps.Keys(cpu)) { // one order: the same bits every time
		total += cpu[c]
	}
	note := "cores: " + strings.Join(apps, ", ")
	pg, ok := cpu[postgres]
	switch {
	case !ok:
		note += "; PostgreSQL not measured (no " + postgres + " CPU series: is the live exporter running?)"
	case split.Equal:
		note += ", PostgreSQL " + coresText(pg/secs) + " (" + split.Why + ")"
	default:
		var all float64
		for _, a := range slices.Sorted(maps.Keys(split.Measured)) {
			all += split.Measured[a]
		}
		note += fmt.Sprintf(", PostgreSQL %s (%.0f%% of the server's: its database's backends used %s of the variants' %s CPU-seconds)",
			coresText(pg/secs), 100*split.Shares[arch], coresText(split.Measured[arch]), coresText(all))
	}
	return total / secs, note + "; vision and Prometheus left out"
}

// coresText writes cores (or CPU-seconds) to two significant digits.
func coresText(v float64) string { return strconv.FormatFloat(v, 'g', 2, 64) }
