package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/report"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/loadgen"
)

// The fixture: the quick profile's phases (seconds from each run's start),
// a vision outage over the outage phase, and series shaped so that the
// figures the report computes are known:
//   - steady upload ack p99: monolith 110 ms, event-driven 12 ms (9.2x);
//   - steady upload-to-ready p50: monolith 80 ms, event-driven 2.38 s (2.30 s later);
//   - outage: the monolith fails 75 of 75 uploads, event-driven none;
//   - event-driven lag: 2 before the outage, +2.5/s during it (peak 75 at
//     145 s), -5/s after it: back to <= 2 at 160 s, 15 s after the fault;
//   - uploads intended at second T of the outage are ready after 165-T s
//     at most (50 s for the first);
//   - event-driven replicas: 0 from 82 s, 12 s into the idle phase;
//   - 4 first-request cold starts, the slowest in the 1 s bucket;
//   - 2 dead-lettered events (tagger).
var phaseSpec = []struct {
	name       string
	from, to   float64
	warmup     bool
	rate       float64
	desc       string
	hasSummary bool
}{
	{"warmup", 0, 15, true, 5, "constant 5/s", false},
	{"steady", 15, 55, false, 10, "constant 10/s", true},
	{"burst", 55, 70, false, 30, "constant 30/s", true},
	{"idle", 70, 105, false, 0, "idle", false},
	{"cold", 105, 115, false, 2, "constant 2/s", true},
	{"outage", 115, 145, false, 10, "constant 10/s", true},
	{"recovery", 145, 175, false, 10, "constant 10/s", true},
}

// faultName has characters that must be escaped in every chart it names.
const faultName = `vision outage (503 & <"fail">)`

