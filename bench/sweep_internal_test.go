package bench

import (
	"fmt"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench/results"
)

const sweepProfile = `name: s
slo_p99_ack: 1s
slo_p99_ready: 5s
experiments:
  - name: sweep
    sweep: {phase: p, rates: [40, 10, 30, 20, 50, 60]}
    scenario:
      users: 1
      mix: {list: 1}
      phases:
        - {name: p, duration: 1s, pacer: {type: constant, rate: 1}}
  - name: after
    repeats: 2
    scenario:
      users: 1
      mix: {list: 1}
      phases:
        - {name: p, duration: 1s, pacer: {type: constant, rate: 1}}
`

// The sweep's rates run in increasing order, one block of every variant
// per rate; fed verdicts, a variant's sweep stops after its SLO failed at
// two rates (not necessarily in a row), the others go on, and the next
// experiment runs every variant.
func TestSweepStopsAfterTwoFailingRates(t *testing.T) {
	p, err := ParseProfile([]byte(sweepProfile))
	if err != nil {
		t.Fatal(err)
	}
	archs := []string{"x", "y", "z"}
	steps := plan(p, archs, 3)
	// The knees the fake verdicts put each variant at: x fails from 30
	// on, y fails at 20 only then from 50 on, z never fails.
	holds := func(arch string, rate float64) bool {
		switch arch {
		case "x":
			return rate < 30
		case "y":
			return rate != 20 && rate < 50
		}
		return true
	}
	w := newSweeps(p.SweepSLO())
	ran := map[string][]string{}
	var stopped []string
	lastRate := map[string]float64{}
	for _, s := range steps {
		if w.skip(s) {
			continue
		}
		ran[s.arch] = append(ran[s.arch], s.name)
		if s.exp.Sweep == nil {
			continue
		}
		if s.sweepRate < lastRate[s.arch] {
			t.Errorf("%s: rate %g after %g", s.arch, s.sweepRate, lastRate[s.arch])
		}
		lastRate[s.arch] = s.sweepRate
		v := results.Verdict{Measured: true, Held: holds(s.arch, s.sweepRate)}
		if st := w.judge(s, "dir", v); st.Stopped {
			stopped = append(stopped, fmt.Sprintf("%s@%g", s.arch, st.Rate))
		}
	}
	want := map[string]string{
		"x": "sweep-10,sweep-20,sweep-30,sweep-40,after,after",
		"y": "sweep-10,sweep-20,sweep-30,sweep-40,sweep-50,after,after",
		"z": "sweep-10,sweep-20,sweep-30,sweep-40,sweep-50,sweep-60,after,after",
	}
	for a, w := range want {
		if got := strings.Join(ran[a], ","); got != w {
			t.Errorf("%s ran %s, want %s", a, got, w)
		}
	}
	if got := strings.Join(stopped, " "); got != "x@40 y@50" {
		t.Errorf("stopped %q, want x@40 y@50", got)
	}
	// Every block is one run of each variant, in the seed's order.
	for i := 0; i < len(steps); i += len(archs) {
		seen := map[string]bool{}
		for _, s := range steps[i : i+len(archs)] {
			seen[s.arch] = true
			if s.block != i/len(archs)+1 || s.name != steps[i].name {
				t.Errorf("step %+v out of block %d", s, i/len(archs)+1)
			}
		}
		if len(seen) != len(archs) {
			t.Errorf("block %d runs %v", i/len(archs)+1, seen)
		}
	}
}

// A sweep run that could not be measured (its apps did not start) counts
// as a failure at its rate; the same rate failing twice (repeats) counts
// once.
func TestSweepCountsFailedRatesOnce(t *testing.T) {
	p, err := ParseProfile([]byte(sweepProfile))
	if err != nil {
		t.Fatal(err)
	}
	s := plan(p, []string{"x"}, 1)[0]
	w := newSweeps(p.SweepSLO())
	w.judge(s, "d", results.Verdict{})
	if st := w.judge(s, "d", results.Verdict{Measured: true}); st.Failures != 1 || st.Stopped || w.skip(s) {
		t.Errorf("after two failures at one rate: %+v, skip %v; want one failed rate, not stopped", st, w.skip(s))
	}
	s.sweepRate = 20
	if st := w.judge(s, "d", results.Verdict{}); !st.Stopped || !w.skip(s) {
		t.Errorf("after a second failed rate: %+v, skip %v; want stopped", st, w.skip(s))
	}
}
