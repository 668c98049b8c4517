package bench

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/internal/atomicfile"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/sleep"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/loadgen"
	"github.com/photobench/photobench/vision"
)

// captureMargin widens the captured window on both sides of a run.
const captureMargin = results.CaptureMargin

func (b *bencher) gather() ([]*dto.MetricFamily, error) {
	b.mu.Lock()
	gs := prometheus.Gatherers{b.reg}
	if b.runReg != nil {
		gs = append(gs, b.runReg)
	}
	b.mu.Unlock()
	return gs.Gather()
}

func (b *bencher) stopMetrics() {
	if b.unreg != nil {
		_ = b.unreg()
	}
	if b.srv != nil {
		b.srv.Close()
	}
}

// appAddr is the host:port an app serves its /metrics on.
func appAddr(c stack.Config, app string) string {
	port := map[string]int{"vision": c.VisionPort, "monolith": c.MonolithPort, "monolith-async": c.MonolithAsyncPort,
		"runtime": c.RuntimePort, "front": c.FunctionPorts["front"]}[app]
	return fmt.Sprintf("%s:%d", c.Host, port)
}

// runOne runs one step, the index-th run made (1-based): start the
// architecture from its start state (on a target: take it as it is), run
// the scenario with its faults, collect, stop what it started. It returns
// the run and the state it started from.
func (b *bencher) runOne(ctx context.Context, s step, index int) (results.Run, results.RunStart) {
	run := results.Run{Arch: s.arch, Scenario: s.name, Repeat: s.repeat, Status: results.StatusOK,
		SweepRate: s.sweepRate,
		Dir:       filepath.Join("runs", fmt.Sprintf("%s-%s-%d", s.name, s.arch, s.repeat))}
	if s.exp.Sweep != nil {
		run.SweepPhase = s.exp.Sweep.Phase
	}
	rc, start := b.runStack(s, index)
	start.Dir = run.Dir
	dir := filepath.Join(b.cfg.Out, run.Dir)
	fail := func(err error) (results.Run, results.RunStart) {
		run.Status, run.Error = results.StatusFailed, brief.OneLine(err.Error())
		if ctx.Err() != nil { // interrupted, not broken
			run.Status, run.Error = results.StatusPartial, "interrupted before its schedule ran: "+run.Error
		}
		fmt.Fprintf(b.cfg.Log, "bench: %s %s run %d FAILED: %s\n", s.arch, s.name, s.repeat, run.Error)
		return run, start
	}
	if err := os.MkdirAll(filepath.Join(dir, "prom"), 0o755); err != nil {
		return fail(err)
	}
	what := "starting " + strings.Join(appsOf[s.arch], ", ")
	if t := b.cfg.Target; t != nil {
		what = "against " + b.apiURL(s.arch) + " (target " + t.Name + ")"
	}
	fmt.Fprintf(b.cfg.Log, "bench: [%d/%d] %s, %s, repeat %d (block %d, position %d): %s\n", b.current, len(b.steps),
		s.arch, s.name, s.repeat, s.block, s.position, what)
	start.Load = hostLoad(ctx, loadWindow)
	if b.cfg.Target == nil {
		defer b.dropRun(rc)
		started, err := stack.UpApps(ctx, rc, appsOf[s.arch], io.Discard)
		defer func() {
			if len(started) > 0 {
				_ = stack.Down(rc, started, io.Discard)
			}
		}()
		if err != nil {
			return fail(err)
		}
	}
	if b.stackKnown() {
		b.waitScraped(ctx, s.arch)
		b.observeStart(ctx, rc, s, &start)
	}
	var vis *visionAdmin
	if u := b.visionURL(); u != "" {
		vis = &visionAdmin{Admin: vision.Admin{BaseURL: u}, baseline: b.cfg.Profile.Vision}
		if err := vis.reset(ctx); err != nil {
			return fail(err)
		}
	}
	ld, err := b.newLoad(s)
	if err != nil {
		return fail(err)
	}
	defer ld.tr.CloseIdleConnections()
	rec, err := b.runSchedule(ctx, s, &run, ld, vis)
	if err != nil {
		return fail(err)
	}
	partial := b.record(ctx, &run, rec, ld, dir)
	b.capture(s.arch, &run, dir, partial)
	b.mu.Lock()
	b.runReg = nil
	b.mu.Unlock()
	all := allOps(run.Summary)
	fmt.Fprintf(b.cfg.Log, "bench: %s %s done: %d scheduled, %d ok, %d errors, %d dropped\n", s.arch, s.name,
		all.Scheduled, all.OK, all.Errors, all.Dropped)
	return run, start
}