func at(t0 time.Time, s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func phaseOf(s float64) string {
	for _, p := range phaseSpec {
		if s >= p.from && s < p.to {
			return p.name
		}
	}
	return ""
}

func stats(sched, errs uint64, rate, p50, p99, mx float64) loadgen.Stats {
	st := loadgen.Stats{Scheduled: sched, Sent: sched, OK: sched - errs, Errors: errs, TargetRate: rate, AchievedRate: rate * 0.99,
		Latency: loadgen.Quantiles{Count: int64(sched), P50: p50, P90: p99 * 0.8, P99: p99, P999: mx, Max: mx}}
	if errs > 0 {
		st.ErrorsByClass = map[string]uint64{"5xx": errs}
	}
	return st
}

func summary(arch string) loadgen.Summary {
	var s loadgen.Summary
	for _, p := range phaseSpec {
		if !p.hasSummary {
			continue
		}
		d := p.to - p.from
		n := uint64(p.rate * d)
		up := uint64(p.rate * d / 4)
		upP50, upP99, upMax := 0.08, 0.110, 0.2
		readyP50, readyP99 := 0.08, 0.12
		var upErr uint64
		switch arch {
		case results.EventDriven:
			upP50, upP99, upMax = 0.006, 0.012, 0.05
			readyP50, readyP99 = 2.38, 3.5
		case results.MonolithAsync:
			upP50, upP99, upMax = 0.005, 0.015, 0.04
			readyP50, readyP99 = 0.15, 0.4
		}
		if p.name == "cold" && arch == results.EventDriven {
			upP99, upMax = 1.2, 1.4
		}
		if p.name == "outage" && arch == results.Monolith {
			upErr = up
		}
		all := stats(n, upErr, p.rate, upP50, upP99, upMax)
		ps := loadgen.PhaseSummary{Name: p.name, All: all, Ops: map[loadgen.Op]loadgen.Stats{
			loadgen.OpUpload: stats(up, upErr, p.rate/4, upP50, upP99, upMax),
			loadgen.OpGet:    stats(n-up, 0, p.rate*3/4, upP50/2, upP99/2, upMax/2),
		}}
		if arch == results.Monolith && p.name == "burst" {
			ps.All.Dropped = 3
		}
		ok := up - upErr
		ps.Ready = &loadgen.ReadySummary{Followed: ok, Ready: ok, Polls: ok * 3, PollsPerPhoto: 3,
			Latency: loadgen.Quantiles{Count: int64(ok), P50: readyP50, P90: readyP99 * 0.8, P99: readyP99, Max: readyP99 * 1.2}}
		if ok == 0 {
			ps.Ready = &loadgen.ReadySummary{}
		}
		s.Phases = append(s.Phases, ps)
	}
	return s
}

func timelineOf(arch string) []results.Point {
	var out []results.Point
	for t := 0.0; t < 175; t++ {
		ph := phaseOf(t)
		if ph == "idle" {
			continue
		}
		p99 := 0.110 + 0.01*math.Mod(t, 7)
		ready := 0.12
		switch arch {
		case results.EventDriven:
			p99 = 0.012 + 0.001*math.Mod(t, 5)
			ready = 2.5
			if ph == "outage" {
				ready = 165 - t
			}
		case results.MonolithAsync:
			p99 = 0.010 + 0.002*math.Mod(math.Floor(t/10), 5) // the steady phase's 10-second slices: 14 to 18 ms
			ready = 0.2
			if ph == "outage" {
				ready = 153 - t
			}
		}
		out = append(out,
			results.Point{T: t, Op: "upload", Count: 2, P50: p99 / 2, P99: p99, Max: p99 * 1.5},
			results.Point{T: t, Op: "get", Count: 3, P50: p99 / 4, P99: p99 / 2, Max: p99},
			results.Point{T: t, Op: "ready", Count: 2, P50: ready * 0.9, P99: ready, Max: ready})
	}
	return out
}

// counterSeries integrates rate(t) from the first sample.
func counterSeries(labels map[string]string, t0 time.Time, from, to float64, rate func(float64) float64) results.Series {
	s := results.Series{Labels: labels}
	total := 0.0
	for t := from; t <= to; t++ {
		total += rate(t)
		s.Points = append(s.Points, [2]float64{float64(at(t0, t).UnixMilli()) / 1e3, total})
	}
	return s
}

func gaugeSeries(labels map[string]string, t0 time.Time, from, to float64, v func(float64) float64) results.Series {
	s := results.Series{Labels: labels}
	for t := from; t <= to; t++ {
		s.Points = append(s.Points, [2]float64{float64(at(t0, t).UnixMilli()) / 1e3, v(t)})
	}
	return s
}

func lbl(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func loaded(t float64) bool { ph := phaseOf(t); return ph != "" && ph != "idle" }

func lag(t float64) float64 {
	switch {
	case t >= 108 && t <= 110:
		return 2
	case t >= 115 && t < 145:
		return 2.5 * (t - 115)
	case t >= 145:
		return math.Max(0, 75-5*(t-145))
	}
	return 0
}

func series(arch string, t0 time.Time, end float64) map[string][]results.Series {
	from, to := -5.0, end+5
	ss := map[string][]results.Series{}
	g := func(name string, labels map[string]string, v func(float64) float64) {
		ss[name] = append(ss[name], gaugeSeries(labels, t0, from, to, v))
	}
	c := func(name string, labels map[string]string, rate func(float64) float64) {
		ss[name] = append(ss[name], counterSeries(labels, t0, from, to, rate))
	}
	outage := func(t float64) bool { return t >= 115 && t < 145 }
	g(results.QRequestRate, lbl("operation", "upload", "outcome", "ok"), func(t float64) float64 {
		if !loaded(t) || (arch == results.Monolith && outage(t)) {
			return 0
		}
		return 2.5
	})
	g(results.QRequestRate, lbl("operation", "get", "outcome", "ok"), func(t float64) float64 {
		if loaded(t) {
			return 7.5
		}
		return 0
	})
	if arch == results.Monolith {
		g(results.QRequestRate, lbl("operation", "upload", "outcome", "5xx"), func(t float64) float64 {
			if outage(t) {
				return 2.5
			}
			return 0
		})
		g(results.QRequestRate, lbl("operation", "get", "outcome", "dropped"), func(t float64) float64 {
			if phaseOf(t) == "burst" {
				return 0.2
			}
			return 0
		})
		c(results.QProcessCPU, lbl("component", "monolith", "instance", "m1"), func(float64) float64 { return 0.05 })
		g(results.QProcessMemory, lbl("component", "monolith", "instance", "m1"), func(float64) float64 { return 50e6 })
	} else if arch == results.MonolithAsync {
		c(results.QProcessCPU, lbl("component", "monolith-async", "instance", "a1"), func(float64) float64 { return 0.05 })
		g(results.QProcessMemory, lbl("component", "monolith-async", "instance", "a1"), func(float64) float64 { return 55e6 })
		g(results.QRequestRate, lbl("operation", "upload", "outcome", "5xx"), func(float64) float64 { return 0 })
		// The job backlog: 1 running while loaded; the outage's uploads
		// wait as available jobs (+2.5/s, 75 at 145 s) and drain at 10/s
		// after it: back to 1 (the level before) at 153 s, 8 s after.
		g(jobsSeries, lbl("state", "running"), func(t float64) float64 {
			if loaded(t) {
				return 1
			}
			return 0
		})
		g(jobsSeries, lbl("state", "available"), func(t float64) float64 {
			switch {
			case t >= 115 && t < 145:
				return 2.5 * (t - 115)
			case t >= 145:
				return math.Max(0, 75-10*(t-145))
			}
			return 0
		})
		g(jobsSeries, lbl("state", "retryable"), func(float64) float64 { return 0 })
	} else {
		fns := []string{"ingest", "query", "thumbnailer", "tagger", "catalog"}
		replicas := func(fn string) func(float64) float64 {
			return func(t float64) float64 {
				switch {
				case t >= 82 && t < 106:
					return 0
				case fn == "tagger" && t >= 115 && t < 160:
					return 2
				}
				return 1
			}
		}
		for _, fn := range fns {
			g(results.QReplicas, lbl("function", fn), replicas(fn))
			g(results.QDesiredReplicas, lbl("function", fn), replicas(fn))
			c(results.QReplicaSeconds, lbl("function", fn), replicas(fn))
			c(results.QProcessCPU, lbl("component", fn, "instance", fn+"-1"), func(t float64) float64 { return 0.01 * replicas(fn)(t) })
			g(results.QProcessMemory, lbl("component", fn, "instance", fn+"-1"), func(t float64) float64 { return 20e6 * replicas(fn)(t) })
		}
		// A second ingest replica, born in the burst.
		ss[results.QProcessCPU] = append(ss[results.QProcessCPU], counterSeries(lbl("component", "ingest", "instance", "ingest-2"), t0, 60, 80, func(float64) float64 { return 0.02 }))
		for _, fn := range []string{"front", "runtime"} {
			c(results.QProcessCPU, lbl("component", fn, "instance", fn), func(float64) float64 { return 0.004 })
			g(results.QProcessMemory, lbl("component", fn, "instance", fn), func(float64) float64 { return 15e6 })
		}
		g(results.QLag, lbl("function", "tagger"), lag)
		g(results.QLag, lbl("function", "catalog"), func(float64) float64 { return 0 })
		g(results.QRequestRate, lbl("operation", "upload", "outcome", "5xx"), func(float64) float64 { return 0 })
		c(results.QDLQ, lbl("component", "tagger"), func(t float64) float64 {
			if t == 146 || t == 150 {
				return 1
			}
			return 0
		})
		cold := func(fn, phase, le string, n float64) {
			c(results.QColdStarts, lbl("function", fn, "phase", phase, "le", le), func(t float64) float64 {
				if t == 106 {
					return n
				}
				return 0
			})
		}
		cold("ingest", "first_request", "0.25", 1)
		cold("ingest", "first_request", "0.5", 3)
		cold("ingest", "first_request", "1", 4)
		cold("ingest", "first_request", "+Inf", 4)
		cold("ingest", "process_ready", "0.05", 4)
		cold("ingest", "process_ready", "+Inf", 4)
		cold("thumbnailer", "first_event", "1", 2)
		cold("thumbnailer", "first_event", "2", 3)
		cold("thumbnailer", "first_event", "+Inf", 3)
	}
	c(results.QProcessCPU, lbl("component", "vision", "instance", "v"), func(float64) float64 { return 0.01 })
	g(results.QProcessMemory, lbl("component", "vision", "instance", "v"), func(float64) float64 { return 25e6 })
	for i, srv := range []string{"kafka", "minio", "postgresql", "prometheus"} {
		c(results.QComponentCPU, lbl("component", srv), func(float64) float64 { return 0.01 * float64(i+1) })
		g(results.QComponentMemory, lbl("component", srv), func(float64) float64 { return 100e6 * float64(i+1) })
	}
	g(results.QVisionOutage, nil, func(t float64) float64 {
		if outage(t) {
			return 1
		}
		return 0
	})
	return ss
}

func run(arch string, t0 time.Time, drain float64) results.Run {
	r := results.Run{Arch: arch, Scenario: "quick", Repeat: 1, Status: results.StatusOK, Dir: "runs/quick-" + arch + "-1",
		Start: t0, End: at(t0, 175), Drain: at(t0, drain),
		Faults:  []results.Window{{Name: faultName, Start: at(t0, 115), End: at(t0, 145), Description: `vision profile {"outage":"fail"}`}},
		Summary: summary(arch), Timeline: timelineOf(arch), Series: series(arch, t0, drain)}
	for _, p := range phaseSpec {
		r.Phases = append(r.Phases, results.Window{Name: p.name, Warmup: p.warmup, Start: at(t0, p.from), End: at(t0, p.to), Description: p.desc})
	}
	return r
}

func fixture() *results.Results {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	r := &results.Results{Profile: "quick", Description: "Steady load, a 3x burst, an idle gap and a vision outage.",
		Started: t0.Add(-time.Minute), Ended: t0.Add(20 * time.Minute),
		Machine: results.Machine{CPU: "Test CPU <fast> & cheap", Cores: 2, MemoryBytes: 8 << 30, OS: "Debian GNU/Linux 12", Kernel: "6.1.0",
			Versions: map[string]string{"go": "go1.26.0", "postgresql": "15.8", "kafka": "3.9.0", "minio": "RELEASE.2025", "prometheus": "3.1.0", "photobench": "dev"}},
		Settings:    map[string]string{"profile": "quick", "slo_p99_ack": "1s", "capture_step": "1s"},
		SteadyPhase: "steady", IdlePhase: "idle", SLO: 1,
		Runs: []results.Run{
			run(results.Monolith, t0, 178),
			run(results.EventDriven, t0.Add(10*time.Minute), 200),
			{Arch: results.EventDriven, Scenario: "pg-restart", Repeat: 1, Status: results.StatusFailed,
				Error: "start eventdriven: kafka did not become ready", Dir: "runs/pg-restart-eventdriven-1"},
		},
	}
	r.Queries = append(results.Queries(results.Monolith), results.Queries(results.EventDriven)...)
	return r
}

func analysis() *cost.Analysis {
	return &cost.Analysis{
		Tables: []cost.Table{
			{Title: "Cost per million photos at the measured load",
				Header: []string{"pricing option", "measured load (photos/s)", "cost (USD per million photos)", "runs"},
				Rows: [][]string{{"monolith (VM m6i.large)", "2.5", "10.66", "1"}, {"event-driven (AWS Lambda)", "2.5", "21.32", "1"},
					{"event-driven (Azure Functions)", "2.5", "5.33", "1"}},
				Notes: []string{"Cost: always-on plus usage, per photo x 1,000,000."}},
			{Title: "Idle cost per hour", Header: []string{"pricing option", "idle window (s)", "idle cost (USD/hour)"},
				Rows: [][]string{{"monolith (VM m6i.large)", "35", "0.096"}, {"event-driven (AWS Lambda)", "35", "0.192"}, {"event-driven (Azure Functions)", "35", "n/a (no sheet)"}}},
		},
		BreakEven: cost.Chart{Title: "Break-even: monthly cost against average load", XLabel: "average load (photos/s)", YLabel: "cost (USD/month)",
			X: []float64{0, 1, 2, 3, 4, 5}, Lines: []cost.Line{{Name: "monolith (VM m6i.large)", Y: []float64{70, 70, 70, 70, 140, 140}},
				{Name: "event-driven (AWS Lambda)", Y: []float64{20, 45, 70, 95, 120, 145}}},
			Marks: []cost.Mark{{X: 2, Y: 70, Label: "AWS Lambda = monolith: 2 photos/s, USD 70/month"}}},
		Sentences:   []string{"At 2.5 photos/s the event-driven app on AWS Lambda costs $21.32 per million photos against $10.66 for the monolith's VM."},
		Assumptions: []string{"Monolith: always-on m6i.large VMs <with> PostgreSQL."},
	}
}

// files reads what Write wrote.
type written struct {
	md, html string
	svgs     map[string][]byte
}

func read(t *testing.T, dir string) written {
	t.Helper()
	md, err := os.ReadFile(filepath.Join(dir, report.MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	h, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	w := written{md: string(md), html: string(h), svgs: map[string][]byte{}}
	entries, err := os.ReadDir(filepath.Join(dir, report.ChartsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, report.ChartsDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		w.svgs[e.Name()] = b
	}
	return w
}

// checkXML parses doc strictly and checks that nothing in it loads from
// elsewhere: no src or href to another site, no script, no link, no
// @import or url() in styles.
func checkXML(t *testing.T, name string, doc []byte, root string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	first := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed: %v", name, err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if first == "" {
				first = x.Name.Local
			}
			switch x.Name.Local {
			case "script", "link", "img", "iframe", "object", "embed", "image", "use":
				t.Errorf("%s: has a <%s> element", name, x.Name.Local)
			}
			for _, a := range x.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Value))
				if (a.Name.Local == "src" || a.Name.Local == "href") && (strings.HasPrefix(v, "http:") || strings.HasPrefix(v, "https:") || strings.HasPrefix(v, "//")) {
					t.Errorf("%s: external %s=%q", name, a.Name.Local, a.Value)
				}
				if a.Name.Local == "id" {
					t.Errorf("%s: id %q (charts are inlined together: ids would clash)", name, a.Value)
				}
			}
		case xml.CharData:
			if s := strings.ToLower(string(x)); strings.Contains(s, "@import") || strings.Contains(s, "url(") {
				t.Errorf("%s: loads a resource from its styles", name)
			}
		}
	}
	if first != root {
		t.Errorf("%s: root element %q, want %q", name, first, root)
	}
}

