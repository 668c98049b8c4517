package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/photobench/photobench/loadgen"
)

// The report's statistics: every figure over repetitions is the median of
// its per-run values, with a 95% percentile-bootstrap interval once there
// are at least minRunsForInterval runs; a ratio between two variants is the
// ratio of their medians with its own bootstrap interval, each side
// resampled independently. The generator is seeded with a fixed seed for
// every interval afresh, so that each interval depends only on its own run
// values: the report is the same byte for byte whenever it is written from
// the same results, and whatever else the report contains.

const (
	// Confidence is the coverage the report's intervals aim at.
	Confidence = 0.95
	// BootstrapResamples is how many resamples each interval is read from.
	BootstrapResamples = 10000
	// BootstrapSeed seeds the generator of every interval (PCG, both
	// halves of its state the seed).
	BootstrapSeed = 14
	// MinRunsForInterval is the fewest runs an interval is given from:
	// with fewer, the report shows the run values and says "no interval".
	MinRunsForInterval = 3
)

// estimate is a figure over runs: its per-run values, in run order, their
// median, and the bootstrap interval of the median when there are enough
// runs (ci).
type estimate struct {
	vals   []float64
	med    float64
	lo, hi float64
	ci     bool
}

// ok reports whether the estimate has a value.
func (e estimate) ok() bool { return len(e.vals) > 0 && finite(e.med) }

// n is the number of runs it is made of.
func (e estimate) n() int { return len(e.vals) }

// estimateOf is the median of vals and, from MinRunsForInterval values
// on, its 95% percentile-bootstrap interval.
func estimateOf(vals []float64) estimate {
	e := estimate{vals: vals, med: median(vals), lo: math.NaN(), hi: math.NaN()}
	if len(vals) >= MinRunsForInterval {
		e.lo, e.hi = bootstrap(BootstrapResamples, func(draw func([]float64) []float64) float64 { return medianInPlace(draw(vals)) })
		e.ci = true
	}
	return e
}

// ratioOf is num's median over den's, and, when both sides have
// MinRunsForInterval runs or more, the 95% percentile-bootstrap interval of
// that ratio, each side resampled independently. vals holds num's values
// then den's. The median is NaN when den's median is 0.
func ratioOf(num, den []float64) estimate {
	ratio := func(a, b []float64) float64 { // on resamples: sorts them
		d := medianInPlace(b)
		if d == 0 {
			return math.NaN()
		}
		return medianInPlace(a) / d
	}
	e := estimate{vals: append(append([]float64(nil), num...), den...), med: median(num) / median(den), lo: math.NaN(), hi: math.NaN()}
	if median(den) == 0 {
		e.med = math.NaN()
	}
	if len(num) >= MinRunsForInterval && len(den) >= MinRunsForInterval && finite(e.med) {
		e.lo, e.hi = bootstrap(BootstrapResamples, func(draw func([]float64) []float64) float64 { return ratio(draw(num), draw(den)) })
		e.ci = finite(e.lo) && finite(e.hi)
	}
	return e
}

// bootstrap computes stat on resamples resamples, each drawing (with
// replacement) from the samples stat asks for, and returns the 2.5th and
// 97.5th percentiles of the results (nearest rank; NaN results, such as a
// ratio over a zero, are left out, and both ends are NaN when more than
// 5% of them are). The generator starts from BootstrapSeed on every call.
func bootstrap(resamples int, stat func(draw func([]float64) []float64) float64) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(BootstrapSeed, BootstrapSeed))
	buf := map[*float64][]float64{} // a buffer per sample drawn from
	draw := func(v []float64) []float64 {
		b := buf[&v[0]]
		if b == nil {
			b = make([]float64, len(v))
			buf[&v[0]] = b
		}
		for i := range b {
			b[i] = v[rng.IntN(len(v))]
		}
		return b
	}
	out := make([]float64, 0, resamples)
	for range resamples {
		if s := stat(draw); finite(s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 || float64(len(out)) < Confidence*float64(resamples) {
		return math.NaN(), math.NaN()
	}
	sort.Float64s(out)
	alpha := (1 - Confidence) / 2
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(out)))) - 1
		return out[min(max(i, 0), len(out)-1)]
	}
	return at(alpha), at(1 - alpha)
}

