package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// A Hit is one scheduled request, handed to the Targeter to build.
type Hit struct {
	Seq      uint64 // position in the whole run, from 0
	Phase    int    // index into Scenario.Phases
	Op       Op
	User     int       // 0 <= User < Scenario.Users
	Intended time.Time // when the schedule meant the request to start
}

// A Targeter builds the request for a hit. ctx carries the request's timeout and
// the run's cancellation; the request must use it (http.NewRequestWithContext).
// An error is recorded as a failed request of class "build".
type Targeter func(ctx context.Context, h Hit) (*http.Request, error)

// Result is the outcome of one scheduled hit: sent and answered, failed, or dropped.
type Result struct {
	Hit
	PhaseName string
	Warmup    bool
	Dropped   bool      // not started: MaxInFlight requests were already in flight
	Sent      time.Time // when the engine handed the request to the client; zero if dropped
	Conn      time.Time // when the request got a connection (wire send); zero if it never did
	Done      time.Time // when the response body was read or the request failed
	Status    int       // HTTP status; 0 when there was no response
	Timeout   bool      // the request exceeded Scenario.Timeout
	Canceled  bool      // the run stopped while the request was in flight
	Err       error
}

// Latency is the time from the intended start to the end of the response: what a
// user arriving on schedule would have waited, delays of the generator included.
func (r Result) Latency() time.Duration { return r.Done.Sub(r.Intended) }

// Service is the time from the request's connection to the end of the response:
// the server's share (plus the network), without time queued for a connection.
func (r Result) Service() time.Duration {
	if r.Conn.IsZero() {
		return r.Done.Sub(r.Sent)
	}
	return r.Done.Sub(r.Conn)
}

// Lag is how late the engine sent the request: Sent - Intended.
func (r Result) Lag() time.Duration { return r.Sent.Sub(r.Intended) }

// Class names the outcome for error counts: "ok", "4xx", "5xx", "timeout",
// "canceled", "dropped", "build" (the targeter failed) or "transport".
func (r Result) Class() string {
	switch {
	case r.Dropped:
		return "dropped"
	case r.Canceled:
		return "canceled"
	case r.Timeout:
		return "timeout"
	case r.Err != nil && r.Sent.IsZero():
		return "build"
	case r.Err != nil:
		return "transport"
	case r.Status >= 500:
		return "5xx"
	case r.Status >= 400:
		return "4xx"
	}
	return "ok"
}

type options struct {
	client *http.Client
	start  time.Time
}

// An Option tunes Attack.
type Option func(*options)

// WithClient sends with c instead of a client whose transport keeps up to
// MaxInFlight idle connections. The client should not set its own Timeout; the
// scenario's timeout applies through the request's context.
func WithClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// Attack runs the scenario's phases back to back against the targeter and sends
// one Result per scheduled hit on the returned channel, which is closed when the
// last phase has ended (or a phase's live Switch was closed) and every request
// has finished, or soon after ctx is
// cancelled (in-flight requests are cancelled then and reported as Canceled).
//
// It is open loop: a hit starts at its intended time whether or not earlier ones
// have answered; if the engine is late it sends the late hits at once rather than
// skip them, and a hit that finds MaxInFlight requests in flight is reported as
// Dropped. Hits are handed to idle workers, and a new worker is started whenever
// none is idle, so a slow target never slows the schedule. Phases start at fixed
// offsets from the start of the run, so a late phase does not shift the next.
//
// Results must be read promptly: the channel is buffered, but a consumer that
// falls far behind delays the schedule. The error is for an invalid scenario.
func Attack(ctx context.Context, s *Scenario, t Targeter, opts ...Option) (<-chan Result, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("attack: %w", err)
	}
	if t == nil {
		return nil, errors.New("attack: targeter is nil")
	}
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = s.MaxInFlight
		tr.MaxIdleConns = s.MaxInFlight
		o.client = &http.Client{Transport: tr}
	}
	a := &attack{s: s, target: t, client: o.client,
		results: make(chan Result, max(1024, s.MaxInFlight)),
		hits:    make(chan Result)}
	go a.run(ctx)
	return a.results, nil
}

type attack struct {
	s       *Scenario
	target  Targeter
	client  *http.Client
	results chan Result
	hits    chan Result // hits for idle workers, unbuffered: a send succeeds only if one is idle

	inFlight atomic.Int64
	workers  sync.WaitGroup
}

func (a *attack) run(ctx context.Context) {
	defer close(a.results)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer a.workers.Wait()
	defer close(a.hits)

	rng := rand.New(rand.NewPCG(a.s.Seed, 0x5eed))
	cum := make([]float64, len(a.s.Mix))
	total := 0.0
	for i, w := range a.s.Mix {
		total += w.Weight
		cum[i] = total
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	wait := func(at time.Time) bool {
		d := time.Until(at)
		if d <= 0 {
			return ctx.Err() == nil
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		}
	}

	start := time.Now()
	phaseStart := start
	var seq uint64
	for pi, ph := range a.s.Phases {
		for i := uint64(0); ; i++ {
			due, ok := ph.Pacer.Due(i)
			if !ok || due >= ph.Duration {
				break
			}
			at := phaseStart.Add(due)
			if !wait(at) {
				return
			}
			x := rng.Float64() * total
			op := a.s.Mix[len(cum)-1].Op
			for j, c := range cum {
				if x < c {
					op = a.s.Mix[j].Op
					break
				}
			}
			r := Result{
				Hit:       Hit{Seq: seq, Phase: pi, Op: op, User: rng.IntN(a.s.Users), Intended: at},
				PhaseName: ph.Name,
				Warmup:    ph.Warmup,
			}
			seq++
			if a.inFlight.Load() >= int64(a.s.MaxInFlight) {
				r.Dropped = true
				a.results <- r
				continue
			}
			a.inFlight.Add(1)
			select {
			case a.hits <- r:
			default:
				a.workers.Add(1)
				go a.worker(ctx, r)
			}
		}
		if c, ok := ph.Pacer.(interface{ Closed() bool }); ok && c.Closed() {
			return // a live schedule (Switch) ended by its owner ends the run
		}
		phaseStart = phaseStart.Add(ph.Duration)
	}
	wait(phaseStart) // an idle or sparse last phase still lasts its duration
}

func (a *attack) worker(ctx context.Context, first Result) {
	defer a.workers.Done()
	a.hit(ctx, first)
	for r := range a.hits {
		a.hit(ctx, r)
	}
}

func (a *attack) hit(ctx context.Context, r Result) {
	rctx, cancel := context.WithTimeout(ctx, a.s.Timeout)
	defer cancel()
	req, err := a.target(rctx, r.Hit)
	if err != nil {
		r.Err = fmt.Errorf("build %s request: %w", r.Op, err)
		r.Done = time.Now()
		a.finish(r)
		return
	}
	var conn atomic.Pointer[time.Time] // the transport may call GotConn from another goroutine
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {
		now := time.Now()
		conn.CompareAndSwap(nil, &now) // the first connection; a redirect may take another
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	r.Sent = time.Now()
	resp, err := a.client.Do(req)
	if err == nil {
		r.Status = resp.StatusCode
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	r.Done = time.Now()
	if c := conn.Load(); c != nil {
		r.Conn = *c
	}
	if err != nil {
		r.Err = err
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			r.Canceled = true
		case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
			r.Timeout = true
		}
	}
	a.finish(r)
}

func (a *attack) finish(r Result) {
	a.inFlight.Add(-1)
	a.results <- r
}
