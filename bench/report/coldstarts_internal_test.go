package report

import (
	"testing"
	"time"

	"github.com/photobench/photobench/bench/results"
)

// The merged cold starts (the trade-offs table's "first requests after
// idle") leave out the reconciler, whose timer makes every run a cold start;
// by function, it is listed.
func TestColdStartsLeaveTimerRunsOutOfTheMerge(t *testing.T) {
	bucket := func(fn, le string, from, to float64) results.Series {
		return results.Series{Labels: map[string]string{"function": fn, "phase": "first_request", "le": le},
			Points: [][2]float64{{0, from}, {60, to}}}
	}
	run := &results.Run{Start: time.Unix(5, 0), Drain: time.Unix(55, 0), Series: map[string][]results.Series{results.QColdStarts: {
		bucket("ingest", "1", 0, 2), bucket("ingest", "+Inf", 0, 2),
		bucket("reconciler", "1", 0, 3), bucket("reconciler", "+Inf", 0, 3),
	}}}
	merged := coldStarts(run, false)
	if len(merged) != 1 || merged[0].total() != 2 {
		t.Errorf("merged: %+v, want ingest's 2 cold starts only", merged)
	}
	byFn := coldStarts(run, true)
	if len(byFn) != 2 || byFn[1].function != "reconciler" || byFn[1].total() != 3 {
		t.Errorf("by function: %+v, want ingest 2 and reconciler 3", byFn)
	}
}
