package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStabilityWithinAReport(t *testing.T) {
	tests := []struct {
		e    estimate
		want string
	}{
		{estimate{vals: []float64{1, 1, 1}, med: 2, lo: 1.9, hi: 2.16, ci: true}, "stable: its interval is within ±8%"},
		{estimate{vals: []float64{1, 1, 1}, med: 2, lo: 1.5, hi: 2.1, ci: true}, "unstable: run-to-run spread, its interval reaches ±25%"},
		{estimate{vals: []float64{2}, med: 2}, "not judged: fewer than 3 runs"},
	}
	for _, tt := range tests {
		if got := stability(tt.e); !strings.HasPrefix(got, tt.want) {
			t.Errorf("stability(%+v) = %q, want %q…", tt.e, got, tt.want)
		}
	}
}

// Two reports compared: a ratio whose medians differ by more than 10% is
// unstable, and the reason names the side that moved.
func TestCompare(t *testing.T) {
	write := func(readyED, readyMono float64) string {
		dir := t.TempDir()
		f := func(v float64) *float64 { return &v }
		d := headlineDoc{Schema: HeadlineSchema, Profile: "quick",
			Figures: []headlineFigure{
				{Key: "ready_p50_seconds", Name: "upload-to-ready latency p50", Variant: archEvent, headlineEst: headlineEst{N: 1, Median: f(readyED)}},
				{Key: "ready_p50_seconds", Name: "upload-to-ready latency p50", Variant: archMonolith, headlineEst: headlineEst{N: 1, Median: f(readyMono)}},
				{Key: "photos_per_second", Name: "photos accepted per second", Variant: archEvent, headlineEst: headlineEst{N: 1, Median: f(7.5)}},
				{Key: "photos_per_second", Name: "photos accepted per second", Variant: archMonolith, headlineEst: headlineEst{N: 1, Median: f(7.5)}},
			},
			Ratios: []headlineRatio{
				{Key: "ready_p50_seconds", Numerator: archEvent, Denominator: archMonolith, headlineEst: headlineEst{N: 1, Median: f(readyED / readyMono)}},
				{Key: "photos_per_second", Numerator: archEvent, Denominator: archMonolith, headlineEst: headlineEst{N: 1, Median: f(1)}},
				{Key: "outage_upload_failed_share", Numerator: archEvent, Denominator: archMonolith, headlineEst: headlineEst{N: 1, Median: f(0)}},
			}}
		data, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, HeadlineFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	a := write(0.17, 0.10)
	var out strings.Builder
	if n, err := Compare(a, write(0.175, 0.10), &out); err != nil || n != 0 {
		t.Errorf("3%% apart: %d unstable, %v; want 0\n%s", n, err, out.String())
	}
	out.Reset()
	n, err := Compare(a, write(0.17, 0.08), &out)
	if err != nil || n != 1 {
		t.Fatalf("the monolith's ready p50 20%% lower: %d unstable, %v; want 1\n%s", n, err, out.String())
	}
	for _, want := range []string{"**unstable**: the event-driven moved +0%, n=1 run; the monolith moved -20%, n=1 run", "| photos accepted per second | event-driven ÷ monolith | 1× | 1× | 0.0% | stable |", "| 0× | 0× | 0.0% | stable |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("comparison lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := Compare(a, t.TempDir(), &out); err == nil {
		t.Error("a directory without headline.json: no error")
	}
}
