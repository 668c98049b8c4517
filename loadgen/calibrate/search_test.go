package calibrate_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen/calibrate"
)

// fakeTool sustains every rate up to capacity; each measurement moves a fake
// clock on by cost.
type fakeTool struct {
	capacity float64
	cost     time.Duration
	now      time.Time
	measured []float64
	failAt   float64 // measure returns an error at this rate
}

func (f *fakeTool) measure(_ context.Context, rate float64) (bool, error) {
	if rate == f.failAt {
		return false, errors.New("interrupted")
	}
	f.measured = append(f.measured, rate)
	f.now = f.now.Add(f.cost)
	return rate <= f.capacity, nil
}

func (f *fakeTool) clock() time.Time { return f.now }

func listed(capacity float64, rates ...float64) []calibrate.Verdict {
	var v []calibrate.Verdict
	for _, r := range rates {
		v = append(v, calibrate.Verdict{Rate: r, Sustained: r <= capacity})
	}
	return v
}

func TestCalibrateSearch(t *testing.T) {
	const cost = 30 * time.Second
	tests := []struct {
		name     string
		known    []calibrate.Verdict
		capacity float64
		budget   time.Duration
		max      float64
		lower    bool
		first    float64
		measured []float64
		stopped  string
	}{
		{"steps up from the highest listed until one fails", listed(14000, 1000, 5000, 10000), 14000, time.Hour,
			12500, false, 15625, []float64{12500, 15625}, "a rate failed"},
		{"stops short of a listed failure", listed(14000, 1000, 10000, 20000), 14000, time.Hour,
			12500, false, 15625, []float64{12500, 15625}, "a rate failed"},
		{"never measures at or above a listed failure", listed(11000, 10000, 12000), 11000, time.Hour,
			10000, false, 12000, nil, "the next rate reaches one that failed"},
		{"noise above a failure does not count", []calibrate.Verdict{{Rate: 1000, Sustained: true}, {Rate: 2000, Sustained: false}, {Rate: 5000, Sustained: true}},
			1e9, time.Hour, 1954, false, 2000, []float64{1250, 1563, 1954}, "the next rate reaches one that failed"},
		{"the budget makes it a lower bound", listed(1e9, 1000, 2000), 1e9, 95 * time.Second,
			3906, true, 0, []float64{2500, 3125, 3906}, "search budget spent"},
		{"budget too small for one step", listed(1e9, 1000), 1e9, 29 * time.Second,
			1000, true, 0, nil, "search budget spent"},
		{"no budget, no search", listed(3000, 1000, 2000, 5000), 3000, 0,
			2000, false, 5000, nil, "no search (budget 0)"},
		{"nothing sustained", listed(500, 1000, 2000), 500, time.Hour,
			0, false, 1000, nil, "no listed rate was sustained"},
		{"unsorted known rates", listed(14000, 10000, 1000, 5000), 14000, time.Hour,
			12500, false, 15625, []float64{12500, 15625}, "a rate failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tool := &fakeTool{capacity: tt.capacity, cost: cost, now: time.Unix(0, 0)}
			cfg := calibrate.SearchConfig{Step: 1.25, Budget: tt.budget, StepCost: cost, Now: tool.clock}
			res, err := calibrate.Search(context.Background(), tt.known, cfg, tool.measure)
			if err != nil {
				t.Fatal(err)
			}
			if res.Max != tt.max || res.LowerBound != tt.lower || res.FirstFailure != tt.first || res.Stopped != tt.stopped {
				t.Errorf("max %g lower bound %v first failure %g stopped %q; want %g %v %g %q",
					res.Max, res.LowerBound, res.FirstFailure, res.Stopped, tt.max, tt.lower, tt.first, tt.stopped)
			}
			if !slices.Equal(tool.measured, tt.measured) {
				t.Errorf("measured %v, want %v", tool.measured, tt.measured)
			}
			if len(res.Steps) != len(tt.measured) {
				t.Errorf("steps %v, want one per measurement", res.Steps)
			}
			if got := tool.now.Sub(time.Unix(0, 0)); got > tt.budget && tt.budget > 0 {
				t.Errorf("took %s, over the budget %s", got, tt.budget)
			}
		})
	}
}

func TestCalibrateSearchStepLimit(t *testing.T) {
	tool := &fakeTool{capacity: 1e12, now: time.Unix(0, 0)}
	cfg := calibrate.SearchConfig{Step: 2, Budget: time.Hour, MaxSteps: 4, Now: tool.clock}
	res, err := calibrate.Search(context.Background(), listed(1e12, 100), cfg, tool.measure)
	if err != nil {
		t.Fatal(err)
	}
	if res.Max != 1600 || !res.LowerBound || len(tool.measured) != 4 || res.Stopped != "step limit reached" {
		t.Errorf("max %g lower bound %v measured %v stopped %q; want 1600, true, 4 rates, step limit", res.Max, res.LowerBound, tool.measured, res.Stopped)
	}
}

func TestCalibrateSearchMeasureError(t *testing.T) {
	tool := &fakeTool{capacity: 1e9, now: time.Unix(0, 0), failAt: 1563}
	cfg := calibrate.SearchConfig{Step: 1.25, Budget: time.Hour, Now: tool.clock}
	res, err := calibrate.Search(context.Background(), listed(1e9, 1000), cfg, tool.measure)
	if err == nil || err.Error() != "interrupted" {
		t.Fatalf("error %v, want the measurement's", err)
	}
	if res.Max != 1250 || !res.LowerBound {
		t.Errorf("max %g lower bound %v, want what was found before the error: 1250, a lower bound", res.Max, res.LowerBound)
	}
}
