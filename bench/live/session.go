package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/bench/demo"
	"github.com/photobench/photobench/bench/live/estimate"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/loadgen"
	"github.com/photobench/photobench/vision"
)

// Config is one live session. DefaultConfig fills in everything but the
// endpoints, the secret and the stack.
type Config struct {
	MonolithURL      string // the monolith's public API
	MonolithAsyncURL string // the async monolith's public API
	EventDrivenURL   string // the event-driven app's public API (its front)
	VisionURL        string // the vision service, for /admin/profile
	PrometheusURL    string // the stack's Prometheus: backlogs, replicas, CPU
	Secret           []byte // signs the bearer tokens
	CacheDir         string // generated photos are kept here between runs; "" keeps none

	// Stack is the stack the controls act on (kill, restart, reset) and
	// whose servers' CPU the estimate reads; HaveStack false turns those
	// controls off (a session against apps it does not know the stack of).
	Stack     stack.Config
	HaveStack bool
	// Estimator, optional, gives each variant's CPU and cost.
	Estimator *estimate.Estimator
	// Exporter, optional, gives the live metrics of the load on one
	// variant (by label), for the stack's Prometheus and dashboards.
	Exporter func(label string) *loadgen.Exporter

	Rate    float64       // the load's first rate, per variant
	MaxRate float64       // the highest base rate a presenter may set
	MaxLoad time.Duration // a start of the load stops by itself after this long
	Users   int
	Seed    uint64
	Timeout time.Duration // per request
	Tick    time.Duration // a frame this often

	Log io.Writer // progress lines and the controls' output
}

// Limits and defaults of a Config.
const (
	DefaultRate    = 4.0
	DefaultMaxRate = 50.0
	DefaultMaxLoad = 90 * time.Minute
	MaxMaxLoad     = 8 * time.Hour
)

// DefaultConfig is the load of the demos (4 requests/s to each variant, 4
// users, phone-sized photos), a frame a second, and a load that stops by
// itself after 90 minutes.
func DefaultConfig() Config {
	return Config{Rate: DefaultRate, MaxRate: DefaultMaxRate, MaxLoad: DefaultMaxLoad, Users: 4, Seed: 7,
		Timeout: 15 * time.Second, Tick: time.Second, Log: io.Discard}
}

