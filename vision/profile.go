package vision

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Distribution names a latency distribution.
type Distribution string

// The latency distributions.
const (
	// LatencyNone adds no latency.
	LatencyNone Distribution = "none"
	// LatencyFixed adds Latency.FixedMS to every request.
	LatencyFixed Distribution = "fixed"
	// LatencyLogNormal draws from a log-normal distribution with the given
	// median and 99th percentile: mu = ln(median), sigma = (ln(p99) -
	// ln(median)) / 2.326 (the standard normal's 0.99 quantile).
	LatencyLogNormal Distribution = "lognormal"
)

// Outage is the state of the outage switch.
type Outage string

// The outage states.
const (
	// OutageOff: the service works (within the rest of the profile).
	OutageOff Outage = "off"
	// OutageFail: every analyze request answers 503 at once.
	OutageFail Outage = "fail"
	// OutageHang: analyze requests block until the outage is switched to
	// another state (then go on under the new profile) or the client gives
	// up.
	OutageHang Outage = "hang"
)

// Latency is the injected-latency part of a Profile. Durations are in
// milliseconds (fractions allowed).
type Latency struct {
	Distribution Distribution `json:"distribution"`
	FixedMS      float64      `json:"fixed_ms"`
	MedianMS     float64      `json:"median_ms"`
	P99MS        float64      `json:"p99_ms"`
}

// Profile is how the vision service behaves as a remote API. The zero value,
// after Normalize, is a perfect service: no latency, no errors, no limits.
type Profile struct {
	Latency Latency `json:"latency"`
	// ErrorRate is the share of analyze requests (0..1) answered 503 at
	// random.
	ErrorRate float64 `json:"error_rate"`
	// MaxConcurrency caps the analyze requests in progress; more are
	// answered 429 with Retry-After. 0 is unlimited.
	MaxConcurrency int `json:"max_concurrency"`
	// RateLimitRPS caps analyze requests per second with a token bucket
	// (burst: one second's worth, at least 1); more are answered 429 with
	// Retry-After. 0 is unlimited.
	RateLimitRPS float64 `json:"rate_limit_rps"`
	// RetryAfterSeconds is the Retry-After of every 429 and 503 (1 when 0).
	RetryAfterSeconds int `json:"retry_after_seconds"`
	// Outage is the outage switch that scenarios flip at run time.
	Outage Outage `json:"outage"`
}

// Profile limits.
const (
	// MaxLatencyMS bounds every latency parameter (5 minutes).
	MaxLatencyMS = 300_000
	// MaxRetryAfterSeconds bounds RetryAfterSeconds (1 hour).
	MaxRetryAfterSeconds = 3600
)

// z99 is the 0.99 quantile of the standard normal distribution.
const z99 = 2.326

// Normalize fills defaults in: distribution none, outage off, Retry-After
// 1 second.
func (p Profile) Normalize() Profile {
	if p.Latency.Distribution == "" {
		p.Latency.Distribution = LatencyNone
	}
	if p.Outage == "" {
		p.Outage = OutageOff
	}
	if p.RetryAfterSeconds == 0 {
		p.RetryAfterSeconds = 1
	}
	return p
}

