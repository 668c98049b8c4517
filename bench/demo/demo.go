// Package demo runs photobench's workshop demonstrations of coupling: the
// same modest load drives the monolith, the async monolith and the
// event-driven app at the same time, the vision service (the stand-in for a
// cloud API all three depend on) misbehaves for a while, and a one-screen
// summary shows side by side what each architecture made of it: the
// monolith against the async monolith is coupling in time (vision inside
// the request or after it), the async monolith against the event-driven app
// is one process against many. A demo takes about two and a half minutes
// against the stack `make up` runs.
//
// Play runs a demo; Run (command.go) is `photobench demo NAME`, which reads
// its flags, checks that the stack answers and nobody else loads it, and
// prints the summary.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/internal/sleep"
	"github.com/photobench/photobench/loadgen"
	"github.com/photobench/photobench/vision"
)

// The architectures' display names, in the order demos show them.
const (
	Monolith      = "monolith"
	MonolithAsync = "async monolith"
	EventDriven   = "event-driven"
)

// Archs lists the architectures' display names in that order.
var Archs = []string{Monolith, MonolithAsync, EventDriven}

// The phases of every demo: the fault is injected for the whole of
// PhaseFault.
const (
	PhaseBefore = "before"
	PhaseFault  = "fault"
	PhaseAfter  = "after"
)

// Phases lists the phases in order.
var Phases = []string{PhaseBefore, PhaseFault, PhaseAfter}

// Fault is one demonstration: how the vision service misbehaves during the
// fault phase.
type Fault struct {
	Name  string // on the command line, e.g. vision-outage
	Title string // what happens, for the summary's first line
	Noun  string // what the conclusion calls the fault: "outage", "slowdown"
	// Patch holds the vision.Profile fields merged into the service's
	// profile when the fault starts (PATCH /admin/profile).
	Patch json.RawMessage
}

// The demonstrations.
var (
	// VisionOutage: every analyze request is answered 503 at once.
	VisionOutage = Fault{Name: "vision-outage", Title: "vision fails fast (503 at once)", Noun: "outage",
		Patch: json.RawMessage(`{"outage":"fail"}`)}
	// SlowVision: analyze requests take ten times as long as the stack's
	// baseline (median 60 ms, p99 250 ms).
	SlowVision = Fault{Name: "slow-vision", Title: "vision answers 10x slower (median 600 ms, p99 2.5 s)",
		Noun: "slowdown", Patch: json.RawMessage(`{"latency":{"distribution":"lognormal","median_ms":600,"p99_ms":2500}}`)}
)

// Faults lists the demonstrations.
func Faults() []Fault { return []Fault{VisionOutage, SlowVision} }

// Names lists the demonstrations' names.
func Names() []string {
	var names []string
	for _, f := range Faults() {
		names = append(names, f.Name)
	}
	return names
}

// Lookup returns the demonstration called name.
func Lookup(name string) (Fault, bool) {
	for _, f := range Faults() {
		if f.Name == name {
			return f, true
		}
	}
	return Fault{}, false
}

// Config is one demo run. DefaultConfig fills in everything but the
// endpoints and the secret.
type Config struct {
	Fault            Fault
	MonolithURL      string // the monolith's public API
	MonolithAsyncURL string // the async monolith's public API
	EventDrivenURL   string // the event-driven app's public API (its front)
	VisionURL        string // the vision service, for /admin/profile
	PrometheusURL    string // the stack's Prometheus, for the backlogs; "" shows none
	Secret           []byte // signs the bearer tokens
	CacheDir         string // generated photos are kept here between runs; "" keeps none

	// Baseline holds the vision.Profile fields merged into the service's
	// profile for the whole demo (outside the fault too): the remote API's
	// normal behaviour. Nil leaves the profile as it is.
	Baseline json.RawMessage

	Rate                  float64       // requests per second, to each architecture
	Before, During, After time.Duration // the phases' lengths
	// ReadyTimeout is how long each accepted upload is followed until
	// ready; FollowUp bounds the whole wait after the schedule's end.
	ReadyTimeout, FollowUp time.Duration
	Tick                   time.Duration // a live line this often
	Sample                 time.Duration // the backlog is read this often
	Users                  int
	Seed                   uint64
	Timeout                time.Duration // per request

	// Check, optional, is called every Sample while the load runs; an error
	// (another load started against the stack, say) stops the demo with it.
	Check func() error

	// Exporter, optional, gives the live metrics of the load on one
	// architecture, named as in the bench's results ("monolith",
	// "monolith-async", "eventdriven"; see Label).
	Exporter func(arch string) *loadgen.Exporter
}