// waitScraped waits until Prometheus has scraped every app of arch once:
// it discovers new targets in batches (up to 5 s), and the run's first
// seconds (the warm-up's cold starts) must be in its series. An app not
// scraped in 30 s is logged, not fatal.
func (b *bencher) waitScraped(ctx context.Context, arch string) {
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	for _, a := range appsOf[arch] {
		if err := promsd.WaitScraped(wctx, b.promURL(), appAddr(b.cfg.Stack, a), time.Now()); err != nil && ctx.Err() == nil {
			fmt.Fprintf(b.cfg.Log, "bench: %s: %v (its first seconds may be missing from the series)\n", a, brief.OneLine(err.Error()))
		}
	}
	wcancel()
}

// load is one run's load generator, ready to start, and what it records
// into: its transport, its interval log and the live counts.
type load struct {
	ar     *loadgen.APIRun
	tr     *http.Transport
	hlog   *bytes.Buffer
	ilog   *loadgen.IntervalLog
	counts *liveCounts
	t0     time.Time // time 0 of the schedule and of every timeline
}

// newLoad builds the load generator of step s against its architecture's
// API (loading the photos it uploads), and makes its exporter's registry the
// one the bench's metrics endpoint serves for the run.
func (b *bencher) newLoad(s step) (*load, error) {
	sc := s.sc
	var photos *loadgen.PhotoSet
	if sc.Uploads() {
		var err error
		if photos, err = loadgen.LoadPhotos(sc.Photos, sc.Seed, b.cfg.Cache); err != nil {
			return nil, err
		}
	}
	tgt, err := loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: b.apiURL(s.arch), Secret: b.cfg.Secret,
		Users: sc.Users, Seed: sc.Seed, TokenTTL: sc.Duration() + sc.Ready.Timeout + time.Hour, Photos: photos})
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	exporter := loadgen.NewExporter(reg, s.arch)
	b.mu.Lock()
	b.runReg = reg
	b.mu.Unlock()

	ld := &load{hlog: &bytes.Buffer{}, counts: &liveCounts{}}
	ld.tr = http.DefaultTransport.(*http.Transport).Clone()
	ld.tr.MaxIdleConns = sc.MaxInFlight
	ld.tr.MaxIdleConnsPerHost = sc.MaxInFlight
	ld.t0 = time.Now()
	if ld.ilog, err = loadgen.NewIntervalLog(ld.hlog, ld.t0, time.Second); err != nil {
		return nil, err
	}
	ld.ar = &loadgen.APIRun{Scenario: sc, Target: tgt, Client: &http.Client{Transport: ld.tr}, Exporter: exporter, Log: ld.ilog,
		Observe: ld.counts.add}
	return ld, nil
}

// runSchedule runs the scenario's schedule with its faults injected on
// their own goroutine and the live line updated, and records into run the
// planned phase windows, the faults and the schedule's bounds.
func (b *bencher) runSchedule(ctx context.Context, s step, run *results.Run, ld *load, vis *visionAdmin) (*loadgen.Recorder, error) {
	sc, t0 := s.sc, ld.t0
	var at time.Duration
	for _, ph := range sc.Phases {
		run.Phases = append(run.Phases, results.Window{Name: ph.Name, Warmup: ph.Warmup,
			Start: t0.Add(at).UTC(), End: t0.Add(at + ph.Duration).UTC(), Description: loadgen.Describe(ph.Pacer)})
		at += ph.Duration
	}
	fctx, stopFaults := context.WithCancel(ctx)
	var faults []results.Window
	var fwg sync.WaitGroup
	fwg.Add(1)
	go func() {
		defer fwg.Done()
		faults = b.injectFaults(fctx, s, t0, vis)
	}()
	stopLive := b.live(s, t0, ld.ar, ld.counts)

	run.Start = t0.UTC()
	run.End = t0.Add(sc.Duration()).UTC()
	fmt.Fprintf(b.cfg.Log, "bench: %s: schedule started (%s)\n", s.arch, fmtDur(sc.Duration()))
	rec, err := ld.ar.Run(ctx)
	stopLive()
	stopFaults()
	fwg.Wait()
	run.Faults = faults
	return rec, err
}

