package loadgen_test

import (
	"math"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen"
)

const ms = time.Millisecond

// dueTimes lists the first n hits of p; the test fails if the schedule ends early.
func dueTimes(t *testing.T, p loadgen.Pacer, n int) []time.Duration {
	t.Helper()
	out := make([]time.Duration, n)
	for i := range out {
		d, ok := p.Due(uint64(i))
		if !ok {
			t.Fatalf("Due(%d): schedule ended", i)
		}
		out[i] = d
	}
	return out
}

func TestPacerCountsAndTimes(t *testing.T) {
	tests := []struct {
		name  string
		pacer interface {
			loadgen.Pacer
			Expected(time.Duration) float64
		}
		over     time.Duration
		count    uint64
		expected float64
		first    []time.Duration // Due(0), Due(1), ...
	}{
		{"constant 10/s over 1s", loadgen.Constant{Rate: 10}, time.Second, 10, 10,
			[]time.Duration{0, 100 * ms, 200 * ms, 300 * ms}},
		{"constant 3/s over 1s", loadgen.Constant{Rate: 3}, time.Second, 3, 3,
			[]time.Duration{0, 333333333, 666666667, time.Second}},
		{"constant 1000/s over 2.5s", loadgen.Constant{Rate: 1000}, 2500 * ms, 2500, 2500,
			[]time.Duration{0, ms, 2 * ms}},
		{"constant 0.5/s over 3s", loadgen.Constant{Rate: 0.5}, 3 * time.Second, 2, 1.5,
			[]time.Duration{0, 2 * time.Second}},
		// ∫ 10+10t dt over [0,2] = 40; hit i at t = 2i/(10+sqrt(100+20i)).
		{"ramp 10 to 30 over 2s", loadgen.Ramp{From: 10, To: 30, Over: 2 * time.Second}, 2 * time.Second, 40, 40,
			[]time.Duration{0, 95445115, 183215957, 264911064}},
		// Past the ramp the rate holds at To: 40 + 30·1 = 70 over 3 s.
		{"ramp then hold", loadgen.Ramp{From: 10, To: 30, Over: 2 * time.Second}, 3 * time.Second, 70, 70, nil},
		// 100 → 0 over 1 s: 50 hits in [0, 1s); hit 50 falls exactly at 1 s, where the
		// integral reaches 50, and none comes after.
		{"ramp down to zero", loadgen.Ramp{From: 100, To: 0, Over: time.Second}, time.Second, 50, 50,
			[]time.Duration{0, 10050506}},
		{"ramp down to zero, after", loadgen.Ramp{From: 100, To: 0, Over: time.Second}, 5 * time.Second, 51, 50, nil},
		{"ramp up from zero", loadgen.Ramp{From: 0, To: 100, Over: time.Second}, time.Second, 50, 50,
			[]time.Duration{0, 141421356, 200 * ms}},
		{"steps", loadgen.Steps{{Rate: 10, Duration: time.Second}, {Rate: 0, Duration: time.Second}, {Rate: 4, Duration: time.Second}},
			10 * time.Second, 14, 14, []time.Duration{0, 100 * ms}},
		{"steps resume after gap", loadgen.Steps{{Rate: 10, Duration: time.Second}, {Rate: 0, Duration: time.Second}, {Rate: 4, Duration: time.Second}},
			2250 * ms, 11, 11, nil},
		{"steps starting idle", loadgen.Steps{{Rate: 0, Duration: 500 * ms}, {Rate: 2, Duration: time.Second}},
			time.Minute, 2, 2, []time.Duration{500 * ms, time.Second}},
		// base 10 for 1 s, peak 100 for 0.5 s, base 10 again: 10 + 50 + 10·1.5 = 75 over 3 s.
		{"spike", loadgen.Spike{Base: 10, Peak: 100, Start: time.Second, Length: 500 * ms}, 3 * time.Second, 75, 75, nil},
		{"spike inside", loadgen.Spike{Base: 10, Peak: 100, Start: time.Second, Length: 500 * ms}, 1250 * ms, 35, 35,
			[]time.Duration{0, 100 * ms}},
		{"spike from zero", loadgen.Spike{Base: 0, Peak: 20, Start: time.Second, Length: time.Second}, time.Minute, 20, 20,
			[]time.Duration{time.Second, 1050 * ms}},
		{"idle", loadgen.Idle{}, time.Hour, 0, 0, nil},
		// Whole periods integrate to mean·time.
		{"sine whole periods", loadgen.Sine{Mean: 100, Amplitude: 50, Period: 2 * time.Second}, 4 * time.Second, 400, 400, []time.Duration{0}},
		// Half a period: 100·1 + 50·2/(2π)·2 = 100 + 100/π ≈ 131.83.
		{"sine half period", loadgen.Sine{Mean: 100, Amplitude: 50, Period: 2 * time.Second}, time.Second, 132, 100 + 100/math.Pi, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadgen.Count(tt.pacer, tt.over); got != tt.count {
				t.Errorf("Count(%v) = %d, want %d", tt.over, got, tt.count)
			}
			if got := tt.pacer.Expected(tt.over); math.Abs(got-tt.expected) > 1e-9 {
				t.Errorf("Expected(%v) = %v, want %v", tt.over, got, tt.expected)
			}
			for i, want := range tt.first {
				if got, _ := tt.pacer.Due(uint64(i)); got != want {
					t.Errorf("Due(%d) = %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestPacersAreMonotone(t *testing.T) {
	pacers := map[string]loadgen.Pacer{
		"constant":  loadgen.Constant{Rate: 7},
		"ramp up":   loadgen.Ramp{From: 1, To: 500, Over: 3 * time.Second},
		"ramp down": loadgen.Ramp{From: 500, To: 1, Over: 3 * time.Second},
		"steps":     loadgen.Steps{{Rate: 5, Duration: time.Second}, {Rate: 300, Duration: time.Second}},
		"spike":     loadgen.Spike{Base: 5, Peak: 400, Start: time.Second, Length: time.Second},
		"sine":      loadgen.Sine{Mean: 50, Amplitude: 50, Period: time.Second},
		"poisson":   loadgen.NewPoisson(300, 1),
	}
	for name, p := range pacers {
		t.Run(name, func(t *testing.T) {
			prev := time.Duration(-1)
			for i := uint64(0); i < 2000; i++ {
				d, ok := p.Due(i)
				if !ok {
					break
				}
				if d < prev {
					t.Fatalf("Due(%d) = %v < Due(%d) = %v", i, d, i-1, prev)
				}
				prev = d
			}
		})
	}
}

func TestSineFollowsItsRate(t *testing.T) {
	// Over each tenth of a period, the count of hits matches the integral of the rate
	// over that slice to within one hit.
	s := loadgen.Sine{Mean: 200, Amplitude: 150, Period: 10 * time.Second}
	for k := 1; k <= 20; k++ {
		at := time.Duration(k) * time.Second
		got := float64(loadgen.Count(s, at))
		want := s.Expected(at)
		if math.Abs(got-math.Ceil(want)) > 1 {
			t.Errorf("Count(%v) = %v, integral %v", at, got, want)
		}
	}
}

func TestPoisson(t *testing.T) {
	const rate, hits = 1000.0, 100000
	p := loadgen.NewPoisson(rate, 42)
	times := dueTimes(t, p, hits)

	t.Run("mean gap within 1%", func(t *testing.T) {
		// The mean of n exponential gaps has relative standard error 1/sqrt(n) = 0.32%.
		mean := times[hits-1].Seconds() / hits
		if math.Abs(mean*rate-1) > 0.01 {
			t.Errorf("mean gap %v s, want %v s ± 1%%", mean, 1/rate)
		}
	})
	t.Run("gaps are exponential", func(t *testing.T) {
		// Coefficient of variation 1 and P(gap > mean) = 1/e, each within 2%.
		var sum, sq float64
		above := 0
		for i := 1; i < hits; i++ {
			g := (times[i] - times[i-1]).Seconds()
			sum += g
			sq += g * g
			if g > 1/rate {
				above++
			}
		}
		n := float64(hits - 1)
		mean := sum / n
		cv := math.Sqrt(sq/n-mean*mean) / mean
		if math.Abs(cv-1) > 0.02 {
			t.Errorf("coefficient of variation %v, want 1 ± 0.02", cv)
		}
		if frac := float64(above) / n; math.Abs(frac-1/math.E) > 0.02 {
			t.Errorf("P(gap > mean) = %v, want 1/e ± 0.02", frac)
		}
	})
	t.Run("count within 1% of rate times duration", func(t *testing.T) {
		n := loadgen.Count(p, 100*time.Second)
		if math.Abs(float64(n)/1e5-1) > 0.01 {
			t.Errorf("Count(100s) = %d, want 100000 ± 1%%", n)
		}
		if got, _ := p.Due(n - 1); got >= 100*time.Second {
			t.Errorf("hit %d due at %v, want before 100s", n-1, got)
		}
		if got, _ := p.Due(n); got < 100*time.Second {
			t.Errorf("hit %d due at %v, want at or after 100s", n, got)
		}
	})
	t.Run("same seed same schedule, any access order", func(t *testing.T) {
		q := loadgen.NewPoisson(rate, 42)
		for _, i := range []uint64{500, 3, 99999, 0, 12345} {
			if got, _ := q.Due(i); got != times[i] {
				t.Errorf("Due(%d) = %v, want %v", i, got, times[i])
			}
		}
	})
	t.Run("other seed other schedule", func(t *testing.T) {
		q := loadgen.NewPoisson(rate, 43)
		if got, _ := q.Due(10); got == times[10] {
			t.Errorf("seed 43 gave seed 42's Due(10) = %v", got)
		}
	})
}

func TestPacerFunc(t *testing.T) {
	p := loadgen.PacerFunc(func(i uint64) (time.Duration, bool) {
		return time.Duration(i) * time.Second, i < 5
	})
	if got := loadgen.Count(p, time.Hour); got != 5 {
		t.Errorf("Count = %d, want 5", got)
	}
	if got := loadgen.Count(p, 2500*ms); got != 3 {
		t.Errorf("Count(2.5s) = %d, want 3", got)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		p    loadgen.Pacer
		want string
	}{
		{loadgen.Constant{Rate: 10}, "constant 10/s"},
		{loadgen.Idle{}, "idle (no requests)"},
		{loadgen.Ramp{From: 5, To: 30, Over: time.Minute}, "ramp 5/s to 30/s over 1m0s"},
		{loadgen.Steps{{Rate: 1, Duration: time.Second}, {Rate: 2.5, Duration: 2 * time.Second}}, "steps 1/s for 1s, 2.5/s for 2s"},
		{loadgen.NewPoisson(7, 1), "poisson 7/s"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := loadgen.Describe(tt.p); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}
