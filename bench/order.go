package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/loadgen"
)

// DefaultOrderSeed seeds the order of the runs when the profile sets no
// order_seed: fixed, so that a bench run again runs in the same order.
const DefaultOrderSeed = 20261207

// sweepFailLimit is how many rates a variant's sweep SLO may fail at
// before its sweep stops: the first failure may be noise, the second
// confirms the knee.
const sweepFailLimit = 2

// Order is the balanced, randomised order of blocks repetition blocks of
// the variants: each block runs every variant once. The blocks come from
// Latin squares (each variant once at each position in every k blocks, for
// k variants) whose symbols and rows are shuffled by a generator seeded
// with seed; every second square is the first one's rows reversed, so
// that over 2k blocks each variant also follows each other one equally
// often (ABC, BCA, CAB, then CBA, ACB, BAC). The same seed gives the same
// order.
func Order(variants []string, blocks int, seed int64) [][]string {
	k := len(variants)
	if k == 0 || blocks <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x70686f746f))
	symbols := rng.Perm(k)
	var out [][]string
	for sq := 0; len(out) < blocks; sq++ {
		for _, r := range rng.Perm(k) {
			if len(out) == blocks {
				break
			}
			row := make([]string, k)
			for j := range k {
				row[j] = variants[symbols[(r+j)%k]]
			}
			if sq%2 == 1 {
				slices.Reverse(row)
			}
			out = append(out, row)
		}
	}
	return out
}

// plan expands the profile into runs: experiments in order; within each,
// its repetitions (and, for a sweep, its rates in increasing order, each
// rate's repetitions before the next rate) as blocks that run every
// architecture once, in the order Order draws for the bench's seed across
// all of its blocks.
func plan(p *Profile, archs []string, seed int64) []step {
	type block struct {
		exp    Experiment
		sc     *loadgen.Scenario
		name   string
		rate   float64
		repeat int
	}
	var blocks []block
	for _, e := range p.Experiments {
		if e.Sweep == nil {
			for rep := 1; rep <= e.Repeats; rep++ {
				blocks = append(blocks, block{exp: e, sc: e.Scenario, name: e.Name, repeat: rep})
			}
			continue
		}
		rates := slices.Clone(e.Sweep.Rates)
		slices.Sort(rates)
		for _, r := range rates {
			sc := *e.Scenario
			sc.Phases = slices.Clone(e.Scenario.Phases)
			for i := range sc.Phases {
				if sc.Phases[i].Name == e.Sweep.Phase {
					sc.Phases[i].Pacer = loadgen.Constant{Rate: r}
				}
			}
			for rep := 1; rep <= e.Repeats; rep++ {
				blocks = append(blocks, block{exp: e, sc: &sc, name: fmt.Sprintf("%s-%g", e.Name, r), rate: r, repeat: rep})
			}
		}
	}
	var steps []step
	for i, order := range Order(archs, len(blocks), seed) {
		b := blocks[i]
		for pos, a := range order {
			steps = append(steps, step{exp: b.exp, sc: b.sc, name: b.name, arch: a, repeat: b.repeat,
				sweepRate: b.rate, block: i + 1, position: pos + 1})
		}
	}
	return steps
}

// sweeps follows every variant's sweeps: it judges each sweep run against
// the SLO and stops a variant's sweep once the SLO failed at two of its
// rates, after which its remaining steps of that sweep are skipped.
type sweeps struct {
	slo   results.SLO
	fails map[[2]string][]float64 // experiment and arch -> the rates that failed
}

func newSweeps(slo results.SLO) *sweeps {
	return &sweeps{slo: slo, fails: map[[2]string][]float64{}}
}

// skip says whether s is a sweep step of a variant whose sweep has stopped.
func (w *sweeps) skip(s step) bool {
	return s.exp.Sweep != nil && len(w.fails[[2]string{s.exp.Name, s.arch}]) >= sweepFailLimit
}

// judge records the verdict v on sweep step s (whose run is in dir) and
// returns the sweep's record of it. A run that could not be measured (it
// failed to start, answered nothing) counts as a failure.
func (w *sweeps) judge(s step, dir string, v results.Verdict) results.SweepStep {
	key := [2]string{s.exp.Name, s.arch}
	if !v.Held && !slices.Contains(w.fails[key], s.sweepRate) {
		w.fails[key] = append(w.fails[key], s.sweepRate)
	}
	n := len(w.fails[key])
	return results.SweepStep{Experiment: s.exp.Name, Arch: s.arch, Rate: s.sweepRate, Repeat: s.repeat, Dir: dir,
		Verdict: v, Failures: n, Stopped: !v.Held && n == sweepFailLimit}
}