// plain undoes the Markdown and HTML escaping, for looking for figures.
func plain(s string) string {
	return html.UnescapeString(regexp.MustCompile(`\\(.)`).ReplaceAllString(s, "$1"))
}

func TestWrite(t *testing.T) {
	noSeries := fixture()
	for i := range noSeries.Runs {
		noSeries.Runs[i].Series = nil
		noSeries.Runs[i].Timeline = nil
	}
	onlyFailed := &results.Results{Profile: "quick", Runs: []results.Run{{Arch: results.Monolith, Scenario: "quick", Repeat: 1,
		Status: results.StatusFailed, Error: "monolith did not start"}}}
	monolithOnly := fixture()
	monolithOnly.Runs = monolithOnly.Runs[:1]
	repeats := fixture()
	second := run(results.Monolith, repeats.Runs[0].Start.Add(30*time.Minute), 178)
	second.Repeat = 2
	second.Summary.Phases[0].Ops[loadgen.OpUpload] = stats(100, 0, 2.5, 0.08, 0.130, 0.2)
	repeats.Runs = append(repeats.Runs, second)
	three := fixture()
	three.Runs = append(three.Runs, second)
	third := run(results.Monolith, repeats.Runs[0].Start.Add(40*time.Minute), 178)
	third.Repeat = 3
	third.Summary.Phases[0].Ops[loadgen.OpUpload] = stats(100, 0, 2.5, 0.08, 0.150, 0.2)
	three.Runs = append(three.Runs, third)

	tests := []struct {
		name   string
		r      *results.Results
		a      *cost.Analysis
		charts []string
		want   []string
		reject []string
	}{
		{
			name:   "full run with a cost analysis",
			r:      fixture(),
			a:      analysis(),
			charts: []string{"upload-ack", "upload-ready", "throughput", "errors", "replicas", "cold-starts", "cpu", "memory", "coupling", "break-even"},
			want: []string{
				"— a first look: 1 run(s) per variant, no intervals",
				"Event-driven acks uploads 9.2x faster at p90 (9.60 ms vs 88.0 ms)",
				"but photos are ready 2.30 s later on event-driven at p50",
				"75 of 75 uploads failed (100%; 5xx 75) in outage",
				"0 of 75 uploads failed (0%",
				"peak 75 messages at 145 s; caught up 15.0 s after the fault ended",
				"was back to that level 15.0 s after the fault ended",
				"uploads accepted during the fault took up to 50.0 s to be ready (monolith: 120 ms)",
				"0 replicas after 12.0 s",
				"replica start to first answer max ≤ 1.00 s (n=4; too few for p99) over 4 cold starts",
				"event-driven (AWS Lambda) costs 2.0x the monolith's",
				"event-driven (Azure Functions) costs 50% of the monolith's",
				"10.66 USD per million photos",
				"idle cost 0.096 USD/hour",
				"crosses the network 22 times before its photo is ready instead of 6 (3.7x)",
				"start eventdriven: kafka did not become ready", "pg-restart",
				"2 (tagger 2)",
				"Test CPU <fast> & cheap", "8.0 GiB", "go1.26.0", "15.8",
				"AWS Lambda = monolith: 2 photos/s, USD 70/month",
				"Monolith: always-on m6i.large VMs <with> PostgreSQL.",
				// 100 uploads back p90, not p99: the report says so.
				"p90 88.0 ms (n=100 samples; too few for p99; n=1, no interval)",
				"(n=1)",
				`sum by (operation, outcome) (rate(photobench_loadgen_requests_total{architecture="monolith",source="bench"}[5s]))`,
				"Zero throughout (not drawn): event-driven 5xx",
				`Errors during the fault: vision outage (503 & <"fail">)`,
			},
			reject: []string{"NaN", "+Inf", "%!", "⟨"},
		},
		{
			name:   "no cost analysis",
			r:      fixture(),
			charts: []string{"upload-ack", "coupling"},
			want:   []string{"No cost analysis was given to the report", "n/a (no cost analysis)"},
			reject: []string{"break-even", "NaN", "%!"},
		},
		{
			name:   "series and timelines missing",
			r:      noSeries,
			charts: []string{"upload-ack", "throughput", "replicas", "coupling"},
			want: []string{"n/a (no lag series captured)", "n/a (series not captured)", "n/a (no upload followed during the fault)",
				"CPU and memory per component: n/a"},
			reject: []string{"NaN", "%!"},
		},
		{
			name:   "only a failed run",
			r:      onlyFailed,
			want:   []string{"monolith did not start", "No figures: every run of this scenario on monolith failed", "n/a (run failed: see the runs table)"},
			reject: []string{"NaN", "%!"},
		},
		{
			name:   "monolith only",
			r:      monolithOnly,
			charts: []string{"upload-ack"},
			want:   []string{"No comparison: only the monolith was run.", "Replicas per function: n/a (no usable event-driven run"},
			reject: []string{"NaN", "%!"},
		},
		{
			name: "repeats give a median and a range",
			r:    repeats,
			want: []string{"p90 96.0 ms (runs 88.0 ms, 104 ms) (n=100 samples per run; too few for p99; n=2, no interval)", "2 runs: median (run values), no interval"},
		},
		{
			name: "three repeats give a median and its interval",
			r:    three,
			want: []string{"p90 104 ms [88.0–120 ms] (n=100 samples per run; too few for p99; n=3)", "3 runs: median [95% bootstrap interval]",
				"#1 88.0 ms (n=100), #2 104 ms (n=100), #3 120 ms (n=100)"},
		},
		{
			name:   "cost analysis without tables or chart",
			r:      fixture(),
			a:      &cost.Analysis{},
			want:   []string{"Break-even chart: n/a", "n/a (not in the cost tables)", "The cost analysis has no summary sentences"},
			reject: []string{"NaN", "%!"},
		},
		{
			name: "empty results",
			r:    &results.Results{},
			want: []string{"Runs: none"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := report.Write(dir, tt.r, tt.a); err != nil {
				t.Fatalf("Write: %v", err)
			}
			w := read(t, dir)
			checkXML(t, report.HTMLFile, []byte(w.html), "html")
			for name, svg := range w.svgs {
				checkXML(t, name, svg, "svg")
				if !strings.Contains(w.md, "](charts/"+name+")") {
					t.Errorf("report.md does not show %s", name)
				}
				// The HTML inlines the same SVG.
				if !strings.Contains(w.html, string(svg)) {
					t.Errorf("report.html does not inline %s", name)
				}
			}
			for _, m := range regexp.MustCompile(`\]\((charts/[^)]+)\)`).FindAllStringSubmatch(w.md, -1) {
				if _, err := os.Stat(filepath.Join(dir, m[1])); err != nil {
					t.Errorf("report.md links %s: %v", m[1], err)
				}
			}
			for _, c := range tt.charts {
				if _, ok := w.svgs[c+".svg"]; !ok {
					t.Errorf("chart %s.svg missing (have %d charts)", c, len(w.svgs))
				}
			}
			md, h := plain(w.md), plain(w.html)
			for _, s := range tt.want {
				if !strings.Contains(md, s) {
					t.Errorf("report.md lacks %q", s)
				}
				if !strings.Contains(h, s) {
					t.Errorf("report.html lacks %q", s)
				}
			}
			for _, s := range tt.reject {
				if strings.Contains(md, s) || strings.Contains(h, s) {
					t.Errorf("report has %q", s)
				}
				for name, svg := range w.svgs {
					if strings.Contains(string(svg), s) {
						t.Errorf("%s has %q", name, s)
					}
				}
			}
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := report.Write(dir, fixture(), analysis()); err != nil {
			t.Fatal(err)
		}
	}
	wa, wb := read(t, a), read(t, b)
	if wa.md != wb.md || wa.html != wb.html {
		t.Error("two writes of the same results differ")
	}
	for name, svg := range wa.svgs {
		if !bytes.Equal(svg, wb.svgs[name]) {
			t.Errorf("%s differs between two writes", name)
		}
	}
}

func TestWriteSectionOrder(t *testing.T) {
	dir := t.TempDir()
	if err := report.Write(dir, fixture(), analysis()); err != nil {
		t.Fatal(err)
	}
	md := read(t, dir).md
	order := []string{"# photobench", "\n## Trade-offs\n", "\n### Cost in brief\n", "\n## How it was measured\n", "\n## Per phase\n", "\n## Charts\n",
		"\n## What was lost\n", "\n## Cost\n", "\n## Deployables and network hops per upload\n", "\n## Appendix\n"}
	last := -1
	for _, h := range order {
		i := strings.Index(md, h)
		if i < 0 {
			t.Errorf("no %q", h)
			continue
		}
		if i < last {
			t.Errorf("%q out of order", h)
		}
		last = i
	}
}

// contains fails t for each of want that text (the file name) lacks.
func contains(t *testing.T, name, text string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q", name, s)
		}
	}
}