// Validate reports every problem of a normalized profile at once, as one
// error of "; "-separated problems naming the JSON fields.
func (p Profile) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	ms := func(field string, v float64) {
		if math.IsNaN(v) || v < 0 || v > MaxLatencyMS {
			bad("latency.%s must be 0..%d, got %v", field, MaxLatencyMS, v)
		}
	}
	l := p.Latency
	ms("fixed_ms", l.FixedMS)
	ms("median_ms", l.MedianMS)
	ms("p99_ms", l.P99MS)
	switch l.Distribution {
	case LatencyNone, LatencyFixed:
	case LatencyLogNormal:
		if !(l.MedianMS > 0) {
			bad("latency.median_ms must be > 0 for the lognormal distribution")
		}
		if !(l.P99MS >= l.MedianMS) {
			bad("latency.p99_ms (%v) must be >= latency.median_ms (%v)", l.P99MS, l.MedianMS)
		}
	default:
		bad("latency.distribution must be none, fixed or lognormal, got %q", l.Distribution)
	}
	if math.IsNaN(p.ErrorRate) || p.ErrorRate < 0 || p.ErrorRate > 1 {
		bad("error_rate must be 0..1, got %v", p.ErrorRate)
	}
	if p.MaxConcurrency < 0 {
		bad("max_concurrency must be >= 0 (0 is unlimited), got %d", p.MaxConcurrency)
	}
	if math.IsNaN(p.RateLimitRPS) || math.IsInf(p.RateLimitRPS, 0) || p.RateLimitRPS < 0 {
		bad("rate_limit_rps must be >= 0 (0 is unlimited), got %v", p.RateLimitRPS)
	}
	if p.RetryAfterSeconds < 1 || p.RetryAfterSeconds > MaxRetryAfterSeconds {
		bad("retry_after_seconds must be 1..%d, got %d", MaxRetryAfterSeconds, p.RetryAfterSeconds)
	}
	switch p.Outage {
	case OutageOff, OutageFail, OutageHang:
	default:
		bad("outage must be off, fail or hang, got %q", p.Outage)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// RetryAfter is the profile's Retry-After as a duration.
func (p Profile) RetryAfter() time.Duration {
	return time.Duration(max(p.RetryAfterSeconds, 1)) * time.Second
}

// Remote holds the current Profile and applies it to requests: it is the
// "remote API" part of the vision service. It is safe for concurrent use;
// profile changes take effect at once for new requests and release
// requests held by a hang outage.
type Remote struct {
	mu      sync.Mutex
	profile Profile
	rng     *rand.Rand
	// hang is open while the outage is "hang" and closed when it ends.
	hang     chan struct{}
	inFlight int // admitted analyze requests (concurrency limit)
	tokens   float64
	refilled time.Time
	now      func() time.Time
	watchers []func(Profile)
}

// RemoteOption tunes a Remote.
type RemoteOption func(*Remote)

// WithSeed seeds the random numbers behind latency and error injection, so
// a test (or a benchmark run) sees the same sequence. By default the seed
// is random.
func WithSeed(seed uint64) RemoteOption {
	return func(r *Remote) { r.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
}

// NewRemote returns a Remote applying p (normalized first). An invalid
// profile is an error listing every problem.
func NewRemote(p Profile, opts ...RemoteOption) (*Remote, error) {
	r := &Remote{now: time.Now}
	for _, o := range opts {
		o(r)
	}
	if r.rng == nil {
		r.rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if err := r.SetProfile(p); err != nil {
		return nil, err
	}
	return r, nil
}

// Profile returns the current profile.
func (r *Remote) Profile() Profile {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.profile
}

// SetProfile normalizes, validates and applies p. Requests held by a hang
// outage are released when p's outage is not hang; a changed rate limit
// starts with a full bucket.
func (r *Remote) SetProfile(p Profile) error {
	p = p.Normalize()
	if err := p.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	old := r.profile
	r.profile = p
	if p.RateLimitRPS != old.RateLimitRPS || r.refilled.IsZero() {
		r.tokens, r.refilled = burst(p.RateLimitRPS), r.now()
	}
	switch {
	case p.Outage == OutageHang && r.hang == nil:
		r.hang = make(chan struct{})
	case p.Outage != OutageHang && r.hang != nil:
		close(r.hang)
		r.hang = nil
	}
	watchers := r.watchers
	r.mu.Unlock()
	for _, w := range watchers {
		w(p)
	}
	return nil
}

// watch calls f with every profile set from now on, and once at once with
// the current one.
func (r *Remote) watch(f func(Profile)) {
	r.mu.Lock()
	r.watchers = append(r.watchers, f)
	p := r.profile
	r.mu.Unlock()
	f(p)
}

func burst(rps float64) float64 { return max(rps, 1) }

// fault is why admit refused a request.
type fault string

// The faults, as metric label values.
const (
	faultNone        fault = ""
	faultError       fault = "error"
	faultRateLimit   fault = "rate_limit"
	faultConcurrency fault = "concurrency"
	faultOutageFail  fault = "outage_fail"
	faultOutageHang  fault = "outage_hang"
)

var faultKinds = []fault{faultError, faultRateLimit, faultConcurrency, faultOutageFail, faultOutageHang}

// admission is the outcome of admit.
type admission struct {
	// fault is why the request is refused (faultNone: admitted). A request
	// that waited in a hang outage and then went on reports hung but no
	// fault.
	fault fault
	// hung is set when the request waited in a hang outage.
	hung bool
	// retryAfter is the Retry-After for a refused request.
	retryAfter time.Duration
	// delay is the latency to inject before the analysis.
	delay time.Duration
	// release frees the concurrency slot of an admitted request.
	release func()
}

// admit applies the profile to one analyze request, in this order: the
// outage switch (fail: refuse; hang: wait, then start over under the
// profile of that moment), the rate limit, the concurrency limit, the
// error rate, and finally it draws the latency to inject. It returns
// ctx.Err() when the request's context ends while it waits in a hang.
// onHang is called once when the request starts waiting in a hang.
func (r *Remote) admit(ctx context.Context, onHang func()) (admission, error) {
	var a admission
	for {
		r.mu.Lock()
		p := r.profile
		a.retryAfter = p.RetryAfter()
		switch p.Outage {
		case OutageFail:
			r.mu.Unlock()
			a.fault = faultOutageFail
			return a, nil
		case OutageHang:
			ch := r.hang
			r.mu.Unlock()
			if !a.hung {
				a.hung = true
				onHang()
			}
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return a, ctx.Err()
			}
		}
		if p.RateLimitRPS > 0 {
			now := r.now()
			r.tokens = min(burst(p.RateLimitRPS), r.tokens+now.Sub(r.refilled).Seconds()*p.RateLimitRPS)
			r.refilled = now
			if r.tokens < 1 {
				r.mu.Unlock()
				a.fault = faultRateLimit
				return a, nil
			}
			r.tokens--
		}
		if p.MaxConcurrency > 0 && r.inFlight >= p.MaxConcurrency {
			r.mu.Unlock()
			a.fault = faultConcurrency
			return a, nil
		}
		if p.ErrorRate > 0 && r.rng.Float64() < p.ErrorRate {
			r.mu.Unlock()
			a.fault = faultError
			return a, nil
		}
		a.delay = r.drawLatency(p.Latency)
		r.inFlight++
		r.mu.Unlock()
		var once sync.Once
		a.release = func() {
			once.Do(func() {
				r.mu.Lock()
				r.inFlight--
				r.mu.Unlock()
			})
		}
		return a, nil
	}
}

// drawLatency draws one injected latency; r.mu is held.
func (r *Remote) drawLatency(l Latency) time.Duration {
	ms := 0.0
	switch l.Distribution {
	case LatencyFixed:
		ms = l.FixedMS
	case LatencyLogNormal:
		mu := math.Log(l.MedianMS)
		sigma := (math.Log(l.P99MS) - mu) / z99
		// Capped at the profile bound: a far tail draw should not hold a
		// request for hours.
		ms = min(math.Exp(mu+sigma*r.rng.NormFloat64()), MaxLatencyMS)
	}
	return time.Duration(ms * float64(time.Millisecond))
}