// Validate reports every problem of c at once, on one line.
func (c Config) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, u := range []struct{ name, url string }{{"monolith", c.MonolithURL}, {"async monolith", c.MonolithAsyncURL},
		{"event-driven", c.EventDrivenURL}, {"vision", c.VisionURL}, {"Prometheus", c.PrometheusURL}} {
		if !demo.HTTPURL(u.url) {
			bad("%s URL %q is not an http(s) URL", u.name, u.url)
		}
	}
	if len(c.Secret) < auth.MinSecretLen {
		bad("the secret is shorter than %d bytes", auth.MinSecretLen)
	}
	if !(c.MaxRate > 0 && c.MaxRate <= 1000) {
		bad("the highest rate must be above 0 and at most 1000 per second, got %g", c.MaxRate)
	}
	if !(c.Rate > 0 && c.Rate <= c.MaxRate) {
		bad("the rate must be above 0 and at most %g per second, got %g", c.MaxRate, c.Rate)
	}
	if c.MaxLoad <= 0 || c.MaxLoad > MaxMaxLoad {
		bad("the load's limit must be above 0 and at most %s, got %s", MaxMaxLoad, c.MaxLoad)
	}
	if c.Users <= 0 || c.Timeout <= 0 || c.Tick <= 0 {
		bad("users, timeout and tick must be positive")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Session is a live session: the load on the three variants, the frames
// taken of them, the timeline of what was pressed, and the pages watching.
// New prepares one; Run takes frames until its context ends.
type Session struct {
	cfg      Config
	start    time.Time
	vars     []*variant
	vis      vision.Admin
	original json.RawMessage // the vision profile found at the start, put back at the end
	client   *http.Client
	photos   *loadgen.PhotoSet

	mu       sync.Mutex
	load     LoadState
	loadGen  int // counts starts of the load, so that a run ending late does not stop a newer one
	vision   string
	marks    []Mark
	frames   []Frame // the history, without photo strips
	latest   Frame
	counters map[string]float64 // per-process counters' last values (cold starts, DLQ, reconciled)
	totals   map[string]float64 // their increases since the session started
	baseline map[string]bool    // the kinds of counters read once (a kind's first reading is its baseline)
	est      map[string]estimate.Estimate
	estAt    time.Time
	scene    *sceneRun
	caption  string
	subs     map[chan struct{}]struct{}
	busy     func() error
	control  sync.Mutex    // one control at a time
	ended    chan struct{} // closed when Run returns: the pages' streams end
}

// New checks that every app accepts the session's tokens, records the
// vision service's profile and sets it to the demos' baseline (a remote
// API: median 60 ms, p99 250 ms).
func New(ctx context.Context, c Config) (*Session, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	s := &Session{cfg: c, start: time.Now(), client: &http.Client{Timeout: 10 * time.Second},
		counters: map[string]float64{}, totals: map[string]float64{}, baseline: map[string]bool{}, est: map[string]estimate.Estimate{},
		subs: map[chan struct{}]struct{}{}, ended: make(chan struct{}), load: LoadState{Shape: ShapeConstant, Rate: c.Rate}, vision: VisionHealthy}
	s.vis = vision.Admin{BaseURL: strings.TrimSuffix(c.VisionURL, "/"), Client: s.client}
	s.busy = func() error { return nil }
	photos, err := loadgen.LoadPhotos(demo.Photos, c.Seed, c.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	s.photos = photos
	urls := map[string]string{demo.Monolith: c.MonolithURL, demo.MonolithAsync: c.MonolithAsyncURL, demo.EventDriven: c.EventDrivenURL}
	for _, name := range Variants {
		tgt, err := s.newTarget(urls[name])
		if err != nil {
			return nil, fmt.Errorf("live: %w", err)
		}
		if err := demo.CheckAuth(ctx, s.client, name, tgt); err != nil {
			return nil, fmt.Errorf("live: %w", err)
		}
		s.vars = append(s.vars, &variant{name: name, label: demo.Label(name), url: urls[name], target: tgt.PhotoRequest})
	}
	if s.original, err = s.vis.Get(ctx); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	if _, err := s.vis.Put(ctx, s.original); err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	if _, err := s.vis.Patch(ctx, demo.DefaultBaseline); err != nil {
		return nil, fmt.Errorf("live: set the vision baseline: %w", err)
	}
	return s, nil
}

// SetBusy installs the check the controls ask first (ops.Busy for the
// stack): an error refuses the control with its message.
func (s *Session) SetBusy(f func() error) { s.busy = f }

func (s *Session) newTarget(base string) (*loadgen.APITarget, error) {
	return loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: strings.TrimSuffix(base, "/"), Secret: s.cfg.Secret,
		Users: s.cfg.Users, Seed: s.cfg.Seed, TokenTTL: auth.MaxLifetime, Photos: s.photos})
}

// Run takes a frame every Tick and sends it to the pages until ctx ends;
// then it stops the load, waits for it, and puts the vision profile back
// as it was found.
func (s *Session) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	s.frame(ctx, time.Now())
	for {
		select {
		case <-ctx.Done():
			close(s.ended)
			s.StopScene()
			s.stopLoad("session ended")
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := s.vis.Put(rctx, s.original); err != nil {
				return fmt.Errorf("live: put the vision profile back: %w", err)
			}
			return nil
		case now := <-t.C:
			s.frame(ctx, now)
		}
	}
}

// Frames returns a copy of the frames kept.
func (s *Session) Frames() []Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Frame(nil), s.frames...)
}

// Marks returns a copy of the timeline.
func (s *Session) Marks() []Mark {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mark(nil), s.marks...)
}

// State returns the load and the vision state as set now (the last frame
// may be up to a tick older).
func (s *Session) State() (LoadState, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load, s.vision
}

// Latest returns the last frame (zero before the first).
func (s *Session) Latest() Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest
}

// mark adds an entry to the timeline and logs it.
func (s *Session) mark(kind, label string, err error) Mark {
	now := time.Now()
	m := Mark{At: now, Elapsed: now.Sub(s.start).Seconds(), Kind: kind, Label: label}
	if err != nil {
		m.Error = err.Error()
	}
	s.mu.Lock()
	s.marks = append(s.marks, m)
	if len(s.marks) > MaxMarks {
		s.marks = append(s.marks[:0], s.marks[len(s.marks)-MaxMarks:]...)
	}
	s.mu.Unlock()
	line := fmt.Sprintf("live: %5.0fs %s: %s", m.Elapsed, kind, label)
	if m.Error != "" {
		line += " (failed: " + m.Error + ")"
	}
	fmt.Fprintln(s.cfg.Log, line)
	return m
}

