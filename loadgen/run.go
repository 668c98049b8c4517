package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// APIRun is one run of a scenario against an APITarget with everything around
// the engine: the ready follower (when the scenario follows uploads; then
// thumbnails are asked only of photos it saw ready), the
// Prometheus exporter, the interval log and a hook for a progress line. Fill in
// the fields, then call Run once.
type APIRun struct {
	Scenario *Scenario
	Target   *APITarget
	Client   *http.Client // sends the requests and the polls; wrapped by Target.Client; nil means a fresh transport
	Exporter *Exporter    // optional: live metrics
	Log      *IntervalLog // optional: raw per-interval histograms (the caller closes it)
	// Observe and ObserveReady, optional, see every result (for a progress
	// line). They are called from one goroutine each and must be quick.
	Observe      func(Result)
	ObserveReady func(ReadyResult)
	// OnAccepted, optional, sees every upload accepted (2xx with the
	// photo's id) when the scenario follows uploads, as the follower
	// starts following it: where the live view learns a photo's id before
	// it is ready. Called from the client's goroutines; must be quick.
	OnAccepted func(Hit, UploadAnswer)
	inFlight   atomic.Int64
	follower   atomic.Pointer[Follower]
	started    time.Time   // when Attack was called: the schedule's start, to within microseconds
	following  atomic.Bool // the schedule has ended and the follower drains
}

// InFlight returns the requests sent and not yet answered.
func (r *APIRun) InFlight() int { return int(r.inFlight.Load()) }

// Following returns the uploads being followed until ready.
func (r *APIRun) Following() int {
	if f := r.follower.Load(); f != nil {
		return f.Pending()
	}
	return 0
}

// Polls returns the polls the follower has sent so far.
func (r *APIRun) Polls() uint64 {
	if f := r.follower.Load(); f != nil {
		return f.Polls()
	}
	return 0
}

// Draining reports whether the schedule has ended and the run is waiting for
// followed uploads to become ready.
func (r *APIRun) Draining() bool { return r.following.Load() }

// Run runs the scenario to its end and then, if it follows uploads, waits until
// every followed upload is ready, failed or past the scenario's ready timeout.
// Cancelling ctx stops both at once: in-flight requests and follows end as
// canceled. The Recorder holds every result (warm-up excluded); the error is
// for an invalid scenario or target.
func (r *APIRun) Run(ctx context.Context) (*Recorder, error) {
	sc := r.Scenario
	if sc == nil || r.Target == nil {
		return nil, errors.New("api run: scenario and target are required")
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("api run: %w", err)
	}
	base := r.Client
	if base == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = sc.MaxInFlight
		tr.MaxIdleConnsPerHost = sc.MaxInFlight
		base = &http.Client{Transport: tr}
	}
	client := r.Target.Client(base)
	if r.Exporter != nil {
		r.Exporter.SetRun(sc.Name)
	}

	f, readyRec, readyDone := r.follow(sc, base)
	if f != nil {
		defer r.Target.OnUpload(nil)
	}

	// The targeter runs when a request is about to be sent: count it in flight there.
	target := func(ctx context.Context, h Hit) (*http.Request, error) {
		r.inFlight.Add(1)
		return r.Target.Target(ctx, h)
	}
	r.started = time.Now()
	results, err := Attack(ctx, sc, target, WithClient(client))
	if err != nil {
		return nil, fmt.Errorf("api run: %w", err)
	}
	stopGauges := r.gauges(ctx)
	rec := Collect(r.tee(results), runtime.GOMAXPROCS(0))
	r.following.Store(true)
	if f != nil {
		f.Close(ctx) // returns when every follow has ended, or at once when ctx is done
		<-readyDone
		for _, s := range f.SkippedPhases() {
			readyRec.AddReadySkipped(s)
		}
		rec.Merge(readyRec)
	}
	stopGauges()
	if r.Exporter != nil {
		r.Exporter.SetPhase("")
		r.Exporter.SetTargetRate(0)
		r.Exporter.SetInFlight(0)
		r.Exporter.SetFollowing(0)
	}
	return rec, nil
}