// lacks fails t for each of reject that text (the file name) has.
func lacks(t *testing.T, name, text string, reject ...string) {
	t.Helper()
	for _, s := range reject {
		if strings.Contains(text, s) {
			t.Errorf("%s has %q", name, s)
		}
	}
}

func TestWriteNoResults(t *testing.T) {
	if err := report.Write(t.TempDir(), nil, nil); err == nil {
		t.Error("Write(nil results) = nil error, want one")
	}
}

// TestWriteFaultsInOtherScenarios: the reference scenario ("steady") has no
// fault, two other scenarios have one each (like the full profile).
func TestWriteFaultsInOtherScenarios(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	r := fixture()
	r.Profile = "full"
	r.Runs = nil
	for i, sc := range []struct{ name, fault string }{{"steady", ""}, {"vision-outage", "vision outage"}, {"pg-restart", "pg restart"}} {
		for j, arch := range []string{results.Monolith, results.EventDriven} {
			ru := run(arch, t0.Add(time.Duration(2*i+j)*10*time.Minute), 178+float64(22*j))
			ru.Scenario = sc.name
			ru.Dir = "runs/" + sc.name + "-" + arch + "-1"
			if sc.fault == "" {
				ru.Faults = nil
			} else {
				ru.Faults[0].Name = sc.fault
			}
			r.Runs = append(r.Runs, ru)
		}
	}
	dir := t.TempDir()
	if err := report.Write(dir, r, analysis()); err != nil {
		t.Fatal(err)
	}
	w := read(t, dir)
	checkXML(t, report.HTMLFile, []byte(w.html), "html")
	for _, c := range []string{"coupling-vision-outage.svg", "coupling-pg-restart.svg"} {
		svg, ok := w.svgs[c]
		if !ok {
			t.Errorf("chart %s missing", c)
			continue
		}
		checkXML(t, c, svg, "svg")
		if !strings.Contains(w.md, "](charts/"+c+")") {
			t.Errorf("report.md does not show %s", c)
		}
	}
	if _, ok := w.svgs["coupling.svg"]; ok {
		t.Error("coupling.svg written although two scenarios have faults")
	}
	md := plain(w.md)
	contains(t, "report.md", md,
		"Coupling: vision outage (scenario vision-outage)",
		"Coupling: pg restart (scenario pg-restart)",
		"Errors during the fault: vision outage (vision-outage)",
		"Errors during the fault: pg restart (pg-restart)",
		"Backlog peak and catch-up after the fault: vision outage (vision-outage)",
		"Backlog peak and catch-up after the fault: pg restart (pg-restart)",
		"75 of 75 uploads failed (100%; 5xx 75) in outage",
		"peak 75 messages at 145 s; caught up 15.0 s after the fault ended",
	)
	lacks(t, "report.md", md, "Coupling timeline: n/a", "no fault in this run", "NaN", "%!")
}