// MaxMarks bounds the timeline (a presenter pressing a button a second for
// two hours stays under it).
const MaxMarks = 10000

// frame takes the frame of now, keeps it and sends it to the pages.
func (s *Session) frame(ctx context.Context, now time.Time) {
	f := Frame{At: now, Elapsed: now.Sub(s.start).Seconds()}
	for _, v := range s.vars {
		vf := VariantFrame{Name: v.name, Label: v.label, Backlog: NA, DLQ: NA, Reconciled: NA, CPU: NA, CostPerMillion: NA}
		v.figures(now, &vf)
		f.Variants = append(f.Variants, vf)
	}
	qctx, cancel := context.WithTimeout(ctx, 900*time.Millisecond)
	s.fromPrometheus(qctx, &f)
	cancel()
	s.estimates(ctx, now, &f)
	s.fetchStages(ctx)

	s.mu.Lock()
	f.Load, f.Vision = s.load, s.vision
	if s.scene != nil {
		f.Scene = s.scene.scene.Name
	}
	f.Caption = s.caption
	s.latest = f
	kept := f // the history keeps no photo strips: only the latest frame shows them
	kept.Variants = slices.Clone(f.Variants)
	for i := range kept.Variants {
		kept.Variants[i].Photos = nil
	}
	s.frames = append(s.frames, kept)
	if len(s.frames) > MaxFrames {
		// Copy down rather than reslice, so the array does not grow.
		s.frames = append(s.frames[:0], s.frames[len(s.frames)-MaxFrames:]...)
	}
	s.mu.Unlock()
	s.broadcast()
}

// functionNames are the event-driven app's scaled functions, in the
// registry's order: the columns of its replica figures.
var functionNames = deploy.Names(deploy.TriggerHTTP, deploy.TriggerEvent)

// The event-driven app's figures read from Prometheus. Counters are read
// per process (instance) and their increases added up, so that a replica
// that exits does not read as a counter reset of the sum.
const (
	qJobs       = `sum(photobench_monolith_jobs{architecture="monolith-async"%s})`
	qLag        = `sum by (function) (photobench_runtime_lag{architecture="eventdriven"%s})`
	qReplicas   = `sum by (function) (photobench_runtime_replicas{architecture="eventdriven"%s})`
	qDesired    = `sum by (function) (photobench_runtime_desired_replicas{architecture="eventdriven"%s})`
	qColdStarts = `sum by (instance, function) (photobench_runtime_cold_start_seconds_count{architecture="eventdriven",phase="process_ready"%s})`
	qDLQ        = `sum by (instance, component, topic) (photobench_dlq_writes_total{architecture="eventdriven"%s})`
	qReconciled = `sum by (instance, function) (photobench_reconciled_total{architecture="eventdriven"%s})`
)

// fromPrometheus fills in the backlogs, the functions and the counters.
func (s *Session) fromPrometheus(ctx context.Context, f *Frame) {
	sel := ""
	if s.cfg.HaveStack {
		sel = `,` + promsd.AppSetLabel + `="` + s.cfg.Stack.AppSet() + `"`
	}
	exprs := []string{qJobs, qLag, qReplicas, qDesired, qColdStarts, qDLQ, qReconciled}
	answers := make([][]promsd.Sample, len(exprs))
	errs := make([]error, len(exprs))
	var wg sync.WaitGroup
	for i, e := range exprs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = promsd.Query(ctx, s.client, s.cfg.PrometheusURL, fmt.Sprintf(e, sel))
		}()
	}
	wg.Wait()
	async, ed := &f.Variants[1], &f.Variants[2]
	if errs[0] == nil {
		async.BacklogUnit = "jobs"
		async.Backlog = Num(sum(answers[0]))
	}
	fns := map[string]*FunctionFrame{}
	function := func(name string) *FunctionFrame {
		if fns[name] == nil {
			fns[name] = &FunctionFrame{Name: name, Replicas: NA, Desired: NA, Lag: NA, ColdStarts: NA}
		}
		return fns[name]
	}
	for _, fn := range functionNames {
		function(fn)
	}
	if errs[1] == nil {
		ed.BacklogUnit = "messages"
		ed.Backlog = Num(sum(answers[1]))
		for _, a := range answers[1] {
			function(a.Labels["function"]).Lag = Num(a.Value)
		}
	}
	for _, a := range answers[2] {
		function(a.Labels["function"]).Replicas = Num(a.Value)
	}
	for _, a := range answers[3] {
		function(a.Labels["function"]).Desired = Num(a.Value)
	}
	s.mu.Lock()
	if errs[4] == nil {
		cold := s.increases("cold", answers[4], "function")
		for fn, v := range cold {
			function(fn).ColdStarts = Num(v)
		}
	}
	if errs[5] == nil {
		ed.DLQ = Num(sumMap(s.increases("dlq", answers[5], "")))
	}
	if errs[6] == nil {
		ed.Reconciled = Num(sumMap(s.increases("reconciled", answers[6], "")))
	}
	s.mu.Unlock()
	for _, fn := range functionNames {
		ed.Functions = append(ed.Functions, *fns[fn])
	}
}