// Label is the architecture label of an architecture's display name, as the
// bench's results and the load generator's metrics spell it.
func Label(name string) string {
	switch name {
	case MonolithAsync:
		return "monolith-async"
	case EventDriven:
		return "eventdriven"
	}
	return name
}

// url is the public API of architecture name in c.
func (c Config) url(name string) string {
	return map[string]string{Monolith: c.MonolithURL, MonolithAsync: c.MonolithAsyncURL, EventDriven: c.EventDrivenURL}[name]
}

// backlogs are the architectures that queue work, and how their backlog is
// read from Prometheus: the async monolith's jobs not finished (River's
// job table, every state), the event-driven app's messages not yet
// handled (every event function's consumer-group lag, as the runtime's
// scaler last read it). The monolith queues nothing: the work is done
// inside the request.
var backlogs = map[string]struct{ query, unit string }{
	MonolithAsync: {`sum(photobench_monolith_jobs{architecture="monolith-async"})`, "jobs"},
	EventDriven:   {"sum(photobench_runtime_lag)", "messages"},
}

// Limits of a Config.
const (
	MaxRate      = 50.0
	MaxPhase     = 5 * time.Minute
	DefaultRate  = 4.0
	DefaultFault = 40 * time.Second
)

// DefaultBaseline is the vision service's normal behaviour during a demo, as
// in the bench's profiles: a remote API with a log-normal latency of median
// 60 ms and p99 250 ms.
var DefaultBaseline = json.RawMessage(`{"latency":{"distribution":"lognormal","median_ms":60,"p99_ms":250}}`)

// DefaultConfig is the two-minute demo of f: 4 requests per second to each
// architecture for 30 s before the fault, 40 s of fault and 40 s after, then
// at most 35 s more for accepted uploads to become ready; the vision service
// behaves as DefaultBaseline outside the fault.
func DefaultConfig(f Fault) Config {
	return Config{
		Fault: f, Baseline: DefaultBaseline, Rate: DefaultRate,
		Before: 30 * time.Second, During: DefaultFault, After: 40 * time.Second,
		ReadyTimeout: 90 * time.Second, FollowUp: 35 * time.Second,
		Tick: 5 * time.Second, Sample: time.Second,
		Users: 4, Seed: 7, Timeout: 15 * time.Second,
	}
}

// Duration is the demo's planned length, follow-up included.
func (c Config) Duration() time.Duration { return c.Before + c.During + c.After + c.FollowUp }