// record puts the finished schedule's figures into run (its summary and
// timeline; partial when ctx was interrupted) and writes them, with the
// interval log, into the run's directory. It reports whether the run is
// partial.
func (b *bencher) record(ctx context.Context, run *results.Run, rec *loadgen.Recorder, ld *load, dir string) bool {
	run.Drain = time.Now().UTC()
	partial := ctx.Err() != nil
	if partial {
		run.Status = results.StatusPartial
		run.End = run.Drain
	}
	run.Summary = rec.Summary(partial)
	if err := ld.ilog.Close(); err == nil {
		_ = atomicfile.Write(filepath.Join(dir, "latency.hlog"), ld.hlog.Bytes(), 0o644)
		run.Timeline = timeline(ld.hlog.Bytes(), ld.t0)
	}
	_ = atomicfile.WriteJSON(filepath.Join(dir, "summary.json"), run.Summary)
	return partial
}

// capture waits until Prometheus has scraped past the run's window (at
// once when the run is partial), then queries every series of arch over it
// into run and dir/prom. A fresh context: an interrupted run keeps what it
// collected. Queries that fail are named in run.Error.
func (b *bencher) capture(arch string, run *results.Run, dir string, partial bool) {
	cctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	end := run.Drain.Add(captureMargin)
	if !partial {
		fmt.Fprintf(b.cfg.Log, "bench: %s: schedule done, all uploads final; capturing\n", arch)
		time.Sleep(time.Until(end))
	}
	_ = promsd.WaitScraped(cctx, b.promURL(), b.metrics, end)
	run.Series = map[string][]results.Series{}
	var problems []string
	for _, q := range results.QueriesFor(arch, b.appSet()) {
		raw, series, err := QueryRange(cctx, b.promURL(), q.Expr, run.Start.Add(-captureMargin), end, time.Second)
		if err != nil {
			problems = append(problems, q.Name+": "+err.Error())
			continue
		}
		_ = atomicfile.Write(filepath.Join(dir, "prom", q.Name+".json"), raw, 0o644)
		run.Series[q.Name] = series
	}
	if len(problems) > 0 {
		run.Error = "capture: " + brief.OneLine(strings.Join(problems, "; "))
		fmt.Fprintf(b.cfg.Log, "bench: %s\n", run.Error)
	}
}

// allOps sums the non-warm-up phases' totals.
func allOps(s loadgen.Summary) loadgen.Stats {
	var t loadgen.Stats
	for _, p := range s.Phases {
		t.Scheduled += p.All.Scheduled
		t.OK += p.All.OK
		t.Errors += p.All.Errors
		t.Dropped += p.All.Dropped
	}
	return t
}

// injectFaults applies the step's faults at their phases and returns their
// windows as they happened.
func (b *bencher) injectFaults(ctx context.Context, s step, t0 time.Time, vis *visionAdmin) []results.Window {
	var out []results.Window
	type timed struct {
		f          Fault
		start, end time.Time
	}
	var plan []timed
	for _, f := range s.exp.Faults {
		var at time.Duration
		for _, ph := range s.sc.Phases {
			if ph.Name == f.Phase {
				plan = append(plan, timed{f, t0.Add(at + f.After), t0.Add(at + ph.Duration)})
				break
			}
			at += ph.Duration
		}
	}
	for _, p := range plan {
		if !sleep.Until(ctx, p.start) {
			return out
		}
		w := results.Window{Name: p.f.Text, Start: time.Now().UTC()}
		switch {
		case p.f.Vision != nil && vis == nil:
			w.Description = "vision profile " + string(p.f.Vision) + " (not injected: the target has no vision admin API)"
			w.NotInjected = true
			sleep.Until(ctx, p.end) // the planned window, for the record
		case p.f.Vision != nil:
			w.Description = "vision profile " + string(p.f.Vision)
			if err := vis.patch(ctx, p.f.Vision); err != nil {
				w.Description += " (FAILED: " + brief.OneLine(err.Error()) + ")"
			}
			sleep.Until(ctx, p.end)
			rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := vis.reset(rctx); err != nil {
				w.Description += " (reset FAILED: " + brief.OneLine(err.Error()) + ")"
			}
			cancel()
		case p.f.Restart != "":
			w.Description = "restart of " + p.f.Restart
			if err := b.restart(ctx, p.f.Restart); errors.Is(err, errNoHook) {
				w.Description += " (" + err.Error() + ")"
				w.NotInjected = true
			} else if err != nil {
				w.Description += " (FAILED: " + brief.OneLine(err.Error()) + ")"
			}
		}
		w.End = time.Now().UTC()
		out = append(out, w)
		fmt.Fprintf(b.cfg.Log, "bench: fault %q from %s to %s\n", w.Name, w.Start.Sub(t0).Round(time.Second), w.End.Sub(t0).Round(time.Second))
	}
	return out
}

