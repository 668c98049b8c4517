package calibrate_test

import (
	"math"
	"strings"
	"testing"

	"github.com/photobench/photobench/loadgen/calibrate"
)

func TestCalibrateCheck(t *testing.T) {
	tests := []struct {
		name   string
		f      calibrate.Figures
		want   bool
		reason []string // all in the reason
	}{
		{"exact", calibrate.Figures{AchievedRatio: 1, ErrorFraction: 0, LagP99: ptr(0.001)}, true, []string{"sustained"}},
		{"at the achieved limit", calibrate.Figures{AchievedRatio: 0.99, ErrorFraction: 0.0099}, true, nil},
		{"vegeta has no lag", calibrate.Figures{AchievedRatio: 1.001, ErrorFraction: 0}, true, nil},
		{"slow", calibrate.Figures{AchievedRatio: 0.985, ErrorFraction: 0}, false, []string{"achieved 98.50% of target < 99%"}},
		{"errors at the limit", calibrate.Figures{AchievedRatio: 1, ErrorFraction: 0.01}, false, []string{"1.00% failed or unsent >= 1%"}},
		{"late", calibrate.Figures{AchievedRatio: 1, ErrorFraction: 0, LagP99: ptr(0.010)}, false, []string{"schedule lag p99 10ms >= 10ms"}},
		{"everything wrong", calibrate.Figures{AchievedRatio: 0.5, ErrorFraction: 0.5, LagP99: ptr(0.2)},
			false, []string{"achieved 50.00%", "50.00% failed", "lag p99 200ms"}},
		{"NaN is not sustained", calibrate.Figures{AchievedRatio: math.NaN(), ErrorFraction: 0}, false, []string{"achieved"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason := calibrate.Check(tt.f)
			if ok != tt.want {
				t.Errorf("Check = %v (%s), want %v", ok, reason, tt.want)
			}
			for _, w := range tt.reason {
				if !strings.Contains(reason, w) {
					t.Errorf("reason %q lacks %q", reason, w)
				}
			}
		})
	}
}

func TestCalibrateMeasurementFigures(t *testing.T) {
	tests := []struct {
		name            string
		m               calibrate.Measurement
		ratio, errs, cp float64
	}{
		{"clean", calibrate.Measurement{Rate: 1000, AchievedRate: 999, Scheduled: 1000, Sent: 1000, OK: 1000, CPU: 0.5}, 0.999, 0, 0.5},
		{"dropped and failed", calibrate.Measurement{Rate: 100, AchievedRate: 90, Scheduled: 100, Sent: 90, OK: 80, Errors: 10, Dropped: 10, CPU: 0.09}, 0.9, 0.2, 1},
		{"failed run", calibrate.Measurement{Rate: 100, AchievedRate: 100, Scheduled: 100, Sent: 100, OK: 100, Error: "killed"}, 0, 1, 0},
		{"nothing sent", calibrate.Measurement{Rate: 100}, 0, 1, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.AchievedRatio(); !near(got, tt.ratio) {
				t.Errorf("AchievedRatio %g, want %g", got, tt.ratio)
			}
			if got := tt.m.ErrorFraction(); !near(got, tt.errs) {
				t.Errorf("ErrorFraction %g, want %g", got, tt.errs)
			}
			if got := tt.m.CPUPer1000(); !(near(got, tt.cp) || math.IsNaN(got) && math.IsNaN(tt.cp)) && tt.m.Error == "" {
				t.Errorf("CPUPer1000 %g, want %g", got, tt.cp)
			}
		})
	}
}

