package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// FollowerConfig configures a Follower.
type FollowerConfig struct {
	Target *APITarget   // builds the polls (PhotoRequest); required
	Client *http.Client // sends the polls; nil means a client on http.DefaultTransport
	// Ready sets the timeout, backoff and cap; zero fields take
	// DefaultReadyConfig's. Ready.Follow is not looked at: it is the caller's
	// switch for making a Follower at all.
	Ready ReadyConfig
	// RequestTimeout bounds each poll (the scenario's Timeout); 0 means DefaultTimeout.
	RequestTimeout time.Duration
	Seed           uint64 // seeds the backoff jitter (the scenario's seed)
}

// ReadySkip counts the uploads of one phase the Follower did not follow: they
// came while MaxFollowing photos were being followed, or after Close.
type ReadySkip struct {
	Phase     int // index into Scenario.Phases
	PhaseName string
	Warmup    bool
	N         uint64
}

// A Follower follows accepted uploads until their photos are ready or failed,
// polling GET /v1/photos/{id} as the uploading user, and sends one
// ReadyResult per followed upload on Results.
//
// Waits between polls start at Ready.MinPoll and double up to Ready.MaxPoll,
// each with ±10% jitter drawn from Seed and the upload's Seq, so the same run
// polls on the same schedule. Every photo is followed by its own goroutine;
// at most Ready.MaxFollowing at once, and uploads beyond are counted as
// skipped (Skipped, SkippedPhases) instead of followed.
//
// A poll answered 404 is retried once (ingest stores the pending photo before
// answering, so a second 404 in a row ends the follow as ReadyError); another
// 4xx ends it as ReadyError at once; transport errors, timeouts, 429 and 5xx
// are retried until the follow's timeout. All of them count as PollErrors.
//
// Its methods are safe for concurrent use. Results must be read promptly, as
// Attack's: a full channel delays the goroutine calling Follow.
type Follower struct {
	target  *APITarget
	client  *http.Client
	ready   ReadyConfig
	timeout time.Duration
	seed    uint64
	results chan ReadyResult

	// life is the follower's own lifetime, not a caller's: Close cancels it
	// (abort) to stop the follows still polling.
	life  context.Context
	abort context.CancelFunc

	mu      sync.Mutex
	closed  bool
	pending int
	skips   map[int]*ReadySkip
	follows sync.WaitGroup // every Follow accepted before Close, until its result is sent

	skipped   atomic.Uint64
	polls     atomic.Uint64
	closeOnce sync.Once
	done      chan struct{} // closed with results
}

// NewFollower returns a follower ready to Follow uploads. It panics without
// a Target.
func NewFollower(cfg FollowerConfig) *Follower {
	if cfg.Target == nil {
		panic("loadgen: NewFollower without a Target")
	}
	rc, def := cfg.Ready, DefaultReadyConfig()
	if rc.Timeout <= 0 {
		rc.Timeout = def.Timeout
	}
	if rc.MinPoll <= 0 {
		rc.MinPoll = def.MinPoll
	}
	if rc.MaxPoll <= 0 {
		rc.MaxPoll = def.MaxPoll
	}
	rc.MaxPoll = max(rc.MaxPoll, rc.MinPoll)
	if rc.MaxFollowing <= 0 {
		rc.MaxFollowing = def.MaxFollowing
	}
	f := &Follower{target: cfg.Target, client: cfg.Client, ready: rc, timeout: cfg.RequestTimeout,
		seed: cfg.Seed, results: make(chan ReadyResult, max(1024, rc.MaxFollowing)),
		skips: map[int]*ReadySkip{}, done: make(chan struct{})}
	if f.client == nil {
		f.client = &http.Client{}
	}
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	f.life, f.abort = context.WithCancel(context.Background())
	return f
}

// Follow follows the upload h of the named phase, whose answer was ans. An
// answer already final (status ready or failed, as the monolith's) is sent on
// Results at once with no polls, Observed = Acked and ServerReady = its
// ready_at. Otherwise the photo is polled until it is ready or failed, or
// Ready.Timeout has passed since Acked, unless MaxFollowing photos are being
// followed already or Close was called: then the upload is only counted as
// skipped. Follow does not wait for the polling; its signature fits
// APITarget.OnUpload once phaseName and warmup are known from h.Phase.
func (f *Follower) Follow(h Hit, phaseName string, warmup bool, ans UploadAnswer) {
	if ans.Acked.IsZero() {
		ans.Acked = time.Now()
	}
	res := ReadyResult{Upload: h, PhaseName: phaseName, Warmup: warmup, ID: ans.ID, Acked: ans.Acked}
	final := ans.Status == "ready" || ans.Status == "failed"

	f.mu.Lock()
	if f.closed || (!final && f.pending >= f.ready.MaxFollowing) {
		s := f.skips[h.Phase]
		if s == nil {
			s = &ReadySkip{Phase: h.Phase, PhaseName: phaseName, Warmup: warmup}
			f.skips[h.Phase] = s
		}
		s.N++
		f.mu.Unlock()
		f.skipped.Add(1)
		return
	}
	f.follows.Add(1)
	if !final {
		f.pending++
	}
	f.mu.Unlock()

	if final {
		res.Outcome, res.Observed, res.ServerReady = ReadyOK, ans.Acked, ans.ReadyAt
		if ans.Status == "failed" {
			res.Outcome = ReadyFailed
		}
		f.send(res)
		return
	}
	go func() {
		f.poll(&res)
		f.mu.Lock()
		f.pending--
		f.mu.Unlock()
		f.send(res)
	}()
}