// visionAdmin sets the vision service's profile: the profile's baseline, or
// a fault's fields merged into it.
type visionAdmin struct {
	vision.Admin
	baseline any
}

func (v *visionAdmin) reset(ctx context.Context) error {
	body, err := json.Marshal(v.baseline)
	if err != nil {
		return err
	}
	_, err = v.Put(ctx, body)
	return err
}

func (v *visionAdmin) patch(ctx context.Context, fields json.RawMessage) error {
	_, err := v.Patch(ctx, fields)
	return err
}

// QueryRange runs one range query against the Prometheus at promURL and
// returns its answer as it came and its series: how a run's series are
// captured (and the live page's cost estimate, package bench/live/estimate).
func QueryRange(ctx context.Context, promURL, expr string, start, end time.Time, step time.Duration) ([]byte, []results.Series, error) {
	q := url.Values{}
	q.Set("query", expr)
	q.Set("start", fmt.Sprintf("%.3f", float64(start.UnixMilli())/1e3))
	q.Set("end", fmt.Sprintf("%.3f", float64(end.UnixMilli())/1e3))
	q.Set("step", fmt.Sprintf("%gs", step.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, promURL+"/api/v1/query_range", strings.NewReader(q.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return raw, nil, fmt.Errorf("query_range: %s: %w", resp.Status, err)
	}
	if body.Status != "success" {
		return raw, nil, fmt.Errorf("query_range: %s", body.Error)
	}
	var out []results.Series
	for _, r := range body.Data.Result {
		s := results.Series{Labels: r.Metric}
		for _, v := range r.Values {
			t, ok1 := v[0].(float64)
			str, ok2 := v[1].(string)
			var f float64
			if _, err := fmt.Sscan(str, &f); !ok1 || !ok2 || err != nil {
				continue
			}
			if math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
			s.Points = append(s.Points, [2]float64{t, f})
		}
		out = append(out, s)
	}
	return raw, out, nil
}

// timeline turns the run's interval log into per-second points.
func timeline(hlog []byte, t0 time.Time) []results.Point {
	ivs, err := loadgen.ReadIntervalLog(bytes.NewReader(hlog))
	if err != nil {
		return nil
	}
	type key struct {
		t  float64
		op string
	}
	merged := map[key]*results.Point{}
	var out []results.Point
	for _, iv := range ivs {
		op := string(iv.Op())
		switch iv.Kind() {
		case "latency":
		case "ready":
			op = "ready"
		default:
			continue
		}
		if iv.Hist.TotalCount() == 0 {
			continue
		}
		k := key{math.Round(iv.Start.Sub(t0).Seconds()), op}
		p := merged[k]
		if p == nil {
			p = &results.Point{T: k.t, Op: op}
			merged[k] = p
		}
		// One interval per phase and op; phases do not overlap in time
		// except at a boundary second, where the larger count wins.
		if iv.Hist.TotalCount() > p.Count {
			p.Count = iv.Hist.TotalCount()
			p.P50 = float64(iv.Hist.ValueAtQuantile(50)) / 1e6
			p.P99 = float64(iv.Hist.ValueAtQuantile(99)) / 1e6
			p.Max = float64(iv.Hist.Max()) / 1e6
		}
	}
	for _, p := range merged {
		out = append(out, *p)
	}
	sortPoints(out)
	return out
}

func sortPoints(ps []results.Point) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].T != ps[j].T {
			return ps[i].T < ps[j].T
		}
		return ps[i].Op < ps[j].Op
	})
}

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}

// liveCounts are the totals for the live view.
type liveCounts struct {
	sent, errors, dropped atomic.Int64
}

func (c *liveCounts) add(r loadgen.Result) {
	if !r.Sent.IsZero() {
		c.sent.Add(1)
	}
	switch r.Class() {
	case "ok", "canceled":
	case "dropped":
		c.dropped.Add(1)
	default:
		c.errors.Add(1)
	}
}