func TestCalibrateSpreadOf(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want calibrate.Spread
	}{
		{"none", nil, calibrate.Spread{}},
		{"one", []float64{3}, calibrate.Spread{Median: 3, Min: 3, Max: 3, N: 1}},
		{"odd", []float64{5, 1, 3}, calibrate.Spread{Median: 3, Min: 1, Max: 5, N: 3}},
		{"even", []float64{4, 1, 2, 3}, calibrate.Spread{Median: 2.5, Min: 1, Max: 4, N: 4}},
		{"NaN left out", []float64{math.NaN(), 2, 6}, calibrate.Spread{Median: 4, Min: 2, Max: 6, N: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := calibrate.SpreadOf(tt.in); got != tt.want {
				t.Errorf("SpreadOf(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func ours(rate, achieved float64, ok, sched uint64, lag, cpu float64) calibrate.Measurement {
	return calibrate.Measurement{Tool: calibrate.ToolPhotobench, Stage: "rates", Rate: rate, Duration: 10,
		Scheduled: sched, Sent: sched, OK: ok, Errors: sched - ok, AchievedRate: achieved, LagP99: ptr(lag),
		LatencyP50: 0.001, LatencyP99: 0.002, ServiceP50: ptr(0.0005), ServiceP99: ptr(0.001), CPU: cpu, Wall: 10.1}
}

func theirs(rate, achieved float64, ok, sched uint64, cpu float64) calibrate.Measurement {
	return calibrate.Measurement{Tool: calibrate.ToolVegeta, Stage: "rates", Rate: rate, Duration: 10,
		Scheduled: sched, Sent: sched, OK: ok, Errors: sched - ok, AchievedRate: achieved,
		LatencyP50: 0.0004, LatencyP99: 0.003, CPU: cpu, Wall: 10.1}
}

func TestCalibrateSummarize(t *testing.T) {
	tests := []struct {
		name      string
		ms        []calibrate.Measurement
		sustained bool
		achieved  calibrate.Spread
		reason    string
	}{
		{"three good repeats", []calibrate.Measurement{
			ours(1000, 1000, 10000, 10000, 0.001, 1), ours(1000, 999.9, 10000, 10000, 0.002, 1.2), ours(1000, 999.5, 10000, 10000, 0.003, 1.1)},
			true, calibrate.Spread{Median: 999.9, Min: 999.5, Max: 1000, N: 3}, "sustained"},
		{"one late repeat of three is outvoted", []calibrate.Measurement{
			ours(1000, 1000, 10000, 10000, 0.001, 1), ours(1000, 1000, 10000, 10000, 0.05, 1), ours(1000, 1000, 10000, 10000, 0.002, 1)},
			true, calibrate.Spread{Median: 1000, Min: 1000, Max: 1000, N: 3}, "sustained"},
		{"two late repeats of three are not", []calibrate.Measurement{
			ours(1000, 1000, 10000, 10000, 0.02, 1), ours(1000, 1000, 10000, 10000, 0.05, 1), ours(1000, 1000, 10000, 10000, 0.002, 1)},
			false, calibrate.Spread{Median: 1000, Min: 1000, Max: 1000, N: 3}, "schedule lag p99 20ms"},
		{"a failed run counts as nothing", []calibrate.Measurement{
			theirs(1000, 1000, 10000, 10000, 1), {Tool: calibrate.ToolVegeta, Rate: 1000, Error: "killed"}},
			false, calibrate.Spread{Median: 500, Min: 0, Max: 1000, N: 2}, "achieved 50.00%"},
		{"vegeta on achieved and success only", []calibrate.Measurement{theirs(1000, 995, 9950, 10000, 1)},
			true, calibrate.Spread{Median: 995, Min: 995, Max: 995, N: 1}, "sustained"},
		{"no runs", nil, false, calibrate.Spread{}, "not measured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := calibrate.Summarize("x", 1000, tt.ms)
			if s.Sustained != tt.sustained || !strings.Contains(s.Reason, tt.reason) {
				t.Errorf("sustained %v (%s), want %v (%s)", s.Sustained, s.Reason, tt.sustained, tt.reason)
			}
			if s.AchievedRate != tt.achieved {
				t.Errorf("achieved %+v, want %+v", s.AchievedRate, tt.achieved)
			}
			if s.Runs != len(tt.ms) {
				t.Errorf("runs %d, want %d", s.Runs, len(tt.ms))
			}
		})
	}
}
