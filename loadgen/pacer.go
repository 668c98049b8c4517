package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A Pacer is the open-loop schedule of one phase: Due returns the offset from the
// phase's start at which hit i (counting from 0) is intended to start, and false
// when the schedule has no hit i. Offsets never decrease as i grows.
//
// vegeta's Pacer answers "how long until the next hit, given elapsed time and hits so
// far". That is enough to keep a rate, but when the engine falls behind it only says
// "now", so the time the hit was meant to start is lost, and latency measured from
// the send hides the delay (coordinated omission). Due keeps the intended time of
// every hit, which is what latency is measured from here, it makes a schedule a pure
// function that tests check exactly without a clock, and an engine that is late
// catches up hit by hit instead of skipping.
type Pacer interface {
	Due(i uint64) (time.Duration, bool)
}

// PacerFunc adapts an ordinary function to a Pacer.
type PacerFunc func(i uint64) (time.Duration, bool)

// Due calls f(i).
func (f PacerFunc) Due(i uint64) (time.Duration, bool) { return f(i) }

// Count returns the exact number of hits p schedules in [0, d): the number of
// requests an engine that never skips must start over d.
func Count(p Pacer, d time.Duration) uint64 {
	if c, ok := p.(interface{ Count(time.Duration) uint64 }); ok {
		return c.Count(d)
	}
	before := func(i uint64) bool {
		at, ok := p.Due(i)
		return ok && at < d
	}
	if !before(0) {
		return 0
	}
	// Exponential then binary search for the first hit not before d; Due is
	// monotone, so the hits before d are exactly 0..n-1.
	lo, hi := uint64(0), uint64(1)
	for before(hi) {
		lo = hi
		if hi >= 1<<62 {
			return hi
		}
		hi *= 2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if before(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// seconds converts a time in seconds to a Duration, rounded to the nanosecond.
func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// Constant starts Rate hits per second, evenly spaced, the first at 0: hit i is due
// at i/Rate seconds.
type Constant struct {
	Rate float64 // hits per second, > 0
}

// Due implements Pacer.
func (c Constant) Due(i uint64) (time.Duration, bool) {
	if c.Rate <= 0 {
		return 0, false
	}
	return seconds(float64(i) / c.Rate), true
}

// Expected returns the integral of the rate over [0, d): Rate·d.
func (c Constant) Expected(d time.Duration) float64 { return c.Rate * d.Seconds() }

// Idle schedules nothing: a gap of rate 0 whose length is the phase's duration.
type Idle struct{}

// Due implements Pacer; an idle pacer has no hits.
func (Idle) Due(uint64) (time.Duration, bool) { return 0, false }

// Expected returns 0.
func (Idle) Expected(time.Duration) float64 { return 0 }

// Ramp changes the rate linearly from From to To hits per second over Over, then
// holds To. Hit i is due when the integral of the rate reaches i, solved exactly, so
// a ramp from 10 to 30 over 2 s schedules exactly 40 hits.
type Ramp struct {
	From, To float64 // hits per second, >= 0, not both 0
	Over     time.Duration
}

// Due implements Pacer.
func (r Ramp) Due(i uint64) (time.Duration, bool) {
	if i == 0 {
		if r.From > 0 || (r.To > 0 && r.Over > 0) {
			return 0, true
		}
		return 0, false
	}
	n := float64(i)
	d := r.Over.Seconds()
	if total := r.Expected(r.Over); d > 0 && n <= total {
		k := (r.To - r.From) / d
		// Root of k/2·t² + From·t - n = 0, in the form that is stable for k → 0.
		return seconds(2 * n / (r.From + math.Sqrt(max(0, r.From*r.From+2*k*n)))), true
	} else if r.To > 0 {
		return r.Over + seconds((n-total)/r.To), true
	}
	return 0, false
}

// Expected returns the integral of the rate over [0, d).
func (r Ramp) Expected(d time.Duration) float64 {
	t, over := d.Seconds(), r.Over.Seconds()
	if over <= 0 {
		return r.To * t
	}
	if t <= over {
		return r.From*t + (r.To-r.From)*t*t/(2*over)
	}
	return (r.From+r.To)*over/2 + r.To*(t-over)
}

// A Step is one level of a Steps pacer.
type Step struct {
	Rate     float64 // hits per second, >= 0
	Duration time.Duration
}

// Steps holds each level's rate for its duration, in order, then schedules nothing
// more (rate 0 after the last step).
type Steps []Step

// Due implements Pacer.
func (s Steps) Due(i uint64) (time.Duration, bool) { return piecewise(s, 0, i) }

// Expected returns the integral of the rate over [0, d).
func (s Steps) Expected(d time.Duration) float64 { return piecewiseExpected(s, 0, d) }

// Spike runs at Base, jumps to Peak at Start for Length, then returns to Base.
type Spike struct {
	Base, Peak    float64 // hits per second, >= 0
	Start, Length time.Duration
}

func (s Spike) steps() []Step {
	return []Step{{Rate: s.Base, Duration: s.Start}, {Rate: s.Peak, Duration: s.Length}}
}

// Due implements Pacer.
func (s Spike) Due(i uint64) (time.Duration, bool) { return piecewise(s.steps(), s.Base, i) }

// Expected returns the integral of the rate over [0, d).
func (s Spike) Expected(d time.Duration) float64 {
	return piecewiseExpected(s.steps(), s.Base, d)
}

// piecewise finds hit i in a list of constant-rate levels followed by tail forever.
func piecewise(steps []Step, tail float64, i uint64) (time.Duration, bool) {
	return piecewiseAt(steps, tail, float64(i))
}

// piecewiseAt is where the integral of the levels (then tail) reaches n.
func piecewiseAt(steps []Step, tail float64, n float64) (time.Duration, bool) {
	cum := 0.0
	var start time.Duration
	for _, s := range steps {
		if s.Rate > 0 {
			in := s.Rate * s.Duration.Seconds()
			if n < cum+in {
				return start + seconds((n-cum)/s.Rate), true
			}
			cum += in
		}
		start += s.Duration
	}
	if tail > 0 {
		return start + seconds((n-cum)/tail), true
	}
	return 0, false
}

func piecewiseExpected(steps []Step, tail float64, d time.Duration) float64 {
	sum := 0.0
	for _, s := range steps {
		if d <= s.Duration {
			return sum + s.Rate*d.Seconds()
		}
		sum += s.Rate * s.Duration.Seconds()
		d -= s.Duration
	}
	return sum + tail*d.Seconds()
}

// Sine varies the rate as Mean + Amplitude·sin(2πt/Period); Amplitude <= Mean keeps
// it non-negative. Hit i is due when the integral of the rate reaches i, found by
// bisection to the nanosecond.
type Sine struct {
	Mean, Amplitude float64 // hits per second, 0 <= Amplitude <= Mean, Mean > 0
	Period          time.Duration
}

// Due implements Pacer.
func (s Sine) Due(i uint64) (time.Duration, bool) {
	if s.Mean <= 0 || s.Period <= 0 {
		return 0, false
	}
	n := float64(i)
	// The integral is at least Mean·t, so hit i is due no later than i/Mean.
	lo, hi := int64(0), int64(math.Ceil(n/s.Mean*1e9))+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if s.Expected(time.Duration(mid)) >= n {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return time.Duration(lo), true
}

// Expected returns the integral of the rate over [0, d):
// Mean·t + Amplitude·Period/(2π)·(1 - cos(2πt/Period)).
func (s Sine) Expected(d time.Duration) float64 {
	t, p := d.Seconds(), s.Period.Seconds()
	return s.Mean*t + s.Amplitude*p/(2*math.Pi)*(1-math.Cos(2*math.Pi*t/p))
}

// Poisson starts hits at Rate per second on average with exponentially distributed
// gaps drawn from Seed, so the same seed gives the same schedule. Hit 0 is due after
// the first gap. It remembers where it is, so the sequential access of an engine
// costs one draw per hit; going backwards replays from the seed. Safe for
// concurrent use, but meant for one engine at a time.
type Poisson struct {
	rate float64
	seed uint64

	mu  sync.Mutex
	rng *rand.Rand
	i   uint64  // index of the next hit to draw
	at  float64 // seconds at which hit i-1 was due
}

// NewPoisson returns a Poisson pacer of rate hits per second drawn from seed.
func NewPoisson(rate float64, seed uint64) *Poisson {
	p := &Poisson{rate: rate, seed: seed}
	p.reset()
	return p
}

func (p *Poisson) reset() {
	p.rng = rand.New(rand.NewPCG(p.seed, 0x9e3779b97f4a7c15))
	p.i, p.at = 0, 0
}

// Due implements Pacer.
func (p *Poisson) Due(i uint64) (time.Duration, bool) {
	if p.rate <= 0 {
		return 0, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if i+1 < p.i {
		p.reset()
	}
	for p.i <= i {
		p.at += p.rng.ExpFloat64() / p.rate
		p.i++
	}
	return seconds(p.at), true
}

// Count returns the number of hits due in [0, d), drawn afresh from the seed.
func (p *Poisson) Count(d time.Duration) uint64 {
	if p.rate <= 0 {
		return 0
	}
	rng := rand.New(rand.NewPCG(p.seed, 0x9e3779b97f4a7c15))
	var n uint64
	for at := 0.0; ; n++ {
		at += rng.ExpFloat64() / p.rate
		if seconds(at) >= d {
			return n
		}
	}
}

// Expected returns the mean number of hits over [0, d): Rate·d.
func (p *Poisson) Expected(d time.Duration) float64 { return p.rate * d.Seconds() }

// Describe says what a pacer schedules, for reports: "constant 10/s",
// "ramp 5/s to 30/s over 1m0s", "idle".
func Describe(p Pacer) string {
	r := func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) + "/s" }
	switch p := p.(type) {
	case Constant:
		return "constant " + r(p.Rate)
	case Idle:
		return "idle (no requests)"
	case Ramp:
		return fmt.Sprintf("ramp %s to %s over %s", r(p.From), r(p.To), p.Over)
	case Steps:
		parts := make([]string, len(p))
		for i, s := range p {
			parts[i] = r(s.Rate) + " for " + s.Duration.String()
		}
		return "steps " + strings.Join(parts, ", ")
	case Spike:
		return fmt.Sprintf("spike %s, %s from %s for %s", r(p.Base), r(p.Peak), p.Start, p.Length)
	case Sine:
		return fmt.Sprintf("sine %s ± %s, period %s", r(p.Mean), r(p.Amplitude), p.Period)
	case *Poisson:
		return "poisson " + r(p.rate)
	case Cycle:
		parts := make([]string, len(p))
		for i, s := range p {
			parts[i] = r(s.Rate) + " for " + s.Duration.String()
		}
		return "cycle " + strings.Join(parts, ", ") + ", repeated"
	case *Switch:
		return "live (" + Describe(p.Current()) + " now)"
	}
	return fmt.Sprintf("%T", p)
}