// jobsSeries is the async monolith's job backlog series.
const jobsSeries = results.QJobs

// threeArch is the fixture with the async monolith's run between the
// other two, its storage and River settings recorded. The async monolith
// acks in 12 ms at p90 (the sync monolith 88 ms, event-driven 9.6 ms: one
// run each, no spread), is ready after 150 ms at p50, fails no
// upload during the outage and drains its 76 jobs 8 s after it; it idles
// with the sync monolith's CPU and answers after the idle gap as fast as
// ever (15 ms, event-driven's cold starts 1.20 s).
func threeArch() *results.Results {
	r := fixture()
	t0 := r.Runs[0].Start
	r.Runs = []results.Run{r.Runs[0], run(results.MonolithAsync, t0.Add(5*time.Minute), 180), r.Runs[1], r.Runs[2]}
	r.Settings["monolith_storage"] = "s3: the bucket monolith in MinIO"
	r.Settings["river_fetch_poll_interval"] = "200ms"
	r.Queries = append(r.Queries, results.Query{Name: jobsSeries, Unit: "jobs",
		Expr: `sum by (state) (photobench_monolith_jobs{architecture="monolith-async"})`, Description: "async monolith: River's jobs by state"})
	return r
}

// threeAnalysis prices the async monolith as the sync one's VM, within 10%.
func threeAnalysis() *cost.Analysis {
	a := analysis()
	t := &a.Tables[0]
	t.Rows = append(t.Rows[:1], append([][]string{{"async monolith (VM m6i.large)", "2.5", "10.90", "1"}}, t.Rows[1:]...)...)
	return a
}

