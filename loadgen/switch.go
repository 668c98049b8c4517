package loadgen

import (
	"math"
	"sync"
	"time"
)

// Switch is a pacer whose schedule changes while an engine runs it: a live
// load, shaped by a person as it runs (photobench live). Set hands it a
// new pacer, which starts at the moment of the call; Stop is Set(Idle{}).
// Close ends the schedule, and with it the engine's phase.
//
// Due does the waiting itself: it returns hit i's time only when that time
// has come (or has passed, when the engine is late), so that a change made
// while the engine waits for the next hit takes effect at once instead of
// after the old schedule's gap, and while the schedule has no next hit
// (stopped, or a finite pacer ran out) it blocks until Set or Close. The
// time it returns is the hit's intended start on the schedule that was
// current when the hit came due, and never earlier than the hit before
// it: latency is still measured from the schedule, not from the send.
//
// Offsets count from the Switch's origin, the first call of Due: the
// engine calls Due(0) as its phase starts, so the origin is the phase's
// start to within microseconds. The engine must ask for hits in order,
// each once (Attack does). Safe for concurrent use.
type Switch struct {
	mu      sync.Mutex
	origin  time.Time
	segs    []segment     // every schedule set, in order; the last is current
	changed chan struct{} // closed and replaced on every Set and on Close
	closed  bool
	last    time.Duration // the offset returned for the last hit
	next    uint64        // the index of the next hit to return
	now     func() time.Time
}

// segment is one schedule of a Switch: pacer p from offset at, its hit 0
// being the Switch's hit base.
type segment struct {
	p    Pacer
	at   time.Duration
	base uint64
}

// NewSwitch returns a Switch that starts with schedule p (Idle{} to start
// stopped).
func NewSwitch(p Pacer) *Switch {
	return &Switch{segs: []segment{{p: p}}, changed: make(chan struct{}), now: time.Now}
}

// Set makes p the schedule from now on: its hit 0 is due now plus p's
// first offset. Hits already returned keep their times.
func (s *Switch) Set(p Pacer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	at := time.Duration(0)
	if !s.origin.IsZero() {
		at = max(s.now().Sub(s.origin), s.last)
	}
	s.segs = append(s.segs, segment{p: p, at: at, base: s.next})
	close(s.changed)
	s.changed = make(chan struct{})
}

// Stop schedules nothing until the next Set.
func (s *Switch) Stop() { s.Set(Idle{}) }

// Close ends the schedule: Due returns false from now on, also to a call
// waiting in it.
func (s *Switch) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.changed)
	}
}

// Closed reports whether Close was called: Attack then ends the run
// instead of waiting out the phase's duration.
func (s *Switch) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Origin returns when the schedule started (the first Due), zero before.
func (s *Switch) Origin() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.origin
}

// Current returns the schedule set last.
func (s *Switch) Current() Pacer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.segs[len(s.segs)-1].p
}

// Due implements Pacer; see Switch for how it waits.
func (s *Switch) Due(i uint64) (time.Duration, bool) {
	s.mu.Lock()
	if s.origin.IsZero() {
		s.origin = s.now()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if s.closed {
			s.mu.Unlock()
			return 0, false
		}
		seg := s.segs[len(s.segs)-1]
		changed := s.changed
		d, ok := seg.p.Due(i - seg.base)
		if ok {
			at := max(seg.at+d, s.last)
			wait := at - s.now().Sub(s.origin)
			if wait <= 0 {
				s.last, s.next = at, i+1
				s.mu.Unlock()
				return at, true
			}
			timer.Reset(wait)
		}
		s.mu.Unlock()
		if ok {
			select {
			case <-changed:
			case <-timer.C:
			}
		} else {
			<-changed
		}
		if !timer.Stop() {
			select { // drain a fired timer before it is reset
			case <-timer.C:
			default:
			}
		}
		s.mu.Lock()
	}
}

// Count returns the hits returned so far whose offset is before d: the
// schedule as it happened (the engine's gauges ask for the last second).
func (s *Switch) Count(d time.Duration) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n uint64
	for k, seg := range s.segs {
		end := s.next // the hits of seg are [seg.base, end)
		if k+1 < len(s.segs) {
			end = s.segs[k+1].base
		}
		if end <= seg.base || d <= seg.at {
			continue
		}
		c := Count(seg.p, d-seg.at)
		n += min(c, end-seg.base)
	}
	return n
}

// Cycle repeats its steps forever: a load that comes and goes (bursts,
// idle gaps). Hit i is due where the steps' integral, repeated, reaches i.
type Cycle []Step

// Due implements Pacer.
func (c Cycle) Due(i uint64) (time.Duration, bool) {
	per := piecewiseExpected(c, 0, c.period())
	if per <= 0 {
		return 0, false
	}
	k := math.Floor(float64(i) / per)
	rest := float64(i) - k*per
	at, ok := piecewiseAt(c, 0, rest)
	if !ok { // rest rounded up to a whole cycle
		k, at = k+1, 0
		if at, ok = piecewiseAt(c, 0, 0); !ok {
			return 0, false
		}
	}
	return time.Duration(k)*c.period() + at, true
}

// Expected returns the integral of the rate over [0, d).
func (c Cycle) Expected(d time.Duration) float64 {
	p := c.period()
	if p <= 0 {
		return 0
	}
	k := d / p
	return float64(k)*piecewiseExpected(c, 0, p) + piecewiseExpected(c, 0, d-k*p)
}

func (c Cycle) period() time.Duration {
	var p time.Duration
	for _, s := range c {
		p += s.Duration
	}
	return p
}
