package calibrate

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"
)

// A Verdict is whether a tool sustained a rate.
type Verdict struct {
	Rate      float64 `json:"rate"`
	Sustained bool    `json:"sustained"`
}

// SearchConfig bounds the search for the highest sustained rate.
type SearchConfig struct {
	Step     float64          // factor from one rate to the next, > 1 (e.g. 1.25)
	Budget   time.Duration    // total time the search may take; 0: no search
	StepCost time.Duration    // how long measuring one rate takes: no step starts unless it fits the budget
	MaxSteps int              // at most this many rates measured; 0: 50
	Now      func() time.Time // the clock; nil: time.Now
}

// SearchResult is a tool's highest sustained rate.
type SearchResult struct {
	// Max is the highest rate sustained below the lowest rate that failed
	// (not the highest sustained at all, which may be noise above a failure);
	// 0 when not even the lowest rate was sustained.
	Max float64 `json:"max_sustained_rate"`
	// LowerBound says no rate above Max failed: the search ran out of budget
	// or steps first, so the tool may sustain more.
	LowerBound bool `json:"lower_bound"`
	// FirstFailure is the lowest rate above Max that failed; 0 if none did.
	FirstFailure float64 `json:"first_failure_rate,omitempty"`
	// Steps are the rates the search measured, in order.
	Steps []Verdict `json:"steps"`
	// Stopped says why the search ended.
	Stopped string `json:"stopped"`
}

// Search finds the highest rate a tool sustains. It starts from known (the
// verdicts at the listed rates): the highest sustained rate below the lowest
// failed one. From there it multiplies the rate by Step (rounded to a whole
// number), measuring each, until one fails, the next rate would reach a rate
// already known to fail, or the next measurement would not fit the budget.
// measure returns whether a rate is sustained; its error (ctx cancelled, for
// one) stops the search and is returned with the result so far.
func Search(ctx context.Context, known []Verdict, cfg SearchConfig, measure func(ctx context.Context, rate float64) (bool, error)) (SearchResult, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	maxSteps := cfg.MaxSteps
	if maxSteps <= 0 {
		maxSteps = 50
	}
	start := now()
	res := SearchResult{Steps: []Verdict{}}
	ceiling := math.Inf(1)
	for _, v := range known {
		if !v.Sustained && v.Rate < ceiling {
			ceiling = v.Rate
		}
	}
	for _, v := range known {
		if v.Sustained && v.Rate < ceiling && v.Rate > res.Max {
			res.Max = v.Rate
		}
	}
	done := func(why string) SearchResult {
		if !math.IsInf(ceiling, 1) {
			res.FirstFailure = ceiling
		}
		res.LowerBound = math.IsInf(ceiling, 1) && res.Max > 0
		res.Stopped = why
		return res
	}
	switch {
	case res.Max == 0:
		return done("no listed rate was sustained"), nil
	case cfg.Budget <= 0:
		return done("no search (budget 0)"), nil
	case !(cfg.Step > 1):
		return done("no search (step not above 1)"), errors.New("search: step must be above 1")
	}
	for rate := res.Max; ; {
		next := math.Round(rate * cfg.Step)
		if next <= rate {
			next = rate + 1
		}
		switch {
		case next >= ceiling:
			return done("the next rate reaches one that failed"), nil
		case len(res.Steps) >= maxSteps:
			return done("step limit reached"), nil
		case now().Sub(start)+cfg.StepCost > cfg.Budget:
			return done("search budget spent"), nil
		}
		ok, err := measure(ctx, next)
		if err != nil {
			return done("stopped: " + err.Error()), err
		}
		res.Steps = append(res.Steps, Verdict{Rate: next, Sustained: ok})
		if !ok {
			ceiling = next
			return done("a rate failed"), nil
		}
		res.Max, rate = next, next
	}
}

// verdicts lists the rates of summaries with their verdicts, by rate.
func verdicts(sums []Summary) []Verdict {
	v := make([]Verdict, 0, len(sums))
	for _, s := range sums {
		v = append(v, Verdict{Rate: s.Rate, Sustained: s.Sustained})
	}
	slices.SortFunc(v, func(a, b Verdict) int {
		switch {
		case a.Rate < b.Rate:
			return -1
		case a.Rate > b.Rate:
			return 1
		}
		return 0
	})
	return v
}