// Validate reports every problem of c at once, on one line.
func (c Config) Validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if _, ok := Lookup(c.Fault.Name); !ok {
		bad("unknown demo %q", c.Fault.Name)
	}
	for _, name := range Archs {
		if u := c.url(name); !HTTPURL(u) {
			bad("%s URL %q is not an http(s) URL", name, u)
		}
	}
	if !HTTPURL(c.VisionURL) {
		bad("vision URL %q is not an http(s) URL", c.VisionURL)
	}
	if c.PrometheusURL != "" && !HTTPURL(c.PrometheusURL) {
		bad("Prometheus URL %q is not an http(s) URL", c.PrometheusURL)
	}
	if len(c.Secret) < auth.MinSecretLen {
		bad("the secret is shorter than %d bytes", auth.MinSecretLen)
	}
	if !(c.Rate > 0 && c.Rate <= MaxRate) {
		bad("the rate must be above 0 and at most %g per second, got %g", MaxRate, c.Rate)
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"before", c.Before}, {"fault", c.During}, {"after", c.After}} {
		if d.d <= 0 || d.d > MaxPhase {
			bad("the %s phase must last more than 0 and at most %s, got %s", d.name, MaxPhase, d.d)
		}
	}
	if c.ReadyTimeout <= 0 || c.FollowUp < 0 || c.Tick <= 0 || c.Sample <= 0 || c.Users <= 0 || c.Timeout <= 0 {
		bad("ready timeout, tick, sample, users and timeout must be positive, follow-up not negative")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// HTTPURL reports whether s is an absolute http(s) URL with a host.
func HTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Photos are the demo's uploads: phone-sized, so that the vision service,
// not image processing, dominates.
var Photos = loadgen.PhotoSpec{Count: 16, Sizes: []loadgen.PhotoSize{{Megapixels: 0.3, Weight: 1}, {Megapixels: 1, Weight: 1}}}

// Scenario is the load each architecture gets: c.Rate requests per second
// (upload 60 %, get 20 %, list 20 %) through the three phases, accepted
// uploads followed until ready.
func Scenario(c Config) *loadgen.Scenario {
	phase := func(name string, d time.Duration) loadgen.Phase {
		return loadgen.Phase{Name: name, Duration: d, Pacer: loadgen.Constant{Rate: c.Rate}}
	}
	return &loadgen.Scenario{
		Name: "demo-" + c.Fault.Name, Seed: c.Seed, Users: c.Users, MaxInFlight: 64, Timeout: c.Timeout,
		Mix:    []loadgen.Weight{{Op: loadgen.OpUpload, Weight: 60}, {Op: loadgen.OpGet, Weight: 20}, {Op: loadgen.OpList, Weight: 20}},
		Phases: []loadgen.Phase{phase(PhaseBefore, c.Before), phase(PhaseFault, c.During), phase(PhaseAfter, c.After)},
		Photos: Photos, Ready: Follow(c.ReadyTimeout),
	}
}

// Follow is how demos and the live page follow uploads until ready, for
// at most timeout each: polls back off to 4 s, since upload-to-ready comes
// from the server's ready_at (slower polling loses no precision) and a
// backlog of pending photos must not become a load of its own.
func Follow(timeout time.Duration) loadgen.ReadyConfig {
	return loadgen.ReadyConfig{Follow: true, Timeout: timeout, MinPoll: 200 * time.Millisecond,
		MaxPoll: 4 * time.Second, MaxFollowing: loadgen.DefaultMaxFollowing}
}

// Outcome is what a demo run measured: the input of Summarize.
type Outcome struct {
	Fault Fault
	Rate  float64
	Users int
	// Start is when both schedules started; FaultStart and FaultEnd when the
	// fault was switched on and off (planned times if it never was); End when
	// the follow-up ended.
	Start, FaultStart, FaultEnd, End time.Time
	Durations                        [3]time.Duration // the planned phases
	Archs                            []ArchOutcome    // in the order of Archs
	Interrupted                      bool             // stopped early: Ctrl-C, or the error Play returns
	FollowUpCut                      bool             // uploads were still followed when the follow-up ran out
}

// ArchOutcome is one architecture's part of an Outcome.
type ArchOutcome struct {
	Name    string
	Summary loadgen.Summary
	// LastReady is, per phase, when the last of the phase's uploads that
	// became ready did (the server's ready_at).
	LastReady map[string]time.Time
	// Backlog is the architecture's queue of unfinished work as polled
	// from Prometheus (see backlogs): the async monolith's jobs, the
	// event-driven app's messages; none for the monolith. BacklogError
	// says why it is empty or short, if it is.
	Backlog      []BacklogSample
	BacklogError string
}

// BacklogSample is one reading of an architecture's backlog.
type BacklogSample struct {
	At    time.Time
	Value float64
}

// Play runs the demo: it checks the tokens against every app, records the
// vision service's profile and merges c.Baseline into it, drives every
// architecture at once, injects the fault for the fault phase (then
// returns to the baseline), writes a live line to live every c.Tick, and
// puts the recorded profile back at the end (also when ctx is cancelled or
// anything fails), unless someone else has changed it meanwhile. A
// cancelled ctx ends the run early with Interrupted set and no error; so
// does a failed c.Check or fault switch, with an error.
func Play(ctx context.Context, c Config, live io.Writer) (out Outcome, err error) {
	if err := c.Validate(); err != nil {
		return out, fmt.Errorf("demo: %w", err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	vis := &visionAdmin{admin: vision.Admin{BaseURL: strings.TrimSuffix(c.VisionURL, "/"), Client: client}}
	original, err := vis.get(ctx)
	if err != nil {
		return out, fmt.Errorf("demo: %w", err)
	}
	vis.last = original // the demo changes the profile only while it stays as the demo saw or set it
	runs, err := newArchRuns(ctx, c, client)
	if err != nil {
		return out, fmt.Errorf("demo: %w", err)
	}

	// From here on the profile may change: put the recorded one back
	// whatever happens, unless someone else has changed it since (a bench
	// restarts the vision service with a profile of its own).
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if rerr := vis.putIfOwned(rctx, original); rerr != nil {
			err = errors.Join(err, fmt.Errorf("demo: restore the vision profile: %w; left as it is", rerr))
		}
	}()
	baseline := original // what the fault's end returns to
	if c.Baseline != nil {
		if err := vis.patch(ctx, c.Baseline); err != nil {
			return out, fmt.Errorf("demo: set the vision baseline: %w", err)
		}
		if baseline, err = vis.get(ctx); err != nil {
			return out, fmt.Errorf("demo: %w", err)
		}
	}

	start := time.Now()
	scheduleEnd := start.Add(c.Before + c.During + c.After)
	out = Outcome{Fault: c.Fault, Rate: c.Rate, Users: c.Users, Start: start,
		FaultStart: start.Add(c.Before), FaultEnd: start.Add(c.Before + c.During),
		Durations: [3]time.Duration{c.Before, c.During, c.After}}
	runCtx, cancel := context.WithDeadline(ctx, scheduleEnd.Add(c.FollowUp))
	defer cancel()

	var wg sync.WaitGroup
	var faultErr error
	faultStart, faultEnd := out.FaultStart, out.FaultEnd
	wg.Add(1)
	go func() {
		defer wg.Done()
		faultStart, faultEnd, faultErr = injectFault(runCtx, cancel, vis, c.Fault.Patch, baseline, faultStart, faultEnd)
	}()
	runErrs, done := startRuns(runCtx, runs)
	var checkErr error
	checkErr = watch(runCtx, cancel, done, c, start, runs, live)
	wg.Wait()

	out.FaultStart, out.FaultEnd = faultStart, faultEnd
	out.End = time.Now()
	out.Interrupted = ctx.Err() != nil || faultErr != nil || checkErr != nil
	out.FollowUpCut = !out.Interrupted && runCtx.Err() != nil
	for _, r := range runs {
		out.Archs = append(out.Archs, ArchOutcome{Name: r.name, Summary: r.summary(out.Interrupted), LastReady: r.lastReadyCopy(),
			Backlog: r.backlog, BacklogError: r.backlogErr})
	}
	if checkErr != nil {
		checkErr = fmt.Errorf("demo: stopped: %w", checkErr)
	}
	if err := errors.Join(append(runErrs, faultErr, checkErr)...); err != nil {
		return out, err
	}
	return out, nil
}

// newArchRuns prepares the demo's load on every architecture, in the order
// of Archs: the photos, a target per app whose tokens the app accepts, and
// each run's exporter when c has one.
func newArchRuns(ctx context.Context, c Config, client *http.Client) ([]*archRun, error) {
	var runs []*archRun
	photos, err := loadgen.LoadPhotos(Photos, c.Seed, c.CacheDir)
	if err != nil {
		return nil, err
	}
	sc := Scenario(c)
	for _, name := range Archs {
		tgt, err := loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: strings.TrimSuffix(c.url(name), "/"), Secret: c.Secret,
			Users: sc.Users, Seed: sc.Seed, TokenTTL: c.Duration() + time.Hour, Photos: photos})
		if err != nil {
			return nil, err
		}
		if err := CheckAuth(ctx, client, name, tgt); err != nil {
			return nil, err
		}
		r := newArchRun(name, sc, tgt)
		if c.Exporter != nil {
			r.api.Exporter = c.Exporter(Label(name))
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// injectFault patches the vision service with the fault at start and puts
// baseline back at end, both only while the profile is still the demo's.
// It returns when the fault actually started and ended (the planned times
// where it did not get that far) and cancels the run (cancel) when it
// cannot switch the fault: a demo without its fault shows nothing.
func injectFault(ctx context.Context, cancel func(), vis *visionAdmin, patch, baseline json.RawMessage, start, end time.Time) (time.Time, time.Time, error) {
	if !sleep.Until(ctx, start) {
		return start, end, nil
	}
	if err := vis.patchIfOwned(ctx, patch); err != nil {
		cancel()
		return start, end, fmt.Errorf("demo: inject the fault: %w", err)
	}
	start = time.Now()
	if !sleep.Until(ctx, end) {
		return start, time.Now(), nil // stopped early: the deferred restore ends it
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	if err := vis.putIfOwned(rctx, baseline); err != nil {
		cancel()
		return start, end, fmt.Errorf("demo: end the fault: %w", err)
	}
	return start, time.Now(), nil
}

// startRuns starts every run on its own goroutine; done is closed when all
// have returned, and errs then holds each one's error.
func startRuns(ctx context.Context, runs []*archRun) (errs []error, done <-chan struct{}) {
	errs = make([]error, len(runs))
	var running sync.WaitGroup
	for i, r := range runs {
		running.Add(1)
		go func() {
			defer running.Done()
			errs[i] = r.run(ctx)
		}()
	}
	ch := make(chan struct{})
	go func() { running.Wait(); close(ch) }()
	return errs, ch
}

// archRun is one architecture's APIRun and the live figures of it.
type archRun struct {
	name string
	api  *loadgen.APIRun
	rec  *loadgen.Recorder
	// backlog is written by watch alone, and read once the runs are over.
	backlog    []BacklogSample
	backlogErr string

	uploadsOK, uploadErrors atomic.Uint64
	ready                   atomic.Uint64
	mu                      sync.Mutex
	lastReady               map[string]time.Time
}

func newArchRun(name string, sc *loadgen.Scenario, tgt *loadgen.APITarget) *archRun {
	a := &archRun{name: name, lastReady: map[string]time.Time{}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = sc.MaxInFlight
	tr.MaxIdleConnsPerHost = sc.MaxInFlight
	a.api = &loadgen.APIRun{Scenario: sc, Target: tgt, Client: &http.Client{Transport: tr},
		Observe: a.observe, ObserveReady: a.observeReady}
	return a
}

func (a *archRun) run(ctx context.Context) error {
	rec, err := a.api.Run(ctx)
	if err != nil {
		return fmt.Errorf("demo: %s: %w", a.name, err)
	}
	a.rec = rec
	return nil
}

func (a *archRun) summary(partial bool) loadgen.Summary {
	if a.rec == nil {
		return loadgen.Summary{Partial: true, Phases: []loadgen.PhaseSummary{}}
	}
	return a.rec.Summary(partial)
}

func (a *archRun) observe(r loadgen.Result) {
	if r.Op != loadgen.OpUpload {
		return
	}
	switch r.Class() {
	case "ok":
		a.uploadsOK.Add(1)
	case "canceled":
	default:
		a.uploadErrors.Add(1)
	}
}

func (a *archRun) observeReady(r loadgen.ReadyResult) {
	if r.Outcome != loadgen.ReadyOK {
		return
	}
	a.ready.Add(1)
	at := r.Upload.Intended.Add(r.Latency())
	a.mu.Lock()
	if at.After(a.lastReady[r.PhaseName]) {
		a.lastReady[r.PhaseName] = at
	}
	a.mu.Unlock()
}

func (a *archRun) lastReadyCopy() map[string]time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := make(map[string]time.Time, len(a.lastReady))
	for k, v := range a.lastReady {
		m[k] = v
	}
	return m
}

// watch samples the backlogs every c.Sample into each run that has one,
// and writes a live line every c.Tick, until done is closed or ctx ends.
// When c.Check fails, it cancels the run and returns that error.
func watch(ctx context.Context, cancel func(), done <-chan struct{}, c Config, start time.Time, runs []*archRun, live io.Writer) (checkErr error) {
	client := &http.Client{Timeout: 2 * time.Second}
	for _, r := range runs {
		if _, ok := backlogs[r.name]; ok && c.PrometheusURL == "" {
			r.backlogErr = "no Prometheus URL"
		}
	}
	tick := time.NewTicker(c.Sample)
	defer tick.Stop()
	nextLine := start.Add(c.Tick)
	for {
		select {
		case <-done:
			return checkErr
		case <-ctx.Done():
			<-done // the runs end at once when ctx does
			return checkErr
		case now := <-tick.C:
			if c.Check != nil && checkErr == nil {
				if checkErr = c.Check(); checkErr != nil {
					cancel()
					continue
				}
			}
			if c.PrometheusURL != "" {
				for _, r := range runs {
					r.sampleBacklog(ctx, client, c.PrometheusURL, now)
				}
			}
			if !now.Before(nextLine) {
				nextLine = nextLine.Add(c.Tick)
				fmt.Fprintln(live, liveLine(now.Sub(start), c, runs))
			}
		}
	}
}

// sampleBacklog reads r's backlog from Prometheus, if r has one.
func (r *archRun) sampleBacklog(ctx context.Context, client *http.Client, promURL string, now time.Time) {
	b, ok := backlogs[r.name]
	if !ok {
		return
	}
	v, ok, err := queryBacklog(ctx, client, promURL, b.query)
	switch {
	case err != nil:
		r.backlogErr = err.Error()
	case !ok:
		r.backlogErr = fmt.Sprintf("Prometheus has no series for %s (does the %s run?)", b.query, r.name)
	default:
		r.backlog = append(r.backlog, BacklogSample{At: now, Value: v})
	}
}

// liveLine is the progress line at el into the run.
func liveLine(el time.Duration, c Config, runs []*archRun) string {
	var backlog []string
	for _, r := range runs {
		if b, ok := backlogs[r.name]; ok {
			v := "-"
			if n := len(r.backlog); n > 0 {
				v = fmt.Sprintf("%.0f", r.backlog[n-1].Value)
			}
			backlog = append(backlog, v+" "+b.unit)
		}
	}
	phase := PhaseAfter
	switch {
	case el < c.Before:
		phase = PhaseBefore
	case el < c.Before+c.During:
		phase = PhaseFault
	case el >= c.Before+c.During+c.After:
		var parts []string
		for _, r := range runs {
			parts = append(parts, fmt.Sprintf("%s following %d", r.name, r.api.Following()))
		}
		return fmt.Sprintf("%4.0fs follow-up  %s | backlog %s", el.Seconds(), strings.Join(parts, " | "), strings.Join(backlog, ", "))
	}
	var parts []string
	for _, r := range runs {
		parts = append(parts, fmt.Sprintf("%s %d ok %d err", r.name, r.uploadsOK.Load(), r.uploadErrors.Load()))
	}
	return fmt.Sprintf("%4.0fs %-10s uploads: %s | backlog %s", el.Seconds(), phase, strings.Join(parts, " | "), strings.Join(backlog, ", "))
}

// CheckAuth lists user 0's photos once, so that a secret the app does not
// share fails a demo or a live session before it starts instead of making
// every request a 401; an app that does not answer fails it too.
func CheckAuth(ctx context.Context, client *http.Client, name string, tgt *loadgen.APITarget) error {
	req, err := tgt.Target(ctx, loadgen.Hit{Op: loadgen.OpList, Intended: time.Now()})
	if err != nil {
		return fmt.Errorf("check the %s token: %w", name, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s at %s does not answer (is the stack up? make up): %w", name, req.URL.Host, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("the %s app at %s rejects our bearer tokens (401): does the secret match the servers'?", name, req.URL.Host)
	}
	return nil
}
