package results_test

import (
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/loadgen"
)

// sloRun is a run whose phase "steady" (t 0-40 s) answered with the given
// p99s and errors, and whose backlog series rises by rise per second.
func sloRun(arch string, ack, ready float64, errs uint64, rise float64) results.Run {
	t0 := time.Unix(1000, 0)
	run := results.Run{Arch: arch, Phases: []results.Window{{Name: "steady", Start: t0, End: t0.Add(40 * time.Second)}}}
	ps := loadgen.PhaseSummary{Name: "steady",
		All: loadgen.Stats{Scheduled: 400, OK: 400 - errs, Errors: errs, Latency: loadgen.Quantiles{Count: 400, P99: ack}},
		Ops: map[loadgen.Op]loadgen.Stats{loadgen.OpUpload: {TargetRate: 2.5}}}
	if ready > 0 {
		ps.Ready = &loadgen.ReadySummary{Followed: 100, Ready: 100, Latency: loadgen.Quantiles{Count: 100, P99: ready}}
	}
	run.Summary.Phases = []loadgen.PhaseSummary{ps}
	var pts [][2]float64
	for s := 0.0; s <= 40; s++ {
		pts = append(pts, [2]float64{1000 + s, 3 + rise*s})
	}
	run.Series = map[string][]results.Series{results.QLag: {{Labels: map[string]string{"function": "tagger"}, Points: pts}}}
	return run
}

func TestCheckSLO(t *testing.T) {
	slo := results.SLO{AckP99: 1, ReadyP99: 5}
	tests := []struct {
		name string
		run  results.Run
		held bool
		why  string
	}{
		{"all three parts kept", sloRun(results.EventDriven, 0.2, 1, 0, 0), true, ""},
		{"a slow answer", sloRun(results.EventDriven, 1.2, 1, 0, 0), false, "p99 ack"},
		{"errors at 1%", sloRun(results.EventDriven, 0.2, 1, 4, 0), false, "errors 1.0%"},
		{"photos late though answers are fast", sloRun(results.EventDriven, 0.2, 6, 0, 0), false, "p99 ready 6s"},
		{"a growing backlog", sloRun(results.EventDriven, 0.2, 1, 0, 1), false, "backlog grew by 20"},
		{"a small rise is noise", sloRun(results.EventDriven, 0.2, 1, 0, 0.2), true, ""},
		{"the sync monolith has no backlog to grow", sloRun(results.Monolith, 0.2, 0.2, 0, 1), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.run.CheckSLO("steady", slo)
			if !v.Measured || v.Held != tt.held {
				t.Fatalf("measured %v held %v (why %q), want held %v", v.Measured, v.Held, v.Why, tt.held)
			}
			if tt.why != "" && !strings.Contains(strings.Join(v.Why, "; "), tt.why) {
				t.Errorf("why %q, want it to mention %q", v.Why, tt.why)
			}
		})
	}
	if v := sloRun(results.EventDriven, 0.2, 1, 0, 0).CheckSLO("burst", slo); v.Measured || v.Held {
		t.Errorf("a phase the run does not have: %+v, want unmeasured and not held", v)
	}
}
