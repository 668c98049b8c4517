package results_test

import (
	"testing"

	"github.com/photobench/photobench/bench/results"
)

// A fault a target could not take stays in Faults (the report's fault
// table shows it) but not in Injected, which every fault figure reads.
func TestInjectedLeavesOutFaultsNotInjected(t *testing.T) {
	run := results.Run{Faults: []results.Window{
		{Name: "kafka restart", Description: "restart of kafka (not injected: ...)", NotInjected: true},
		{Name: "vision outage"},
	}}
	got := run.Injected()
	if len(got) != 1 || got[0].Name != "vision outage" || len(run.Faults) != 2 {
		t.Fatalf("injected %+v of %+v", got, run.Faults)
	}
}