// follow starts the ready follower when the scenario follows uploads: every
// upload answered is followed, thumbnails are asked only of photos seen
// ready, and a goroutine records each ready result in readyRec (and the
// exporter, the log and ObserveReady), closing readyDone when the follower
// has no more. Without following, f is nil and readyDone already closed.
// The caller unhooks the target's OnUpload when f is not nil.
func (r *APIRun) follow(sc *Scenario, base *http.Client) (f *Follower, readyRec *Recorder, readyDone chan struct{}) {
	readyRec = NewRecorder()
	readyDone = make(chan struct{})
	if !sc.Ready.Follow || !sc.Uploads() {
		close(readyDone)
		return nil, readyRec, readyDone
	}
	f = NewFollower(FollowerConfig{Target: r.Target, Client: base, Ready: sc.Ready,
		RequestTimeout: sc.Timeout, Seed: sc.Seed})
	r.follower.Store(f)
	r.Target.ThumbnailsOfReady(true)
	r.Target.OnUpload(func(h Hit, a UploadAnswer) {
		ph := sc.Phases[h.Phase]
		if r.OnAccepted != nil {
			r.OnAccepted(h, a)
		}
		f.Follow(h, ph.Name, ph.Warmup, a)
	})
	go func() {
		defer close(readyDone)
		for res := range f.Results() {
			if res.Outcome == ReadyOK {
				r.Target.MarkReady(res.Upload.User, res.ID)
			}
			readyRec.AddReady(res)
			if r.Exporter != nil {
				r.Exporter.ObserveReady(res)
			}
			if r.Log != nil {
				r.Log.AddReady(res)
			}
			if r.ObserveReady != nil {
				r.ObserveReady(res)
			}
		}
	}()
	return f, readyRec, readyDone
}

// tee passes every result on, on one goroutine, after taking it out of
// the in-flight count and showing it to the exporter, the log and Observe.
func (r *APIRun) tee(results <-chan Result) <-chan Result {
	tee := make(chan Result, 1024)
	go func() {
		defer close(tee)
		for res := range results {
			if !res.Dropped { // the targeter ran for every hit but the dropped ones
				r.inFlight.Add(-1)
			}
			if r.Exporter != nil {
				r.Exporter.Observe(res)
			}
			if r.Log != nil {
				r.Log.Add(res)
			}
			if r.Observe != nil {
				r.Observe(res)
			}
			tee <- res
		}
	}()
	return tee
}

// gauges keeps the exporter's gauges current, once a second, until stopped.
func (r *APIRun) gauges(ctx context.Context) (stop func()) {
	if r.Exporter == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			el := time.Since(r.started)
			if r.Draining() {
				r.Exporter.SetPhase("")
				r.Exporter.SetTargetRate(0)
			} else {
				pi, rate := r.Scenario.RateAt(el)
				r.Exporter.SetPhase(r.Scenario.Phases[pi].Name)
				r.Exporter.SetTargetRate(rate)
			}
			r.Exporter.SetInFlight(r.InFlight())
			r.Exporter.SetFollowing(r.Following())
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// PhaseAt returns the phase running at el into the scenario (the last one past
// its end) and the offset into it.
func (s *Scenario) PhaseAt(el time.Duration) (phase int, offset time.Duration) {
	var at time.Duration
	for i, ph := range s.Phases {
		if el < at+ph.Duration {
			return i, el - at
		}
		at += ph.Duration
	}
	last := len(s.Phases) - 1
	return last, s.Phases[last].Duration
}

// RateAt returns the phase at el and its schedule's rate in hits per second
// over the second before el (over the phase's first second while it is younger).
func (s *Scenario) RateAt(el time.Duration) (phase int, rate float64) {
	pi, off := s.PhaseAt(el)
	p := s.Phases[pi].Pacer
	from := max(off-time.Second, 0)
	return pi, float64(Count(p, from+time.Second) - Count(p, from))
}
