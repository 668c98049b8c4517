package report

import (
	"math"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench/results"
)

// The published section cites every source and puts this run's figure,
// or the reason there is none, beside each; the verdict follows the
// figures.
func TestPublishedSection(t *testing.T) {
	render := func(o ours) string {
		d := &doc{}
		publishedSection(d, o)
		return string(d.markdown())
	}
	got := render(ours{coldStartP50: 0.1, coldStartMax: 0.5, coldStarts: 12, triggerHop: 0.03, triggerHopText: "estimated",
		costRatio: 4.2, lambdaRatio: 3.1, load: 10})
	for _, want := range []string{"arxiv.org/abs/2311.09745", "doi:10.1007/s11761-017-0208-y", "Prime Video", "tecracer.com",
		"at most 100 ms at the median (n=12", "in the published range", "30.0 ms (estimated)", "costs 4.20× the monolith", "costs 3.10× the monolith", "We differ"} {
		if !strings.Contains(got, want) {
			t.Errorf("section lacks %q:\n%s", want, got)
		}
	}
	cheap := render(ours{coldStartP50: math.NaN(), coldStartMax: math.NaN(), triggerHop: math.NaN(), costRatio: 0.5, lambdaRatio: 0.2, load: 0.1})
	fast := render(ours{coldStartP50: 0.025, coldStartMax: 0.25, coldStarts: 12, triggerHop: math.NaN(), costRatio: math.NaN(), lambdaRatio: math.NaN()})
	if !strings.Contains(fast, "faster than the published range") || !strings.Contains(fast, "lower bound") {
		t.Errorf("a 25 ms cold start is not called faster than the published range:\n%s", fast)
	}
	for _, want := range []string{"no cold start measured", "no event hop measured", "is the cheaper one at this load", "We agree"} {
		if !strings.Contains(cheap, want) {
			t.Errorf("section lacks %q:\n%s", want, cheap)
		}
	}
}

// The order table names each run's block and place, the state it started
// from and the host's load before it.
func TestOrderTable(t *testing.T) {
	v := &view{r: &results.Results{OrderSeed: 7, Order: []results.RunStart{
		{Index: 1, Block: 1, Position: 2, Arch: archEvent, Scenario: "steady", Repeat: 1, Lag: map[string]int64{"tagger": 0},
			Objects: map[string]int64{"originals": 12}, Load: results.HostLoad{LoadAvg: [3]float64{0.5, 0.25, 0.125}, OtherCPU: 0.05, Seconds: 3}},
		{Index: 2, Block: 1, Position: 1, Arch: archMonolith, Scenario: "steady", Repeat: 1, Fresh: "database bench_x"},
	}}}
	d := &doc{}
	v.orderTable(d)
	got := string(d.markdown())
	for _, want := range []string{"seed 7", "| 1 | 1.2 | event-driven", "objects at start: originals 12", "lag at start: tagger 0",
		"load average 0.50 / 0.25 / 0.12", `fresh: database bench\_x`, "| 1.1 | monolith | steady | 1 | fresh: database bench\\_x | n/a"} {
		if !strings.Contains(got, want) {
			t.Errorf("order table lacks %q:\n%s", want, got)
		}
	}
}
