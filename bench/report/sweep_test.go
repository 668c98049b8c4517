package report_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/bench/report"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/loadgen"
)

// step is one sweep run's figures in the swept phase.
type step struct {
	rate   float64
	p99    float64 // all operations' ack p99 (s)
	errs   uint64  // errors out of 100 scheduled
	drop   uint64  // dropped out of 100 scheduled
	failed string  // the run failed with this error
	repeat int     // 0: 1
	ready  float64 // upload-to-ready p99 (s); 0: twice p99
}

var sweepT0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// sweepRunOf is one run of a sweep: warm-up 10 s, then "steady" 30 s at
// st.rate with 100 requests scheduled, 25 of them uploads.
func sweepRunOf(arch string, st step, byName bool) results.Run {
	rep := max(st.repeat, 1)
	name := fmt.Sprintf("sweep-%g", st.rate)
	r := results.Run{Arch: arch, Scenario: name, Repeat: rep, Status: results.StatusOK,
		Dir: fmt.Sprintf("runs/%s-%s-%d", name, arch, rep)}
	if !byName {
		r.SweepRate, r.SweepPhase = st.rate, "steady"
	}
	if st.failed != "" {
		r.Status, r.Error = results.StatusFailed, st.failed
		return r
	}
	r.Start, r.End, r.Drain = sweepT0, at(sweepT0, 40), at(sweepT0, 42)
	r.Phases = []results.Window{
		{Name: "warmup", Warmup: true, Start: sweepT0, End: at(sweepT0, 10), Description: "constant 5/s"},
		{Name: "steady", Start: at(sweepT0, 10), End: at(sweepT0, 40), Description: fmt.Sprintf("constant %g/s", st.rate)},
	}
	all := stats(100, st.errs, st.rate, st.p99/3, st.p99, st.p99*1.5)
	all.Dropped, all.OK = st.drop, 100-st.errs-st.drop
	ps := loadgen.PhaseSummary{Name: "steady", All: all, Ops: map[loadgen.Op]loadgen.Stats{
		loadgen.OpUpload: stats(25, 0, st.rate/4, st.p99/2, st.p99*0.9, st.p99*1.2),
	}, Ready: &loadgen.ReadySummary{Followed: 25, Ready: 25, Latency: loadgen.Quantiles{Count: 25, P50: 0.5, P99: 2 * st.p99, Max: 3 * st.p99}}}
	if st.ready > 0 {
		ps.Ready.Latency.P99, ps.Ready.Latency.Max = st.ready, st.ready
	}
	r.Summary = loadgen.Summary{Phases: []loadgen.PhaseSummary{ps}}
	return r
}

// sweepResults is a full-profile-like bench: a sweep on both architectures
// and, when steady is set, three repetitions of a "steady" scenario.
func sweepResults(mono, event []step, byName, steady bool) *results.Results {
	r := &results.Results{Profile: "full", Started: sweepT0, Ended: sweepT0.Add(time.Hour), SteadyPhase: "steady", SLO: 1}
	for _, st := range mono {
		r.Runs = append(r.Runs, sweepRunOf(results.Monolith, st, byName))
	}
	for _, st := range event {
		r.Runs = append(r.Runs, sweepRunOf(results.EventDriven, st, byName))
	}
	if steady {
		for rep := 1; rep <= 3; rep++ {
			for _, a := range []string{results.Monolith, results.EventDriven} {
				run := sweepRunOf(a, step{rate: 10, p99: 0.1, repeat: rep}, true)
				run.Scenario, run.Dir = "steady", fmt.Sprintf("runs/steady-%s-%d", a, rep)
				r.Runs = append(r.Runs, run)
			}
		}
	}
	return r
}

// inSLO is a step within the SLO.
func inSLO(rate float64) step { return step{rate: rate, p99: 0.2} }