// increases adds up the per-process counters' rises since the session
// started, by the label by ("" for one total), and returns the totals.
// The kind's first reading is only a baseline; a series seen for the
// first time after it (a new replica) counts from 0; a value below the
// last one (a restarted process with the same address) counts from 0
// again. Called with s.mu held.
func (s *Session) increases(kind string, samples []promsd.Sample, by string) map[string]float64 {
	first := !s.baseline[kind]
	s.baseline[kind] = true
	out := map[string]float64{}
	for _, smp := range samples {
		key := kind + "\x00" + labelKey(smp.Labels)
		group := kind + "\x00" + smp.Labels[by]
		last, seen := s.counters[key]
		switch {
		case first:
		case !seen || smp.Value < last:
			s.totals[group] += smp.Value
		default:
			s.totals[group] += smp.Value - last
		}
		s.counters[key] = smp.Value
	}
	for group, v := range s.totals {
		if k, name, _ := strings.Cut(group, "\x00"); k == kind {
			out[name] = v
		}
	}
	return out
}

func labelKey(l map[string]string) string {
	b, _ := json.Marshal(l) // map keys are sorted
	return string(b)
}

func sum(ss []promsd.Sample) float64 {
	t := 0.0
	for _, s := range ss {
		t += s.Value
	}
	return t
}

func sumMap(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}

// estimateEvery is how often the CPU and cost estimates are taken: each is
// a capture of the report's queries over CostWindow and a run of the cost
// model (about 0.1 s per variant).
const estimateEvery = 5 * time.Second

// estimates fills in each variant's CPU and cost: the last estimate, taken
// anew every estimateEvery on a goroutine of its own.
func (s *Session) estimates(ctx context.Context, now time.Time, f *Frame) {
	if s.cfg.Estimator == nil {
		for i := range f.Variants {
			f.Variants[i].CostNote = "no estimate: the session does not know the stack"
		}
		return
	}
	s.mu.Lock()
	due := now.Sub(s.estAt) >= estimateEvery
	if due {
		s.estAt = now
	}
	for i := range f.Variants {
		vf := &f.Variants[i]
		if e, ok := s.est[vf.Label]; ok {
			vf.CPU, vf.CPUNote = Num(e.CPUCores), e.CPUNote
			vf.CostOption, vf.CostNote = e.Option, e.Note
			if e.OK {
				vf.CostPerMillion = Num(e.PerMillionUSD)
			}
		} else {
			vf.CostNote = "not measured yet"
		}
	}
	s.mu.Unlock()
	if !due {
		return
	}
	from := now.Add(-CostWindow)
	if exp := s.cfg.Estimator.Exporter; exp != nil && from.Before(exp.Since()) {
		from = exp.Since()
	}
	for _, v := range s.vars {
		uploads, ok, sent, polls := v.counts(now, now.Sub(from))
		go func() {
			ectx, cancel := context.WithTimeout(ctx, 4*time.Second)
			defer cancel()
			e, err := s.cfg.Estimator.Estimate(ectx, v.label, from, now,
				estimate.LoadCounts{Uploads: uploads, Requests: ok, Sent: sent, Polls: polls})
			if err != nil {
				e = estimate.Estimate{CPUCores: float64(NA), PerMillionUSD: float64(NA), Note: "not measured: " + err.Error()}
			}
			s.mu.Lock()
			s.est[v.label] = e
			s.mu.Unlock()
		}()
	}
}