// live shows where the bench is: the run, its phase, time left.
func (b *bencher) live(s step, t0 time.Time, ar *loadgen.APIRun, c *liveCounts) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		every := time.Second
		if b.cfg.Live == nil {
			every = 15 * time.Second
		}
		t := time.NewTicker(every)
		defer t.Stop()
		line := func(now time.Time) string {
			el := now.Sub(t0)
			end := t0.Add(s.sc.Duration())
			pi, off := s.sc.PhaseAt(el)
			ph := s.sc.Phases[pi]
			where := fmt.Sprintf("%s %3.0f/%.0fs", ph.Name, off.Seconds(), ph.Duration.Seconds())
			if ar.Draining() {
				where = fmt.Sprintf("following %d uploads until ready", ar.Following())
			}
			return fmt.Sprintf("[%d/%d %s] %s · run %s/%s · bench ~%s left · sent %d · in flight %d · errors %d · dropped %d",
				b.current, len(b.steps), s.arch, where, fmtDur(el), fmtDur(s.sc.Duration()),
				fmtDur(b.left(now, end)+runOverhead), c.sent.Load(), ar.InFlight(), c.errors.Load(), c.dropped.Load())
		}
		for {
			select {
			case <-done:
				if b.cfg.Live != nil {
					fmt.Fprint(b.cfg.Live, "\r"+line(time.Now())+"\x1b[K\n")
				}
				return
			case now := <-t.C:
				if b.cfg.Live != nil {
					fmt.Fprint(b.cfg.Live, "\r"+line(now)+"\x1b[K")
				} else {
					fmt.Fprintln(b.cfg.Log, "bench: "+line(now))
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func fmtDur(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// Fingerprint describes this machine, the stack's versions (the servers',
// the JVM that runs Kafka, Go's) and the commit of the photobench binary
// that runs the apps (c.AppBinary). The host's load is RunProfile's to
// sample.
func Fingerprint(c stack.Config) results.Machine {
	m := hostFingerprint()
	m.Versions["kafka"] = stack.Versions["KAFKA_VERSION"]
	m.Versions["minio"] = stack.Versions["MINIO_VERSION"]
	m.Versions["prometheus"] = stack.Versions["PROMETHEUS_VERSION"]
	if out, err := execOutput(filepath.Join(c.PGBinDir, "postgres"), "--version"); err == nil {
		m.Versions["postgresql"] = strings.TrimSpace(strings.TrimPrefix(out, "postgres (PostgreSQL)"))
	}
	// The JVM that runs Kafka: `java -version` prints to stderr, e.g.
	// openjdk version "17.0.13" 2024-10-15.
	if out, err := exec.Command(c.Java, "-version").CombinedOutput(); err == nil {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		m.Versions["java"] = first
	}
	binaryFingerprint(&m, c.AppBinary)
	return m
}

// binaryFingerprint records the commit and Go build of a photobench binary.
func binaryFingerprint(m *results.Machine, binary string) {
	m.Commit, m.Dirty, m.CommitSource = commitOf(binary)
	if info, err := buildinfo.ReadFile(binary); err == nil {
		m.Versions["photobench"] = info.GoVersion + " " + info.Main.Version
	}
}

// hostFingerprint describes this machine: its CPU, memory, kernel, OS and
// Go's version.
func hostFingerprint() results.Machine {
	m := results.Machine{Cores: runtime.NumCPU(), Versions: map[string]string{"go": runtime.Version()}}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb uint64
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "MemTotal:") {
				fmt.Sscan(strings.TrimSpace(strings.TrimPrefix(l, "MemTotal:")), &kb)
			}
		}
		m.MemoryBytes = kb * 1024
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	return m
}

// commitOf is the git commit the binary was built from and whether its
// tree was dirty, from its build info (go build stamps vcs.revision and
// vcs.modified inside a git checkout), else from the working tree's git.
func commitOf(binary string) (commit string, dirty bool, source string) {
	if info, err := buildinfo.ReadFile(binary); err == nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if commit != "" {
			return commit, dirty, "binary"
		}
	}
	out, err := execOutput("git", "rev-parse", "HEAD")
	if err != nil {
		return "", false, ""
	}
	status, _ := execOutput("git", "status", "--porcelain", "--untracked-files=no")
	return strings.TrimSpace(out), strings.TrimSpace(status) != "", "git"
}
