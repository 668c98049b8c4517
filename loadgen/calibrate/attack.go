package calibrate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/photobench/photobench/loadgen"
)

// AttackConfig is one constant-rate run of photobench's generator.
type AttackConfig struct {
	URL         string        // GET for every hit
	Rate        float64       // hits per second, > 0
	Duration    time.Duration // of the measured phase, > 0
	Warmup      time.Duration // a warm-up phase at the same rate before it, excluded; 0: none
	MaxInFlight int           // hits beyond it are dropped; also the idle connections kept
	MaxConns    int           // connections to the target at most (requests wait for one); 0: no limit
	Timeout     time.Duration // per request
}

// Validate reports every problem of c at once, on one line, as Problems.
func (c AttackConfig) Validate() error {
	var ps Problems
	if c.URL == "" {
		ps.add("URL", "is required")
	} else if _, err := loadgen.PlainTarget(c.URL); err != nil {
		ps.add("URL", fmt.Sprintf("%q is not an http(s) URL", c.URL))
	}
	if !(c.Rate > 0) || c.Rate > 1e9 {
		ps.add("Rate", fmt.Sprintf("%g is not in (0, 1e9]", c.Rate))
	}
	if c.Duration <= 0 {
		ps.add("Duration", "must be positive")
	}
	if c.Warmup < 0 {
		ps.add("Warmup", "must not be negative")
	}
	if c.MaxInFlight <= 0 {
		ps.add("MaxInFlight", "must be positive")
	}
	if c.MaxConns < 0 {
		ps.add("MaxConns", "must not be negative")
	}
	if c.Timeout <= 0 {
		ps.add("Timeout", "must be positive")
	}
	return ps.err()
}

// Scenario is the one-phase constant-pacer scenario of c (two phases with a
// warm-up), every hit a get from user 0.
func (c AttackConfig) Scenario() *loadgen.Scenario {
	sc := &loadgen.Scenario{
		Name:        "calibrate",
		Seed:        loadgen.DefaultSeed,
		Users:       1,
		MaxInFlight: c.MaxInFlight,
		Timeout:     c.Timeout,
		Mix:         []loadgen.Weight{{Op: loadgen.OpGet, Weight: 1}},
	}
	if c.Warmup > 0 {
		sc.Phases = append(sc.Phases, loadgen.Phase{Name: "warmup", Warmup: true, Duration: c.Warmup,
			Pacer: loadgen.Constant{Rate: c.Rate}})
	}
	sc.Phases = append(sc.Phases, loadgen.Phase{Name: "constant", Duration: c.Duration,
		Pacer: loadgen.Constant{Rate: c.Rate}})
	return sc
}

// Attack runs c against its URL and returns the measured phase's figures. The
// client is the one a fair comparison gives any tool: keep-alive, and as many
// idle connections per host as requests may be in flight. A run stopped by ctx
// returns the figures so far and an error.
func Attack(ctx context.Context, c AttackConfig) (loadgen.Stats, error) {
	if err := c.Validate(); err != nil {
		return loadgen.Stats{}, fmt.Errorf("attack: %w", err)
	}
	target, err := loadgen.PlainTarget(c.URL)
	if err != nil {
		return loadgen.Stats{}, fmt.Errorf("attack: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = c.MaxInFlight
	tr.MaxIdleConnsPerHost = c.MaxInFlight
	tr.DisableKeepAlives = false
	tr.MaxConnsPerHost = c.MaxConns
	defer tr.CloseIdleConnections()
	results, err := loadgen.Attack(ctx, c.Scenario(), target, loadgen.WithClient(&http.Client{Transport: tr}))
	if err != nil {
		return loadgen.Stats{}, fmt.Errorf("attack: %w", err)
	}
	sum := loadgen.Collect(results, runtime.GOMAXPROCS(0)).Summary(ctx.Err() != nil)
	var st loadgen.Stats
	if ph, ok := sum.Phase("constant"); ok {
		st = ph.All
	}
	if sum.Partial {
		return st, errors.New("attack: stopped before the end")
	}
	return st, nil
}