func TestSweep(t *testing.T) {
	rates := []float64{10, 20, 30, 40, 60, 80}
	allOK := func() []step {
		var s []step
		for _, r := range rates {
			s = append(s, inSLO(r))
		}
		return s
	}
	// The monolith: within up to 40, p99 1.4 s at 60, 3 s at 80; three
	// runs at 40.
	mono := []step{inSLO(10), inSLO(20), inSLO(30), {rate: 40, p99: 0.3}, {rate: 40, p99: 0.5, repeat: 2}, {rate: 40, p99: 0.4, repeat: 3},
		{rate: 60, p99: 1.4}, {rate: 80, p99: 3}}
	// Event-driven: within up to 60, 2% dropped (counted as errors) at 80;
	// a failed run beside an ok one at 20.
	event := []step{inSLO(10), inSLO(20), {rate: 20, repeat: 2, failed: "start eventdriven: kafka did not become ready"}, inSLO(30), inSLO(40),
		{rate: 60, p99: 0.6}, {rate: 80, p99: 0.7, drop: 2}}

	tests := []struct {
		name   string
		r      *results.Results
		want   []string // in report.md and report.html
		mdWant []string // in report.md only (table rows)
		svg    []string // in rate-sweep.svg
		reject []string
	}{
		{
			name: "both architectures, repeats and a failed run",
			r:    sweepResults(mono, event, false, true),
			want: []string{
				"## Rate sweep and knee",
				"Knee (highest rate within the SLO: p99 ack < 1 s, errors < 1%, backlog not growing)",
				"The event-driven app holds the SLO up to 60 req/s, 1.5x the monolith's 40 req/s.",
				"monolith: knee 40 req/s (1–3 runs per rate) — 60 req/s is the lowest rate outside the SLO (p99 ack 1.4s ≥ 1s (p99 from ack n=100: fewer than 1,000 samples)); " +
					"80 req/s, the next rate, is outside too (p99 ack 3s ≥ 1s (p99 from ack n=100: fewer than 1,000 samples)): the knee is confirmed",
				"event-driven: knee 60 req/s (1 run per rate) — 80 req/s is the lowest rate outside the SLO (errors 2.0% ≥ 1.0%); no second failing rate right after it: the knee is not confirmed",
				"p90 320 ms [240–400 ms]",
				"yes (all 3 runs)",
				"0 (run #2 failed: start eventdriven: kafka did not become ready)",
				"– (the rate is judged on its other runs)",
				"with every lower rate within it too",
				`Scenario "steady"`, // the trade-offs are not about a sweep step
			},
			mdWant: []string{"| monolith | 40 req/s | yes: 60 req/s and 80 req/s failed | 40 req/s × 25% = 10 photos/s offered |",
				"| 40 req/s | 3 | 39.6 req/s \\[39.6–39.6 req/s\\] | p90 320 ms \\[240–400 ms\\] (n=100 samples per run; too few for p99) |",
				"| 80 req/s | 1 | 79.2 req/s | p90 560 ms (n=100 samples; too few for p99) | p50 350 ms (n=25 samples; too few for p99) | 2% | p50 500 ms (n=25 samples; too few for p99) | 0 | no: errors 2.0% ≥ 1.0% |"},
			svg:    []string{"monolith knee: 40 req/s", "event-driven knee: 60 req/s"},
			reject: []string{"recognised by their names", "NaN", "%!"},
		},
		{
			name: "a lower rate outside the SLO caps the knee",
			r: sweepResults([]step{inSLO(10), {rate: 20, p99: 0.3, errs: 2}, inSLO(30), inSLO(40), inSLO(60), {rate: 80, p99: 2}},
				allOK(), false, false),
			want: []string{
				"monolith: knee 10 req/s (1 run per rate) — 20 req/s is the lowest rate outside the SLO (errors 2.0% ≥ 1.0%); " +
					"no second failing rate right after it: the knee is not confirmed",
				"30 req/s, 40 req/s and 60 req/s were within the SLO again but do not count: a lower rate was outside",
				"event-driven: knee at least the highest rate swept (80 req/s)",
				"The event-driven app held the SLO at every rate swept, up to 80 req/s, the monolith only up to 10 req/s: at least 8.0x its knee.",
			},
			svg: []string{"monolith knee: 10 req/s", "event-driven knee ≥ 80 req/s"},
		},
		{
			name: "one repeat outside the SLO puts its rate outside",
			r: sweepResults([]step{inSLO(10), inSLO(20), {rate: 30, p99: 0.3}, {rate: 30, p99: 1.2, repeat: 2}, {rate: 30, p99: 0.4, repeat: 3}, inSLO(40)},
				[]step{inSLO(10), inSLO(20), inSLO(30), inSLO(40)}, false, false),
			want: []string{
				"monolith: knee 20 req/s (1–3 runs per rate) — 30 req/s is the lowest rate outside the SLO (1 of 3 runs outside: p99 ack 1.2s ≥ 1s (p99 from ack n=100: fewer than 1,000 samples))",
				"40 req/s was within the SLO again but does not count",
				"The event-driven app held the SLO at every rate swept, up to 40 req/s, the monolith only up to 20 req/s: at least 2.0x its knee.",
			},
		},
		{
			name: "a rate whose runs all failed caps the knee",
			r: sweepResults([]step{inSLO(10), inSLO(20), {rate: 30, failed: "monolith did not start"}, inSLO(40)},
				[]step{inSLO(10), inSLO(20), inSLO(30), {rate: 40, p99: 1.5}}, false, false),
			want: []string{
				"monolith: knee 20 req/s (0–1 run per rate) — 30 req/s is the lowest rate outside the SLO (every run at this rate failed)",
				"0 (run #1 failed: monolith did not start)",
				"no: every run at this rate failed",
				"The event-driven app holds the SLO up to 30 req/s, 1.5x the monolith's 20 req/s.",
			},
		},
		{
			name: "below the lowest rate and at least the highest",
			r: sweepResults([]step{{rate: 10, p99: 1.1}, {rate: 20, p99: 2}},
				[]step{inSLO(10), inSLO(20)}, false, false),
			want: []string{
				"monolith: knee below the lowest rate swept (10 req/s)",
				"The event-driven app held the SLO at every rate swept, up to 20 req/s; the monolith missed it even at the lowest (10 req/s).",
				"monolith's knee is below the lowest rate swept (10 req/s)",
			},
		},
		{
			name: "both hold it to the same rate",
			r:    sweepResults([]step{inSLO(10), inSLO(20), {rate: 30, p99: 4}}, []step{inSLO(10), inSLO(20), {rate: 30, p99: 1}}, false, false),
			want: []string{"Both architectures hold the SLO up to 20 req/s."},
		},
		{
			name: "results.json before sweep_rate: the sweep read from the runs' names",
			r:    sweepResults(mono, event, true, true),
			want: []string{
				"recognised by their names (sweep-<rate>)",
				"The event-driven app holds the SLO up to 60 req/s, 1.5x the monolith's 40 req/s.",
				"0 (run #2 failed: start eventdriven: kafka did not become ready)",
				`Scenario "steady"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := report.Write(dir, tt.r, nil); err != nil {
				t.Fatalf("Write: %v", err)
			}
			w := read(t, dir)
			svg, found := w.svgs["rate-sweep.svg"]
			if !found {
				t.Fatal("no rate-sweep.svg")
			}
			checkXML(t, "rate-sweep.svg", svg, "svg")
			checkXML(t, report.HTMLFile, []byte(w.html), "html")
			if !strings.Contains(w.html, string(svg)) {
				t.Error("report.html does not inline rate-sweep.svg")
			}
			for _, s := range []string{"offered rate in the steady phase (req/s)", "SLO: p99 ack &lt; 1 s", "log scale"} {
				if !strings.Contains(string(svg), s) {
					t.Errorf("rate-sweep.svg lacks %q", s)
				}
			}
			for _, s := range tt.svg {
				if !strings.Contains(string(svg), s) {
					t.Errorf("rate-sweep.svg lacks %q", s)
				}
			}
			for _, s := range tt.mdWant {
				if !strings.Contains(w.md, s) {
					t.Errorf("report.md lacks %q", s)
				}
			}
			md, h := plain(w.md), plain(w.html)
			for _, s := range tt.want {
				if !strings.Contains(md, s) {
					t.Errorf("report.md lacks %q", s)
				}
				if !strings.Contains(h, strings.TrimPrefix(s, "## ")) {
					t.Errorf("report.html lacks %q", s)
				}
			}
			for _, s := range tt.reject {
				if strings.Contains(md, s) || strings.Contains(string(svg), s) {
					t.Errorf("report has %q", s)
				}
			}
			// The section comes right after the trade-offs (and their cost in brief).
			order := []string{"\n## Trade-offs\n", "\n### Cost in brief\n", "\n## Rate sweep and knee\n", "\n## How it was measured\n"}
			last := -1
			for _, s := range order {
				i := strings.Index(w.md, s)
				if i < last {
					t.Errorf("%q missing or out of order", s)
				}
				last = i
			}
		})
	}
}

func TestNoSweep(t *testing.T) {
	// Numbered scenarios that are not a sweep: one of a kind, and two whose
	// numbers are not the steady phase's rate.
	numbered := sweepResults(nil, nil, true, false)
	for i, name := range []string{"burst-30", "pg-restart", "steady-1", "steady-2"} {
		run := sweepRunOf(results.Monolith, step{rate: 10, p99: 0.1}, true)
		run.Scenario, run.Repeat = name, i+1
		numbered.Runs = append(numbered.Runs, run)
	}
	noSteady := sweepResults([]step{inSLO(10), inSLO(20)}, nil, true, false)
	noSteady.SteadyPhase = ""

	tests := []struct {
		name string
		r    *results.Results
	}{
		{"the quick profile", fixture()},
		{"numbered scenarios", numbered},
		{"names without a steady phase to sweep", noSteady},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := report.Write(dir, tt.r, nil); err != nil {
				t.Fatalf("Write: %v", err)
			}
			w := read(t, dir)
			if _, found := w.svgs["rate-sweep.svg"]; found {
				t.Error("rate-sweep.svg written without a sweep")
			}
			for _, s := range []string{"Rate sweep and knee", "Knee (highest rate"} {
				if strings.Contains(w.md, s) || strings.Contains(w.html, s) {
					t.Errorf("report has %q without a sweep", s)
				}
			}
		})
	}
}

// TestSweepThreeArchitectures: the async monolith holds the SLO as far as
// the event-driven app, twice as far as the sync monolith: the knee moves
// with coupling in time, not with the number of processes.
func TestSweepThreeArchitectures(t *testing.T) {
	r := sweepResults([]step{inSLO(10), inSLO(20), {rate: 40, p99: 2}}, []step{inSLO(10), inSLO(20), inSLO(40), {rate: 80, p99: 3}}, false, false)
	for _, st := range []step{inSLO(10), inSLO(20), inSLO(40), {rate: 80, p99: 1.5}} {
		r.Runs = append(r.Runs, sweepRunOf(results.MonolithAsync, st, false))
	}
	dir := t.TempDir()
	if err := report.Write(dir, r, nil); err != nil {
		t.Fatal(err)
	}
	w := read(t, dir)
	contains(t, "report.md", plain(w.md),
		"Coupling in time (sync → async monolith): the async monolith holds the SLO up to 40 req/s, 2.0x the sync monolith's 20 req/s; "+
			"one process vs many (async monolith → event-driven): both the async monolith and the event-driven app hold the SLO up to 40 req/s; "+
			"so the difference in the knee comes from coupling in time, not from being one process or many.",
		"async monolith: knee 40 req/s (1 run per rate)",
		"Rate sweep — async monolith (steady phase)",
	)
	contains(t, "rate-sweep.svg", string(w.svgs["rate-sweep.svg"]), "async monolith knee: 40 req/s")
}

// TestKneeCountsReadyTime: the event-driven app answers every step well
// within the ack SLO, but its photos are ready ever later; the steps whose
// ready p99 exceeds the ready SLO fail, and the knee is below them.
func TestKneeCountsReadyTime(t *testing.T) {
	ackFast := func(rate, ready float64) step { return step{rate: rate, p99: 0.05, ready: ready} }
	r := sweepResults([]step{inSLO(20), inSLO(40), inSLO(60), inSLO(80)},
		[]step{ackFast(20, 1), ackFast(40, 2), ackFast(60, 4.16), ackFast(80, 16.7)}, false, false)
	r.SLOReady = 3
	dir := t.TempDir()
	if err := report.Write(dir, r, nil); err != nil {
		t.Fatal(err)
	}
	md := plain(read(t, dir).md)
	contains(t, report.MarkdownFile, md,
		"p99 ack < 1 s, p99 ready < 3 s, errors < 1%, backlog not growing",
		"event-driven: knee 40 req/s (1 run per rate) — 60 req/s is the lowest rate outside the SLO (p99 ready 4.16s ≥ 3s (p99 from ready n=25: fewer than 1,000 samples)); "+
			"80 req/s, the next rate, is outside too (p99 ready 16.7s ≥ 3s",
		"monolith: knee at least the highest rate swept (80 req/s)",
		"| event-driven | 40 req/s | yes: 60 req/s and 80 req/s failed |")
	lacks(t, report.MarkdownFile, md, "event-driven: knee 80 req/s", "event-driven: knee at least")
}