func TestWriteThreeArchitectures(t *testing.T) {
	dir := t.TempDir()
	if err := report.Write(dir, threeArch(), threeAnalysis()); err != nil {
		t.Fatal(err)
	}
	w := read(t, dir)
	checkXML(t, report.HTMLFile, []byte(w.html), "html")
	for name, svg := range w.svgs {
		checkXML(t, name, svg, "svg")
	}
	// A column per architecture, in results.Archs order.
	if !strings.Contains(w.md, "|  | monolith | async monolith | event-driven | what it means |") {
		t.Error("the trade-offs table has no column per architecture in report order")
	}
	md, h := plain(w.md), plain(w.html)
	for _, s := range []string{
		"# photobench: monolith vs async monolith vs event-driven",
		// Ack at p90 (100 uploads do not back a p99): with one run each
		// there is no spread, and both axes make it better.
		"Coupling in time (sync → async monolith): the async monolith acks uploads 7.3x faster at p90 (12.0 ms vs 88.0 ms); " +
			"one process vs many (async monolith → event-driven): event-driven acks uploads 1.2x faster at p90 (9.60 ms vs 12.0 ms); " +
			"so both axes add to the difference in upload ack latency: coupling in time and one process vs many each make it better.",
		// Ready: both axes make it later.
		"photos are ready 70.0 ms later on the async monolith than on the sync monolith at p50",
		"photos are ready 2.23 s later on event-driven than on the async monolith at p50",
		"so both axes add to the difference in time until ready: coupling in time and one process vs many each make it worse.",
		// The outage: the failures come from coupling in time.
		"during the fault the sync monolith failed 100% of uploads (75), the async monolith 0% (0); the async monolith's backlog grew from at most 1 to 76 jobs instead",
		"during the fault the async monolith failed 0% of uploads (0), event-driven 0% (0)",
		"so the difference in failed uploads comes from coupling in time, not from being one process or many.",
		// The backlog: one exists only with coupling in time; its drain
		// differs by process count.
		"the sync monolith has no queue to hold a backlog, the async monolith's backlog peaked at 76 jobs (at most 1 in the 30.0 s before the fault) and was back to that level 8.00 s after the fault ended",
		"event-driven's backlog peaked at 75 messages",
		"so the backlog itself comes from coupling in time, and one process vs many changes its catch-up: the async monolith caught up 7.00 s sooner",
		"peak 76 jobs at 145 s; caught up 8.00 s after the fault ended (n=1)",
		// Idle: the monoliths alike, event-driven apart.
		"so the difference in idle CPU comes from one process vs many, not from coupling in time.",
		// Cold: the axes pull apart.
		"the two axes pull apart: coupling in time makes it better, one process vs many worse",
		// Throughput: nothing to tell apart.
		"so neither coupling in time nor one process vs many makes a difference here beyond the spread",
		// Cost: the event-driven options disagree.
		"the async monolith costs about the same as the sync monolith (within 10%)",
		"which axis the difference in cost comes from depends on the pricing option",
		// Moving parts.
		"3 / ≥ 12",
		"so the difference in deployables comes from one process vs many, not from coupling in time.",
		"the sync and the async monolith differ only in coupling in time",
		// Storage and River's knobs.
		"Monolith storage (--storage disk|s3): monolith: s3, photos in a MinIO bucket of its own (setting monolith_storage)",
		"The async monolith's job queue (River): river_fetch_poll_interval = 200ms.",
		"The monolith ran with --storage s3",
		// The hop table's lower bounds say what they are.
		"are lower bounds, not counts",
		"| async monolith | monolith-async → PostgreSQL | River's fetch of the job (LISTEN/NOTIFY or a poll) | ≥ 1 |",
		// Charts and tables name the job backlog.
		"Colours: monolith blue, async monolith green and event-driven orange.",
		"76 jobs at 145 s (before: at most 1)",
		"| async monolith quick #1 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 367 | 367 | 0 | 0 | 0 | 0 | 0 | n/a (no DLQ in this architecture) | n/a (no notifications to lose) |",
	} {
		if !strings.Contains(md, s) {
			t.Errorf("report.md lacks %q", s)
		}
		if !strings.Contains(s, " | ") && !strings.Contains(h, strings.TrimPrefix(s, "# ")) {
			t.Errorf("report.html lacks %q", s)
		}
	}
	contains(t, "coupling.svg", string(w.svgs["coupling.svg"]), "async monolith jobs", "event-driven lag", `stroke="#009e73"`)
	lacks(t, "report.md", md, "NaN", "+Inf", "%!", "no attribution")
}

