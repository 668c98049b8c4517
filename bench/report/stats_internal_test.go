package report

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/photobench/photobench/loadgen"
)

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{4, 1}, 2.5}, {[]float64{5, 1, 3}, 3}, {[]float64{9, 1, 3, 7}, 5}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is a number")
	}
}

func TestEstimateIsDeterministic(t *testing.T) {
	vals := []float64{0.21, 0.25, 0.19, 0.3, 0.22}
	a, b := estimateOf(vals), estimateOf(append([]float64(nil), vals...))
	if !a.ci || a.lo != b.lo || a.hi != b.hi {
		t.Fatalf("two intervals of the same values: %+v and %+v", a, b)
	}
	if a.lo > a.med || a.hi < a.med || a.lo < 0.19 || a.hi > 0.3 {
		t.Errorf("interval [%v, %v] around median %v, want within the values' range and around the median", a.lo, a.hi, a.med)
	}
	if strings.Join(strings.Fields(valuesText(a.vals, fmtNum)), " ") != "0.210, 0.250, 0.190, 0.300, 0.220" {
		t.Errorf("run values reordered: %v", a.vals)
	}
}

// TestBootstrapCoverage: on samples of a known distribution (normal,
// median 10), the 95% interval of the median covers 10 in about 95% of
// samples. The percentile bootstrap of a median from 15 values is known to
// fall a little short of its nominal coverage, so the test accepts 85–99%.
func TestBootstrapCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const trials, n = 300, 15
	covered := 0
	for range trials {
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = 10 + 2*rng.NormFloat64()
		}
		lo, hi := bootstrap(2000, func(draw func([]float64) []float64) float64 { return medianInPlace(draw(vals)) })
		if lo <= 10 && 10 <= hi {
			covered++
		}
	}
	if share := float64(covered) / trials; share < 0.85 || share > 0.99 {
		t.Errorf("coverage %.2f, want about 0.95", share)
	}
}

func TestFewRunsHaveNoInterval(t *testing.T) {
	for _, tt := range []struct {
		vals []float64
		want string
	}{
		{[]float64{0.121}, "121 ms (n=1, no interval)"},
		{[]float64{0.118, 0.124}, "121 ms (runs 118 ms, 124 ms) (n=2, no interval)"},
	} {
		if got := estimateOf(tt.vals).withN(fmtSeconds); got != tt.want {
			t.Errorf("withN(%v) = %q, want %q", tt.vals, got, tt.want)
		}
	}
}

func TestRatio(t *testing.T) {
	num := []float64{8.1, 7.9, 8.4, 8.0, 8.2}
	den := []float64{1, 1.05, 0.95, 1, 1.02}
	r := ratioOf(num, den)
	if !r.ci || math.Abs(r.med-8.1) > 1e-9 || r.lo > r.med || r.hi < r.med {
		t.Fatalf("ratio %+v, want 8.1 inside its interval", r)
	}
	if got := ratioText(r, 5, 5); !strings.HasPrefix(got, "8.1× [") || !strings.HasSuffix(got, "] (n=5 and 5)") {
		t.Errorf("ratioText = %q", got)
	}
	if got := ratioText(ratioOf([]float64{2}, []float64{1}), 1, 1); got != "2× (n=1 and 1, no interval)" {
		t.Errorf("ratioText of single runs = %q", got)
	}
	if r := ratioOf([]float64{1, 2, 3}, []float64{0, 0, 0}); finite(r.med) || r.ci {
		t.Errorf("ratio over zero = %+v, want none", r)
	}
	if num[0] != 8.1 || den[2] != 0.95 {
		t.Error("ratioOf reordered its inputs")
	}
}

// TestPercentileSupport: a p99 from fewer than 1,000 samples is not shown
// as p99; the highest backed percentile is, with the count.
func TestPercentileSupport(t *testing.T) {
	q := func(n int64) loadgen.Quantiles {
		return loadgen.Quantiles{Count: n, P50: 0.1, P90: 0.412, P99: 0.9, P999: 1.1, Max: 1.2}
	}
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{119, "p90 412 ms (n=119 samples; too few for p99)"},
		{999, "p90 412 ms (n=999 samples; too few for p99)"},
		{1000, "p99 900 ms"},
		{99, "p50 100 ms (n=99 samples; too few for p99)"},
		{12, "max 1.20 s (n=12 samples; too few for p99)"},
	} {
		if got := quantFigure([]loadgen.Quantiles{q(tt.n)}, 0.99).text(fmtSeconds, ""); got != tt.want {
			t.Errorf("%d samples: %q, want %q", tt.n, got, tt.want)
		}
	}
	// Several runs: the level every run backs.
	if got := quantFigure([]loadgen.Quantiles{q(5000), q(119), q(2000)}, 0.99).name(); got != "p90" {
		t.Errorf("runs of 5000, 119 and 2000 samples shown at %s, want p90", got)
	}
}