// medianInPlace is the median of v, which it sorts (NaN when empty).
func medianInPlace(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// text formats the estimate: "121 ms [98.0–150 ms]" with an interval,
// the run values after the median without one ("121 ms (runs 118 ms,
// 124 ms)" for two runs, the value alone for one).
func (e estimate) text(format func(float64) string) string {
	if !e.ok() {
		return na("no value")
	}
	s := format(e.med)
	switch {
	case e.ci:
		s += " [" + rangeText(format(e.lo), format(e.hi)) + "]"
	case len(e.vals) > 1:
		s += " (runs " + valuesText(e.vals, format) + ")"
	}
	return s
}

// nText is the run count as the report states it: "n=5", or "n=1, no
// interval" below MinRunsForInterval runs.
func (e estimate) nText() string {
	if e.ci || len(e.vals) >= MinRunsForInterval {
		return fmt.Sprintf("n=%d", len(e.vals))
	}
	return fmt.Sprintf("n=%d, no interval", len(e.vals))
}

// withN is text and the run count: "121 ms [98.0–150 ms] (n=5)".
func (e estimate) withN(format func(float64) string) string {
	if !e.ok() {
		return na("no value")
	}
	return e.text(format) + " (" + e.nText() + ")"
}

// valuesText lists values in order: "118 ms, 124 ms".
func valuesText(vals []float64, format func(float64) string) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = format(v)
	}
	return strings.Join(parts, ", ")
}

// fmtTimes formats a ratio as "8.1×".
func fmtTimes(r float64) string {
	if !finite(r) {
		return "n/a"
	}
	return trimZeros(sig3(math.Abs(r))) + "×"
}

// ratioText formats a ratio estimate: "8.1× [5.3–9.4]", or "8.1× (n=1
// and 1, no interval)".
func ratioText(e estimate, nNum, nDen int) string {
	if !finite(e.med) {
		return na("the denominator's median is 0")
	}
	if e.ci {
		return fmt.Sprintf("%s [%s–%s] (n=%d and %d)", fmtTimes(e.med), trimZeros(sig3(e.lo)), trimZeros(sig3(e.hi)), nNum, nDen)
	}
	return fmt.Sprintf("%s (n=%d and %d, no interval)", fmtTimes(e.med), nNum, nDen)
}

// Percentiles and their support: a quantile q of a histogram is shown only
// when at least 10/(1-q) samples back it (p50 20, p90 100, p99 1,000,
// p99.9 10,000); otherwise the highest backed one below it, with the count.

// supportRule states the rule, for the methods section and notes.
func supportRule() string {
	return "a percentile q needs at least 10/(1−q) samples: p50 20, p90 100, p99 1,000, p99.9 10,000"
}

// quantileLevels are the quantiles loadgen.Quantiles holds, ascending.
var quantileLevels = []float64{0.5, 0.9, 0.99, 0.999}

// minSamples is the fewest samples quantile q must rest on to be shown.
func minSamples(q float64) float64 { return 10 / (1 - q) }

// backed reports whether n samples back quantile q.
func backed(q float64, n int64) bool { return float64(n) >= minSamples(q)-1e-9 }

// backedLevel is the highest quantile of quantileLevels up to want that n
// samples back (0 when not even the median is).
func backedLevel(want float64, n int64) float64 {
	level := 0.0
	for _, q := range quantileLevels {
		if q <= want+1e-12 && backed(q, n) {
			level = q
		}
	}
	return level
}

// quantileAt reads quantile q (one of quantileLevels) of qs.
func quantileAt(qs loadgen.Quantiles, q float64) float64 {
	switch q {
	case 0.5:
		return qs.P50
	case 0.9:
		return qs.P90
	case 0.99:
		return qs.P99
	case 0.999:
		return qs.P999
	}
	return qs.Max
}

// pctName names a quantile: "p50", "p99", "p99.9".
func pctName(q float64) string {
	return "p" + trimZeros(fmt.Sprintf("%.1f", 100*q))
}