// TestWriteTwoArchitectures: a results.json from before the async monolith
// renders as it did, two columns, and says its comparison mixes the axes.
func TestWriteTwoArchitectures(t *testing.T) {
	dir := t.TempDir()
	if err := report.Write(dir, fixture(), analysis()); err != nil {
		t.Fatal(err)
	}
	w := read(t, dir)
	if !strings.Contains(w.md, "|  | monolith | event-driven | what it means |") {
		t.Error("a two-architecture report has no two-column trade-offs table")
	}
	md := plain(w.md)
	contains(t, "report.md", md,
		"# photobench: monolith vs event-driven",
		"The sentences compare monolith and event-driven, which differ in both axes at once",
		"Event-driven acks uploads 9.2x faster at p90 (9.60 ms vs 88.0 ms)",
	)
	lacks(t, "report.md", md, "async monolith", "Coupling in time (sync", "sync monolith", "River")
}

// TestHeadlineJSON: headline.json parses, holds every headline figure with
// its unit, n, median and run values, the ratios between variants, and a
// work entry per run; two writes give the same bytes.
func TestHeadlineJSON(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	for _, dir := range dirs {
		if err := report.Write(dir, fixture(), analysis()); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dirs[0], report.HeadlineFile))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dirs[1], report.HeadlineFile))
	if !bytes.Equal(data, again) {
		t.Errorf("two writes of headline.json differ:\n%s\n----\n%s", data, again)
	}
	var h struct {
		Schema     string `json:"schema"`
		Statistics struct {
			Resamples int    `json:"resamples"`
			Seed      uint64 `json:"seed"`
		} `json:"statistics"`
		Figures []struct {
			Key, Variant, Unit, Quantile string
			N                            int      `json:"n"`
			Median                       *float64 `json:"median"`
			Interval                     bool     `json:"interval"`
			Runs                         []struct {
				Repeat  int     `json:"repeat"`
				Value   float64 `json:"value"`
				Samples int64   `json:"samples"`
			} `json:"runs"`
		} `json:"figures"`
		Ratios []struct {
			Key, Numerator, Denominator string
			Median                      *float64 `json:"median"`
		} `json:"ratios"`
		Capacity []json.RawMessage `json:"capacity"`
		Work     []struct {
			Variant, Scenario string
			Repeat            int
		} `json:"work"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatalf("headline.json: %v", err)
	}
	if h.Schema != report.HeadlineSchema || h.Statistics.Resamples != report.BootstrapResamples || h.Statistics.Seed != report.BootstrapSeed {
		t.Errorf("schema %q, statistics %+v", h.Schema, h.Statistics)
	}
	keys := map[string]bool{}
	for _, f := range h.Figures {
		keys[f.Key+" "+f.Variant] = true
		if f.Unit == "" || f.N == 0 || f.Median == nil || f.Interval {
			t.Errorf("figure %s %s: unit %q n %d median %v interval %v", f.Key, f.Variant, f.Unit, f.N, f.Median, f.Interval)
		}
		if f.Key == "ack_p99_seconds" && (f.Quantile != "p90" || len(f.Runs) != 1 || f.Runs[0].Samples != 100) {
			t.Errorf("ack p99 of %s: quantile %s runs %+v, want p90 from 100 samples", f.Variant, f.Quantile, f.Runs)
		}
	}
	for _, k := range []string{"ack_p50_seconds", "ack_p99_seconds", "ready_p50_seconds", "ready_p99_seconds", "photos_per_second",
		"cpu_seconds_per_photo", "cost_per_million_photos_usd", "fault_upload_error_share"} {
		for _, a := range []string{results.Monolith, results.EventDriven} {
			if !keys[k+" "+a] {
				t.Errorf("headline.json has no %s of %s", k, a)
			}
		}
	}
	found := false
	for _, r := range h.Ratios {
		if r.Key == "ack_p99_seconds" && r.Numerator == results.EventDriven && r.Denominator == results.Monolith && r.Median != nil {
			found = true
			if math.Abs(*r.Median-0.0096/0.088) > 1e-6 {
				t.Errorf("ack ratio %v, want %v", *r.Median, 0.0096/0.088)
			}
		}
	}
	if !found {
		t.Error("no ack ratio event-driven ÷ monolith")
	}
	if len(h.Work) != 3 || h.Capacity == nil {
		t.Errorf("work %+v (want one per run), capacity %v", h.Work, h.Capacity)
	}
}
