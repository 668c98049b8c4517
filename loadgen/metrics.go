package loadgen

import (
	"context"
	"runtime"
	"sort"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 µs to 1 h at 3 significant digits. Values beyond are clamped
// to the top (and still counted).
const (
	histMin    = 1
	histMax    = int64(time.Hour / time.Microsecond)
	histDigits = 3
)

// A Recorder aggregates results per phase and operation into HDR histograms of
// latency, service time and schedule lag, and counts of outcomes, and the
// Follower's ReadyResults per phase (AddReady). Warm-up results are ignored. Like the histograms it is built on, it does no locking: give each
// goroutine its own and Merge them (Collect does).
type Recorder struct {
	phases map[int]*phaseRec
}

type phaseRec struct {
	name  string
	ops   map[Op]*opRec
	ready *readyRec // nil until the phase has a ReadyResult or a skip
}

// readyRec aggregates one phase's followed uploads.
type readyRec struct {
	latency, observed  *hdrhistogram.Histogram // ready and failed photos only
	counts             map[ReadyOutcome]uint64
	skipped            uint64
	polls, pollErrors  uint64
	firstIntended, end time.Time // the poll-rate span
}

func newReadyRec() *readyRec {
	return &readyRec{
		latency:  hdrhistogram.New(histMin, histMax, histDigits),
		observed: hdrhistogram.New(histMin, histMax, histDigits),
		counts:   map[ReadyOutcome]uint64{},
	}
}

func (r *readyRec) merge(from *readyRec) {
	r.latency.Merge(from.latency)
	r.observed.Merge(from.observed)
	for k, v := range from.counts {
		r.counts[k] += v
	}
	r.skipped += from.skipped
	r.polls += from.polls
	r.pollErrors += from.pollErrors
	r.firstIntended = earliest(r.firstIntended, from.firstIntended)
	r.end = latest(r.end, from.end)
}

type opRec struct {
	latency, service, lag *hdrhistogram.Histogram
	counts                map[string]uint64 // by Result.Class
	scheduled, sent       uint64
	firstIntended         time.Time
	lastIntended          time.Time
	firstSent, lastSent   time.Time
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{phases: map[int]*phaseRec{}} }

func newOpRec() *opRec {
	return &opRec{
		latency: hdrhistogram.New(histMin, histMax, histDigits),
		service: hdrhistogram.New(histMin, histMax, histDigits),
		lag:     hdrhistogram.New(histMin, histMax, histDigits),
		counts:  map[string]uint64{},
	}
}

func record(h *hdrhistogram.Histogram, d time.Duration) {
	us := min(max(d.Microseconds(), 0), histMax)
	_ = h.RecordValue(us) // in range by construction
}

func (r *Recorder) phase(phase int, name string) *phaseRec {
	p := r.phases[phase]
	if p == nil {
		p = &phaseRec{name: name, ops: map[Op]*opRec{}}
		r.phases[phase] = p
	}
	return p
}

func (r *Recorder) op(phase int, name string, op Op) *opRec {
	p := r.phase(phase, name)
	o := p.ops[op]
	if o == nil {
		o = newOpRec()
		p.ops[op] = o
	}
	return o
}

// Add records one result; warm-up results are ignored.
func (r *Recorder) Add(res Result) {
	if res.Warmup {
		return
	}
	o := r.op(res.Phase, res.PhaseName, res.Op)
	o.scheduled++
	o.counts[res.Class()]++
	o.firstIntended = earliest(o.firstIntended, res.Intended)
	o.lastIntended = latest(o.lastIntended, res.Intended)
	if res.Sent.IsZero() {
		return
	}
	o.sent++
	o.firstSent = earliest(o.firstSent, res.Sent)
	o.lastSent = latest(o.lastSent, res.Sent)
	record(o.lag, res.Lag())
	if res.Canceled {
		return // cut short by the end of the run: not a measurement
	}
	record(o.latency, res.Latency())
	record(o.service, res.Service())
}

func (r *Recorder) ready(phase int, name string) *readyRec {
	p := r.phase(phase, name)
	if p.ready == nil {
		p.ready = newReadyRec()
	}
	return p.ready
}

// AddReady records one followed upload under its upload's phase; warm-up
// results are ignored. Latencies are recorded for ready and failed photos.
func (r *Recorder) AddReady(res ReadyResult) {
	if res.Warmup {
		return
	}
	o := r.ready(res.Upload.Phase, res.PhaseName)
	switch res.Outcome {
	case ReadyOK, ReadyFailed, ReadyTimeout, ReadyError, ReadyAborted:
		o.counts[res.Outcome]++
	default:
		o.counts[ReadyError]++ // keeps every followed upload in one count
	}
	o.polls += uint64(max(res.Polls, 0))
	o.pollErrors += uint64(max(res.PollErrors, 0))
	o.firstIntended = earliest(o.firstIntended, res.Upload.Intended)
	o.end = latest(o.end, latest(res.Acked, res.Observed))
	if res.Outcome == ReadyOK || res.Outcome == ReadyFailed {
		record(o.latency, res.Latency())
		record(o.observed, res.ObservedLatency())
	}
}

// AddReadySkipped records uploads the Follower did not follow (see
// Follower.SkippedPhases); warm-up skips are ignored.
func (r *Recorder) AddReadySkipped(s ReadySkip) {
	if s.Warmup || s.N == 0 {
		return
	}
	r.ready(s.Phase, s.PhaseName).skipped += s.N
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (o *opRec) merge(from *opRec) {
	o.latency.Merge(from.latency)
	o.service.Merge(from.service)
	o.lag.Merge(from.lag)
	for k, v := range from.counts {
		o.counts[k] += v
	}
	o.scheduled += from.scheduled
	o.sent += from.sent
	o.firstIntended = earliest(o.firstIntended, from.firstIntended)
	o.lastIntended = latest(o.lastIntended, from.lastIntended)
	o.firstSent = earliest(o.firstSent, from.firstSent)
	o.lastSent = latest(o.lastSent, from.lastSent)
}

// Merge adds everything recorded in from into r; from must no longer be in use.
func (r *Recorder) Merge(from *Recorder) {
	for pi, p := range from.phases {
		for op, o := range p.ops {
			r.op(pi, p.name, op).merge(o)
		}
		if p.ready != nil {
			r.ready(pi, p.name).merge(p.ready)
		}
	}
}

// Summary is the JSON-serialisable outcome of a run, warm-up phases excluded.
type Summary struct {
	Partial bool           `json:"partial"` // the run was stopped before its end
	Phases  []PhaseSummary `json:"phases"`  // in scenario order
}

// PhaseSummary holds one phase's figures for all operations together and for
// each, and those of following its uploads when they were followed.
type PhaseSummary struct {
	Name  string        `json:"name"`
	All   Stats         `json:"all"`
	Ops   map[Op]Stats  `json:"ops"`
	Ready *ReadySummary `json:"ready,omitempty"`
}

// ReadySummary holds the figures of following one phase's accepted uploads
// until their photos were ready. Every followed upload is in exactly one of
// Ready, Failed, Timeouts, Errors and Canceled; Skipped ones were not
// followed. Times are in seconds.
type ReadySummary struct {
	Followed   uint64 `json:"followed"`
	Ready      uint64 `json:"ready"`
	Failed     uint64 `json:"failed"`
	Timeouts   uint64 `json:"timeouts"` // still pending at the follow timeout
	Errors     uint64 `json:"errors"`   // polling failed for good (e.g. 404 twice)
	Canceled   uint64 `json:"canceled"` // still followed when the run was stopped
	Skipped    uint64 `json:"skipped"`  // not followed: too many followed at once
	Polls      uint64 `json:"polls"`    // GETs sent to follow the photos
	PollErrors uint64 `json:"poll_errors"`
	// PollsPerPhoto is Polls / Followed. PollRate is Polls per second over the
	// span from the phase's first upload's intended start to the latest
	// observation (or answer, for follows that observed no final status):
	// the load the following added while it lasted.
	PollsPerPhoto float64 `json:"polls_per_photo"`
	PollRate      float64 `json:"poll_rate"`
	// Latency is from the upload's intended start to the server's ready_at
	// (to the observing poll when ready_at is unknown); Observed to the poll
	// that saw the final status. Both count ready and failed photos.
	Latency  Quantiles `json:"latency_seconds"`
	Observed Quantiles `json:"observed_seconds"`
}

// Phase returns the summary of the named phase and whether it is present.
func (s Summary) Phase(name string) (PhaseSummary, bool) {
	for _, p := range s.Phases {
		if p.Name == name {
			return p, true
		}
	}
	return PhaseSummary{}, false
}

// Stats are the counts and distributions of one phase and operation. Every
// scheduled hit is in exactly one of OK, Errors, Dropped and Canceled. Times are in
// seconds.
type Stats struct {
	Scheduled     uint64            `json:"scheduled"` // hits the schedule called for
	Sent          uint64            `json:"sent"`      // handed to the HTTP client
	OK            uint64            `json:"ok"`        // 1xx-3xx answers
	Errors        uint64            `json:"errors"`    // 4xx, 5xx, timeouts, transport and build failures
	ErrorsByClass map[string]uint64 `json:"errors_by_class,omitempty"`
	Timeouts      uint64            `json:"timeouts"` // also in Errors
	Dropped       uint64            `json:"dropped"`  // not started: in-flight cap reached
	Canceled      uint64            `json:"canceled"` // in flight when the run was stopped
	// Rates are hits per second over the span from the first to the last hit:
	// TargetRate from intended start times, AchievedRate from actual sends.
	TargetRate     float64   `json:"target_rate"`
	AchievedRate   float64   `json:"achieved_rate"`
	ScheduleLagP99 float64   `json:"schedule_lag_p99_seconds"` // send - intended start
	Latency        Quantiles `json:"latency_seconds"`          // from intended start
	Service        Quantiles `json:"service_seconds"`          // from connection
}

// Quantiles summarise one histogram, in seconds (to the histogram's 3 digits).
type Quantiles struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

func quantiles(h *hdrhistogram.Histogram) Quantiles {
	s := func(us int64) float64 { return float64(us) / 1e6 }
	return Quantiles{
		Count: h.TotalCount(),
		P50:   s(h.ValueAtQuantile(50)),
		P90:   s(h.ValueAtQuantile(90)),
		P99:   s(h.ValueAtQuantile(99)),
		P999:  s(h.ValueAtQuantile(99.9)),
		Max:   s(h.Max()),
	}
}

func rate(n uint64, first, last time.Time) float64 {
	span := last.Sub(first)
	if n < 2 || span <= 0 {
		return 0
	}
	return float64(n-1) / span.Seconds()
}

func (o *opRec) stats() Stats {
	st := Stats{
		Scheduled:      o.scheduled,
		Sent:           o.sent,
		OK:             o.counts["ok"],
		Timeouts:       o.counts["timeout"],
		Dropped:        o.counts["dropped"],
		Canceled:       o.counts["canceled"],
		TargetRate:     rate(o.scheduled, o.firstIntended, o.lastIntended),
		AchievedRate:   rate(o.sent, o.firstSent, o.lastSent),
		ScheduleLagP99: float64(o.lag.ValueAtQuantile(99)) / 1e6,
		Latency:        quantiles(o.latency),
		Service:        quantiles(o.service),
	}
	for _, class := range []string{"4xx", "5xx", "timeout", "transport", "build"} {
		if n := o.counts[class]; n > 0 {
			if st.ErrorsByClass == nil {
				st.ErrorsByClass = map[string]uint64{}
			}
			st.ErrorsByClass[class] = n
			st.Errors += n
		}
	}
	return st
}

func (r *readyRec) summary() ReadySummary {
	s := ReadySummary{
		Ready:      r.counts[ReadyOK],
		Failed:     r.counts[ReadyFailed],
		Timeouts:   r.counts[ReadyTimeout],
		Errors:     r.counts[ReadyError],
		Canceled:   r.counts[ReadyAborted],
		Skipped:    r.skipped,
		Polls:      r.polls,
		PollErrors: r.pollErrors,
		Latency:    quantiles(r.latency),
		Observed:   quantiles(r.observed),
	}
	for _, n := range r.counts {
		s.Followed += n
	}
	if s.Followed > 0 {
		s.PollsPerPhoto = float64(s.Polls) / float64(s.Followed)
	}
	if span := r.end.Sub(r.firstIntended); span > 0 && !r.firstIntended.IsZero() {
		s.PollRate = float64(s.Polls) / span.Seconds()
	}
	return s
}

// Summary computes the figures recorded so far; partial marks a run that was
// stopped before its end.
func (r *Recorder) Summary(partial bool) Summary {
	idx := make([]int, 0, len(r.phases))
	for i := range r.phases {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	s := Summary{Partial: partial, Phases: []PhaseSummary{}}
	for _, i := range idx {
		p := r.phases[i]
		all := newOpRec()
		ps := PhaseSummary{Name: p.name, Ops: map[Op]Stats{}}
		for op, o := range p.ops {
			all.merge(o)
			ps.Ops[op] = o.stats()
		}
		ps.All = all.stats()
		if p.ready != nil {
			rs := p.ready.summary()
			ps.Ready = &rs
		}
		s.Phases = append(s.Phases, ps)
	}
	return s
}

// Collect reads results until the channel is closed, with one Recorder per
// goroutine (workers of them, at least 1), and returns them merged.
func Collect(results <-chan Result, workers int) *Recorder {
	workers = max(workers, 1)
	recs := make([]*Recorder, workers)
	var wg sync.WaitGroup
	for i := range recs {
		recs[i] = NewRecorder()
		wg.Add(1)
		go func(rec *Recorder) {
			defer wg.Done()
			for res := range results {
				rec.Add(res)
			}
		}(recs[i])
	}
	wg.Wait()
	for _, rec := range recs[1:] {
		recs[0].Merge(rec)
	}
	return recs[0]
}

// RunScenario attacks with the scenario until its end or ctx is cancelled and returns the
// summary, marked partial if ctx was cancelled. The error is for an invalid
// scenario.
func RunScenario(ctx context.Context, s *Scenario, t Targeter, opts ...Option) (Summary, error) {
	results, err := Attack(ctx, s, t, opts...)
	if err != nil {
		return Summary{}, err
	}
	rec := Collect(results, runtime.GOMAXPROCS(0))
	return rec.Summary(ctx.Err() != nil), nil
}
