package calibrate_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen/calibrate"
)

// beyond is a run of photobench's past capacity: every hit scheduled and
// accounted for, some dropped, late.
func beyond(rate float64) calibrate.Measurement {
	sched := uint64(rate * 10)
	m := ours(rate, rate*0.9, sched*8/10, sched, 0.08, rate/1000*0.05)
	m.Stage, m.Sent, m.Errors, m.Dropped = "search", sched*9/10, sched/10, sched/10
	return m
}

func report(runs []calibrate.Measurement, wrk float64, searches map[string]calibrate.SearchResult) *calibrate.Report {
	r := &calibrate.Report{
		Config:  calibrate.ReportConfig{Rates: []float64{1000, 10000}, Duration: 10, Repeats: 1, Timeout: 5, SearchStep: 1.25, SearchBudget: 300},
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Ended: time.Date(2026, 1, 2, 3, 34, 5, 0, time.UTC),
		Runs: runs, Criterion: calibrate.Criterion,
	}
	if wrk > 0 {
		r.Wrk = []calibrate.WrkResult{{RequestsSec: wrk, LatencyP50: ptr(0.001), LatencyP99: ptr(0.005)}}
	}
	for tool, res := range searches {
		r.SetSearch(tool, res)
	}
	r.Compute()
	return r
}

func aimStatus(r *calibrate.Report) []string {
	var s []string
	for _, a := range r.Aims {
		s = append(s, a.Status)
	}
	return s
}

func TestCalibrateReportAims(t *testing.T) {
	met, not, open := calibrate.AimMet, calibrate.AimNotMet, calibrate.AimUndetermined
	good := []calibrate.Measurement{
		ours(1000, 1000, 10000, 10000, 0.001, 0.5), theirs(1000, 1000, 10000, 10000, 0.7),
		ours(10000, 10000, 100000, 100000, 0.002, 4), theirs(10000, 9000, 90000, 100000, 6),
		beyond(50000),
	}
	searches := map[string]calibrate.SearchResult{
		calibrate.ToolPhotobench: {Max: 40000, FirstFailure: 50000, Steps: []calibrate.Verdict{{Rate: 12500, Sustained: true}, {Rate: 50000}}, Stopped: "a rate failed"},
		calibrate.ToolVegeta:     {Max: 5000, FirstFailure: 6250, Stopped: "a rate failed"},
	}
	tests := []struct {
		name     string
		runs     []calibrate.Measurement
		wrk      float64
		searches map[string]calibrate.SearchResult
		want     []string // achieved, 2x vegeta, 40% wrk, cpu, no collapse
		details  []string // in the aims' details, in order
	}{
		{"all met", good, 80000, searches, []string{met, met, met, met, met},
			[]string{"within 1% at 1000/s", "photobench 40000/s, vegeta's 5000/s: needs 10000/s", "needs 32000/s",
				"1000/s: 0.0500 vs 0.0700", "1 run(s) beyond capacity (at 50000/s)"}},
		{"wrk too fast", good, 120000, searches, []string{met, met, not, met, met}, []string{"", "", "needs 48000/s"}},
		{"nothing beyond capacity, no wrk", good[:4], 0, searches, []string{met, met, open, met, open},
			[]string{"", "", "not measured", "", "no run of photobench's went beyond capacity"}},
		{"photobench off the rate, costlier, collapsing", []calibrate.Measurement{
			ours(1000, 980, 10000, 10000, 0.001, 0.9), theirs(1000, 1000, 10000, 10000, 0.7),
			func() calibrate.Measurement { m := beyond(50000); m.Scheduled = 400000; return m }(),
		}, 80000, map[string]calibrate.SearchResult{
			calibrate.ToolPhotobench: {Max: 8000, FirstFailure: 10000},
			calibrate.ToolVegeta:     {Max: 5000, FirstFailure: 6250},
		}, []string{not, not, not, open, not},
			[]string{"off by more than 1% at 1000/s (98.00%)", "", "", "no listed rate was sustained by both", "scheduled 400000 of 500000 hits"}},
		{"lower bounds leave it open", good[:4], 80000, map[string]calibrate.SearchResult{
			calibrate.ToolPhotobench: {Max: 20000, LowerBound: true},
			calibrate.ToolVegeta:     {Max: 5000, LowerBound: true},
		}, []string{met, open, open, met, open}, []string{"", "lower bound leaves it open"}},
		{"no search: the listed rates decide", good[:4], 80000, nil, []string{met, met, open, met, open},
			[]string{"", "photobench >= 10000/s, vegeta's 1000/s: needs 2000/s", "photobench >= 10000/s, wrk's 80000/s: needs 32000/s (a lower bound"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := report(tt.runs, tt.wrk, tt.searches)
			got := aimStatus(r)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				for _, a := range r.Aims {
					t.Logf("%s: %s: %s", a.Name, a.Status, a.Detail)
				}
				t.Fatalf("aims %q, want %q", got, tt.want)
			}
			for i, d := range tt.details {
				if !strings.Contains(r.Aims[i].Detail, d) {
					t.Errorf("aim %d detail %q lacks %q", i, r.Aims[i].Detail, d)
				}
			}
		})
	}
}

