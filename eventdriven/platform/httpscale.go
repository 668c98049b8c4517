package platform

import (
	"context"
	"math"
	"time"
)

// ScaleInterval is how often Autoscale samples the load and decides, as
// Knative's autoscaler does (it ticks every 2 s on per-second metrics).
const ScaleInterval = time.Second

// HTTPScaler is the decision part of the HTTP autoscaler, Knative's KPA in
// stable mode: it averages the in-flight requests over StableWindow and
// wants ceil(average / (ContainerConcurrency * TargetUtilization/100))
// replicas, within [MinScale, MaxScale]; it keeps at least one replica while
// requests are in flight or arrived within ScaleToZeroGracePeriod, so it
// goes to zero only after that grace period without requests. Panic mode
// (Knative's short window that scales up fast on bursts) is left out: the
// activator's scale-from-zero and a short StableWindow do its job here. A
// scale-down is applied only once the lower count has been wanted for
// ScaleDownDelay (the highest count decided within it is kept), as
// Knative's scale-down-delay does.
//
// An HTTPScaler is not safe for concurrent use.
type HTTPScaler struct {
	cfg        FunctionConfig
	samples    []sample
	lastActive time.Time // last time requests were in flight or arrived
	decided    decisions // decisions within ScaleDownDelay
}

type sample struct {
	at       time.Time
	inFlight float64
}

// NewHTTPScaler returns the autoscaler decisions of the HTTP function cfg.
func NewHTTPScaler(cfg FunctionConfig) *HTTPScaler {
	return &HTTPScaler{cfg: cfg}
}

// Decide records one sample taken at now, the average number of requests
// in flight since the previous sample, whether any are in flight now, and
// whether any arrived since the previous sample, and returns the desired
// replica count.
func (s *HTTPScaler) Decide(now time.Time, avgInFlight float64, inFlight, arrived int) int {
	s.samples = append(s.samples, sample{at: now, inFlight: avgInFlight})
	window := s.cfg.StableWindow.Duration
	drop := 0
	for drop < len(s.samples) && now.Sub(s.samples[drop].at) >= window {
		drop++
	}
	s.samples = s.samples[drop:]
	var sum float64
	for _, x := range s.samples {
		sum += x.inFlight
	}
	avg := 0.0
	if len(s.samples) > 0 {
		avg = sum / float64(len(s.samples))
	}

	target := float64(s.cfg.ContainerConcurrency) * s.cfg.TargetUtilization / 100
	if target <= 0 {
		target = 1
	}
	desired := int(math.Ceil(avg/target - 1e-9))

	if inFlight > 0 || arrived > 0 || avgInFlight > 0 {
		s.lastActive = now
	}
	switch {
	case inFlight > 0:
		// Never below one replica while requests are in flight.
		desired = max(desired, 1)
	case !s.lastActive.IsZero() && now.Sub(s.lastActive) < s.cfg.ScaleToZeroGracePeriod.Duration:
		// Keep the last replica through the grace period.
		desired = max(desired, 1)
	}
	desired = max(desired, s.cfg.MinScale)
	if s.cfg.MaxScale > 0 {
		desired = min(desired, s.cfg.MaxScale)
	}
	return s.delayScaleDown(now, desired)
}

// delayScaleDown returns the highest count decided within ScaleDownDelay
// before now, desired included.
func (s *HTTPScaler) delayScaleDown(now time.Time, desired int) int {
	if s.cfg.ScaleDownDelay.Duration <= 0 {
		return desired
	}
	return s.decided.add(now, desired, s.cfg.ScaleDownDelay.Duration)
}

// Autoscale keeps the function's desired replica count on its load until
// ctx ends: every ScaleInterval it samples Load and InFlight, asks the
// HTTPScaler and calls SetDesired when the decision differs from Desired.
// Run it in its own goroutine beside the activator's listener.
func (a *Activator) Autoscale(ctx context.Context) {
	s := NewHTTPScaler(a.cfg)
	t := time.NewTicker(ScaleInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.scale(s)
		}
	}
}

// scale takes one sample and applies the decision. The activator's lock is
// held throughout, so that a request arriving at zero (which asks for one
// replica under the same lock) cannot be undone by a decision taken on a
// sample from before it arrived.
func (a *Activator) scale(s *HTTPScaler) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	avg, arrived := a.loadLocked(now)
	n := s.Decide(now, avg, int(a.inFlight.Load()), arrived)
	if cur := a.f.Desired(); n != cur {
		a.log.Debug("scale", "from", cur, "to", n, "avg_in_flight", avg)
		a.f.SetDesired(n)
	}
}