func (f *Follower) send(r ReadyResult) {
	f.results <- r
	f.follows.Done()
}

// errNotFound is a poll answered 404.
var errNotFound = errors.New("photo not found")

// poll follows r's photo to its end and fills in r's outcome and counts.
func (f *Follower) poll(r *ReadyResult) {
	if _, err := f.target.PhotoRequest(f.life, r.Upload.User, r.ID); err != nil {
		r.Outcome = ReadyError // a user or id no poll can be built for
		return
	}
	rng := rand.New(rand.NewPCG(f.seed, r.Upload.Seq))
	deadline := r.Acked.Add(f.ready.Timeout)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	wait, notFound := f.ready.MinPoll, 0
	for {
		d := min(time.Duration(float64(wait)*(0.9+0.2*rng.Float64())), time.Until(deadline))
		wait = min(2*wait, f.ready.MaxPoll)
		if d <= 0 {
			r.Outcome = ReadyTimeout
			return
		}
		timer.Reset(d)
		select {
		case <-f.life.Done():
			r.Outcome = ReadyAborted
			return
		case <-timer.C:
		}
		r.Polls++
		f.polls.Add(1)
		status, readyAt, err := f.get(r.Upload.User, r.ID)
		switch {
		case f.life.Err() != nil:
			r.Outcome = ReadyAborted
			return
		case errors.Is(err, errNotFound):
			r.PollErrors++
			if notFound++; notFound > 1 {
				r.Outcome = ReadyError
				return
			}
			continue
		case errors.Is(err, errPermanent):
			r.PollErrors++
			r.Outcome = ReadyError
			return
		case err != nil:
			r.PollErrors++
		case status == "ready" || status == "failed":
			r.Outcome, r.Observed, r.ServerReady = ReadyOK, time.Now(), readyAt
			if status == "failed" {
				r.Outcome = ReadyFailed
			}
			return
		}
		notFound = 0
		if !time.Now().Before(deadline) {
			r.Outcome = ReadyTimeout
			return
		}
	}
}

// errPermanent is a poll answered with a 4xx other than 404 and 429: asking
// again will not help.
var errPermanent = errors.New("photo request refused")

// get sends one poll and returns the photo's status and ready_at. Errors other
// than errNotFound and errPermanent are worth retrying.
func (f *Follower) get(user int, id string) (string, time.Time, error) {
	ctx, cancel := context.WithTimeout(f.life, f.timeout)
	defer cancel()
	req, err := f.target.PhotoRequest(ctx, user, id)
	if err != nil {
		return "", time.Time{}, errors.Join(errPermanent, err) // checked before the first poll
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return "", time.Time{}, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	switch {
	case err != nil:
		return "", time.Time{}, err
	case resp.StatusCode == http.StatusNotFound:
		return "", time.Time{}, errNotFound
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return "", time.Time{}, errors.New("poll: " + resp.Status)
	case resp.StatusCode != http.StatusOK:
		return "", time.Time{}, errPermanent
	}
	var p struct {
		Status  string `json:"status"`
		ReadyAt string `json:"ready_at"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return "", time.Time{}, fmt.Errorf("poll: %w", err)
	}
	at, _ := time.Parse(time.RFC3339Nano, p.ReadyAt) // zero when absent or malformed
	return p.Status, at, nil
}

// Results returns the channel of outcomes, one per followed upload (skipped
// ones have none). It is closed once Close has been called and every follow
// has ended.
func (f *Follower) Results() <-chan ReadyResult { return f.results }

// Close says no more uploads are coming (a later Follow counts as skipped)
// and waits for the follows still polling to end by themselves, or, once ctx
// is done, cancels them (Outcome ReadyAborted). It returns when Results is
// closed, so Results must be read by another goroutine meanwhile. Calling it
// again waits likewise.
func (f *Follower) Close(ctx context.Context) {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.closeOnce.Do(func() {
		go func() {
			f.follows.Wait()
			close(f.results)
			f.abort()
			close(f.done)
		}()
	})
	select {
	case <-f.done:
	case <-ctx.Done():
		f.abort()
		<-f.done
	}
}

// Pending returns the number of photos being followed now.
func (f *Follower) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending
}

// Polls returns the number of polls sent so far, by all follows together.
func (f *Follower) Polls() uint64 { return f.polls.Load() }

// Skipped returns the number of uploads not followed so far (see Follow).
func (f *Follower) Skipped() uint64 { return f.skipped.Load() }

// SkippedPhases returns the skipped uploads per phase, in phase order, for
// Recorder.AddReadySkipped.
func (f *Follower) SkippedPhases() []ReadySkip {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ReadySkip, 0, len(f.skips))
	for _, s := range f.skips {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Phase < out[j].Phase })
	return out
}