func TestCalibrateReportMarkdownAndJSON(t *testing.T) {
	runs := []calibrate.Measurement{
		ours(1000, 1000, 10000, 10000, 0.001, 0.5), theirs(1000, 1000, 10000, 10000, 0.7),
		ours(10000, 10000, 100000, 100000, 0.002, 4), theirs(10000, 9000, 90000, 100000, 6),
		beyond(50000),
	}
	r := report(runs, 80000, map[string]calibrate.SearchResult{
		calibrate.ToolPhotobench: {Max: 40000, FirstFailure: 50000, Steps: []calibrate.Verdict{{Rate: 50000}}, Stopped: "a rate failed"},
	})
	r.Machine = calibrate.Machine{CPU: "Test CPU @ 2.0GHz", Cores: 2, GoVersion: "go1.26.8", Vegeta: "v12.13.0", Wrk: "wrk debian/4.1.0-3+b2 [epoll]"}
	md := r.Markdown("results/loadgen-calibration.json")
	for _, want := range []string{
		"# Load generator calibration", "Test CPU @ 2.0GHz", "| cores | 2", "v12.13.0", "wrk debian/4.1.0-3+b2",
		"## Method", "schedule lag p99 < 10ms", "## Results by rate",
		"| 1000/s | photobench | 1000.0/s | 100.00% | 1ms | 1ms | 2ms | 500µs / 1ms | 0.0500 | n/a | yes |",
		"| 10000/s | vegeta | 9000.0/s | 90.00% | n/a |", "no: achieved 90.00% of target < 99%; 10.00% failed or unsent >= 1%",
		"| photobench | 40000/s | 50000/s | 50000/s ✗ | a rate failed |",
		"| vegeta | 1000/s | 10000/s | — | listed rates only, no search ran |",
		"| wrk (closed loop, the bound) | 80000 req/s |",
		"## photobench beyond capacity", "| 50000/s | search | 500000 | 450000 | 400000 | 50000 | 50000 | 45000.0/s | 80ms |",
		"## Aims", "| highest sustained open-loop rate at least twice vegeta's | **met** |",
		"results/loadgen-calibration.json",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	if strings.Contains(md, "Partial") {
		t.Error("a complete report says it is partial")
	}
	data, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Runs  []map[string]any `json:"runs"`
		Rates []struct {
			Vegeta struct {
				LagP99 *calibrate.Spread `json:"schedule_lag_p99_seconds"`
			} `json:"vegeta"`
		} `json:"rates"`
		Aims []calibrate.Aim `json:"aims"`
	}
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Runs) != len(runs) || len(back.Rates) != 2 || len(back.Aims) != 5 {
		t.Errorf("JSON has %d runs, %d rates, %d aims; want %d, 2, 5", len(back.Runs), len(back.Rates), len(back.Aims), len(runs))
	}
	if back.Rates[0].Vegeta.LagP99 != nil {
		t.Error("vegeta's schedule lag is not null")
	}
}