// qfig is a percentile over runs, shown at the highest level that every
// run's sample count backs, up to the one wanted.
type qfig struct {
	want, level float64 // level 0: not even the median is backed
	qs          []loadgen.Quantiles
	counts      []int64 // samples per run
	maxes       estimate
	estimate    // the level's per-run values
}

// quantFigure reads, over runs' histograms qs (those without samples left
// out), the highest quantile up to want that every run backs.
func quantFigure(qs []loadgen.Quantiles, want float64) qfig {
	f := qfig{want: want, level: want}
	var kept []loadgen.Quantiles
	for _, q := range qs {
		if q.Count > 0 {
			kept = append(kept, q)
			f.level = math.Min(f.level, backedLevel(want, q.Count))
		}
	}
	return f.withLevel(kept, f.level)
}

// withLevel reads f's runs qs at level.
func (f qfig) withLevel(qs []loadgen.Quantiles, level float64) qfig {
	f.level, f.qs, f.counts = level, qs, nil
	var vals, maxes []float64
	for _, q := range qs {
		f.counts = append(f.counts, q.Count)
		maxes = append(maxes, q.Max)
		if level > 0 {
			vals = append(vals, quantileAt(q, level))
		}
	}
	f.maxes = estimateOf(maxes)
	f.estimate = estimateOf(vals)
	return f
}

// ok reports whether some run measured the figure.
func (f qfig) ok() bool { return len(f.counts) > 0 }

// name is the quantile shown: "p99", or "max" when not even p50 is backed.
func (f qfig) name() string {
	if f.level == 0 {
		return "max"
	}
	return pctName(f.level)
}

// value is the median over runs of the quantile shown (the max when no
// quantile is backed).
func (f qfig) value() float64 {
	if f.level == 0 {
		return f.maxes.med
	}
	return f.med
}

// shown is the estimate of the value shown.
func (f qfig) shown() estimate {
	if f.level == 0 {
		return f.maxes
	}
	return f.estimate
}

// samplesText is the sample counts: "119 samples", "119–125 samples per
// run".
func (f qfig) samplesText() string {
	lo, hi := f.counts[0], f.counts[0]
	for _, c := range f.counts {
		lo, hi = min(lo, c), max(hi, c)
	}
	if len(f.counts) == 1 {
		return fmt.Sprintf("%d samples", lo)
	}
	if lo == hi {
		return fmt.Sprintf("%d samples per run", lo)
	}
	return fmt.Sprintf("%d–%d samples per run", lo, hi)
}

// support says what backs the figure: "" when the wanted quantile is
// backed, else "n=119; too few for p99".
func (f qfig) support() string {
	if f.level == f.want {
		return ""
	}
	return fmt.Sprintf("n=%s; too few for %s", f.samplesText(), pctName(f.want))
}

// text is the figure with its name: "p99 1.20 s [1.1–1.3 s]", "p90 412 ms
// (n=119; too few for p99)", "max 1.2 s (n=12; too few for p50)".
func (f qfig) text(format func(float64) string, missing string) string {
	if !f.ok() {
		return na(missing)
	}
	s := f.name() + " " + f.shown().text(format)
	if sup := f.support(); sup != "" {
		s += " (" + sup + ")"
	}
	return s
}

// withN is text and the run count.
func (f qfig) withN(format func(float64) string, missing string) string {
	if !f.ok() {
		return na(missing)
	}
	s := f.name() + " " + f.shown().text(format) + " ("
	if sup := f.support(); sup != "" {
		s += sup + "; "
	}
	return s + f.shown().nText() + ")"
}

// asFigure is the value shown as a plain figure, for the comparisons.
func (f qfig) asFigure() figure { return figure{vals: f.shown().vals} }

// commonLevel reads every figure of figs at the lowest level any of them
// shows, so that the architectures are compared at the same quantile.
func commonLevel(figs map[string]qfig) map[string]qfig {
	level := math.Inf(1)
	for _, f := range figs {
		if f.ok() {
			level = math.Min(level, f.level)
		}
	}
	if math.IsInf(level, 1) {
		return figs
	}
	out := map[string]qfig{}
	for a, f := range figs {
		if f.ok() {
			f = f.withLevel(f.qs, level)
		}
		out[a] = f
	}
	return out
}
