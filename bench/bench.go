// Package bench is `photobench bench`: it runs a profile's experiments
// against each architecture in turn on the native stack, captures what
// Prometheus and the load generator saw, and writes the trade-off report.
//
// The architectures are those of results.Archs: the monolith, the same
// monolith in async mode (River's job queue in its PostgreSQL), and the
// event-driven functions. For every run it starts the architecture's apps
// (the vision service with the profile's remote-API profile, then the
// monolith, the async monolith, or the scale-to-zero runtime and the front),
// runs the scenario open loop with the same seed, flips the profile's faults
// at phase boundaries (the same faults for every architecture), follows
// every accepted upload until ready, waits for Prometheus's last scrape,
// queries its series over the run's window (/api/v1/query_range, 1 s step),
// and stops the apps.
// Everything lands in the run directory:
//
//	results.json                 every figure the report uses (package bench/results)
//	runs/<run>/summary.json      the load generator's HDR summary
//	runs/<run>/latency.hlog      its raw interval histograms
//	runs/<run>/prom/<query>.json Prometheus's answers, as returned
//	queries.json                 the PromQL of every captured series
//	report.md, report.html, charts/*.svg
//
// RunProfile does the runs; Run (command.go) is the command line, which
// also writes the report (bench/report) from what they collected.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/bench/target"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/platform"
	"github.com/photobench/photobench/internal/atomicfile"
	"github.com/photobench/photobench/internal/procstat"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/loadgen"
	"github.com/photobench/photobench/monolith"
	"github.com/photobench/photobench/monolith/s3"
)

// Config is one bench invocation.
type Config struct {
	Profile *Profile
	Out     string       // the run directory
	Stack   stack.Config // AppBinary must name the photobench binary
	Archs   []string     // the architectures, in run order (default: results.Archs)
	Secret  []byte       // signs the synthetic users' tokens (the apps' AuthSecret)
	Cache   string       // where generated photos are kept between runs
	// Log gets one line per step; Live, if set, gets a progress line redrawn
	// every second (a terminal), else progress goes to Log every 15 s.
	Log  io.Writer
	Live io.Writer
	// EmptyShared empties the event-driven app's catalog table and buckets
	// before each of its runs (after its consumer groups caught up), so
	// that it starts from the same empty state as the monoliths, which get
	// resources of the run's own. Only for a stack nothing else uses: the
	// command sets it (it stops the stack's own apps first); tests that
	// share the stack with other packages leave it off.
	EmptyShared bool
	// Target, if set, is a deployment the bench did not start (photobench
	// bench --target): its apps are not started, stopped or emptied; the
	// runs go to its URLs, the series come from its Prometheus, the faults
	// through its hooks. Stack then matters only when Target.Stack names
	// the native stack its servers are (settings, versions, CPU, start
	// state). Nil: the local stack, apps started for every run.
	Target *target.Target
}

// appsOf lists the apps each architecture runs on.
var appsOf = map[string][]string{
	results.Monolith:      {"vision", "monolith"},
	results.MonolithAsync: {"vision", "monolith-async"},
	results.EventDriven:   {"vision", "runtime", "front"},
}

// runOverhead is the estimate of a run's time beyond its schedule (the
// host's load sampled, apps starting, the start state read, draining, the
// last scrape, capture, stopping, the run's own resources dropped), for
// time left: 13 s measured per run of the stack tests' tiny profile on 2
// cores, more under load. benchOverhead is the bench's own start (the
// servers checked, its metrics discovered, the host's load sampled).
const (
	runOverhead   = 25 * time.Second
	benchOverhead = 15 * time.Second
)

// RunProfile runs cfg's profile and returns what it collected, also saved as
// results.json in cfg.Out. An error is returned for what stops the whole
// bench (the stack does not start, a target's Prometheus or API does not
// answer, the run directory cannot be written); a failed architecture run
// is recorded as failed and the bench goes on. A
// cancelled ctx stops the run in progress, keeps what was collected (marked
// partial) and skips the rest.
func RunProfile(ctx context.Context, cfg Config) (*results.Results, error) {
	if cfg.Profile == nil {
		return nil, errors.New("bench: no profile")
	}
	if cfg.Stack.AppBinary == "" && cfg.Target == nil {
		return nil, errors.New("bench: the photobench binary that runs the apps is unknown")
	}
	if len(cfg.Archs) == 0 {
		cfg.Archs = append([]string(nil), results.Archs...)
		if cfg.Target != nil {
			cfg.Archs = cfg.Target.Archs()
		}
	}
	for _, a := range cfg.Archs {
		if appsOf[a] == nil {
			return nil, fmt.Errorf("bench: unknown architecture %q (want %s)", a, strings.Join(results.Archs, ", "))
		}
		if cfg.Target != nil && cfg.Target.Variants[a] == "" {
			return nil, fmt.Errorf("bench: the target %s gives no URL for %s", cfg.Target.Name, a)
		}
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Profile.VisionSeed > 0 {
		cfg.Stack.VisionSeed = cfg.Profile.VisionSeed
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	p := cfg.Profile
	b := &bencher{cfg: cfg, start: time.Now(), id: strconv.FormatInt(time.Now().UnixMilli(), 36),
		steps: plan(p, cfg.Archs, p.OrderSeed), sweeps: newSweeps(p.SweepSLO()), where: cfg.Target}
	if b.where == nil {
		b.where = target.Local(cfg.Stack)
	}
	res := &results.Results{Profile: p.Name, Description: p.Description,
		Started: time.Now().UTC(), Machine: b.fingerprint(), Settings: b.settings(),
		SteadyPhase: p.Steady, IdlePhase: p.Idle, SLO: p.SLO.Seconds(), SLOReady: p.SLOReady.Seconds(),
		SweepSLO: p.SweepSLO(), OrderSeed: p.OrderSeed, Seeds: seeds(p, cfg.Stack.VisionSeed)}
	if cfg.Target != nil {
		delete(res.Seeds, "vision") // the target's stand-in keeps its own
	}
	for i, s := range b.steps {
		res.Planned = append(res.Planned, fmt.Sprintf("%d. block %d: %s %s repeat %d", i+1, s.block, s.arch, s.name, s.repeat))
	}
	fmt.Fprintf(cfg.Log, "bench: order seed %d; runs in this order (a variant's sweep stops after its SLO fails at %d rates):\n", p.OrderSeed, sweepFailLimit)
	for _, l := range res.Planned {
		fmt.Fprintf(cfg.Log, "bench:   %s\n", l)
	}
	res.Machine.Load = hostLoad(ctx, loadWindow)

	defer b.stopServers()
	if cfg.Target != nil {
		if err := b.checkTarget(ctx); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
	} else if err := b.startServers(ctx); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}

	if err := b.serveMetrics(ctx); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer b.stopMetrics()

	for i, step := range b.steps {
		if ctx.Err() != nil {
			break
		}
		b.current = i + 1
		if b.sweeps.skip(step) {
			fmt.Fprintf(cfg.Log, "bench: [%d/%d] %s, %s: skipped, its sweep stopped\n", b.current, len(b.steps), step.arch, step.name)
			continue
		}
		run, start := b.runOne(ctx, step, len(res.Runs)+1)
		res.Runs = append(res.Runs, run)
		res.Order = append(res.Order, start)
		if step.exp.Sweep != nil && run.Status != results.StatusPartial {
			v := b.sweeps.judge(step, run.Dir, run.CheckSLO(step.exp.Sweep.Phase, b.sweeps.slo))
			res.Sweeps = append(res.Sweeps, v)
			verdict := "held"
			if !v.Verdict.Held {
				verdict = "failed: " + strings.Join(v.Verdict.Why, "; ")
			}
			fmt.Fprintf(cfg.Log, "bench: %s at %g/s: SLO %s\n", step.arch, step.sweepRate, verdict)
			if v.Stopped {
				fmt.Fprintf(cfg.Log, "bench: %s: SLO failed at %d rates; its sweep stops here\n", step.arch, v.Failures)
			}
		}
		if err := results.Save(cfg.Out, res); err != nil { // keep what we have after every run
			return res, fmt.Errorf("bench: %w", err)
		}
	}
	res.Ended = time.Now().UTC()
	res.Partial = ctx.Err() != nil
	if !b.stackKnown() {
		storageReported(res)
	}
	for _, a := range cfg.Archs {
		res.Queries = append(res.Queries, results.QueriesFor(a, b.appSet())...)
	}
	if err := atomicfile.WriteJSON(filepath.Join(cfg.Out, "queries.json"), res.Queries); err != nil {
		return res, fmt.Errorf("bench: %w", err)
	}
	if err := results.Save(cfg.Out, res); err != nil {
		return res, fmt.Errorf("bench: %w", err)
	}
	return res, nil
}

// step is one planned run.
type step struct {
	exp       Experiment
	sweepRate float64
	sc        *loadgen.Scenario
	name      string // the run's scenario name (the experiment's, or with the sweep rate)
	arch      string
	repeat    int
	block     int // 1-based repetition block, in which each architecture runs once
	position  int // 1-based place in the block
}

type bencher struct {
	cfg     Config
	start   time.Time
	id      string // names the runs' own resources (stack.Config.RunID)
	steps   []step
	sweeps  *sweeps
	current int

	reg     *prometheus.Registry // procstat: the servers' process trees
	mu      sync.Mutex
	runReg  *prometheus.Registry // the load generator's exporter of the current run
	srv     *http.Server
	unreg   func() error
	metrics string   // host:port of the bench's /metrics, as Prometheus scrapes it
	started []string // the servers startServers started
	// where is the deployment the runs go to: Config.Target, or the local
	// stack described as one (target.Local), so that both paths take their
	// URLs, Prometheus and app set from the same description.
	where *target.Target
}

// startServers starts the local stack's servers that do not run and stops
// the apps left running by `make up`, so that one architecture runs at a
// time.
func (b *bencher) startServers(ctx context.Context) error {
	cfg := b.cfg
	servers := cfg.Stack
	servers.AppBinary = ""
	fmt.Fprintf(cfg.Log, "bench: starting the stack's servers (those not running)\n")
	started, err := stack.Up(ctx, servers, cfg.Log)
	b.started = started
	if err != nil {
		return err
	}
	var running []string
	pids := stack.PIDs(cfg.Stack)
	for _, a := range stack.AppNames() {
		if pids[a] != 0 {
			running = append(running, a)
		}
	}
	if len(running) > 0 {
		fmt.Fprintf(cfg.Log, "bench: stopping the apps that run already (%s) so that one architecture runs at a time; `make up` starts them again\n", strings.Join(running, ", "))
		if err := stack.Down(cfg.Stack, running, cfg.Log); err != nil {
			return err
		}
	}
	return nil
}

// stopServers stops the servers startServers started.
func (b *bencher) stopServers() {
	if len(b.started) > 0 {
		fmt.Fprintf(b.cfg.Log, "bench: stopping the servers it started: %s\n", strings.Join(b.started, ", "))
		_ = stack.Down(b.cfg.Stack, b.started, io.Discard)
	}
}

// left estimates the time the bench still needs after the current step.
func (b *bencher) left(now time.Time, runEnd time.Time) time.Duration {
	d := max(runEnd.Sub(now), 0)
	for _, s := range b.steps[min(b.current, len(b.steps)):] {
		if !b.sweeps.skip(s) {
			d += s.sc.Duration() + runOverhead
		}
	}
	return d
}

func (b *bencher) settings() map[string]string {
	vis, _ := json.Marshal(b.cfg.Profile.Vision)
	queue := "on: MinIO stages events on disk (they survive a Kafka outage) and sends them from a loop that lists the queue every 3 s, adding 0-3 s to upload-to-ready"
	if !b.cfg.Stack.MinIONotifyQueue {
		queue = "off: events go to Kafka at once; those lost (Kafka down, MinIO killed before sending) are published again by the reconciler, once a minute"
	}
	scaling := "scale to zero (eventdriven/deploy/functions.yaml)"
	if b.cfg.Stack.RuntimePinned {
		scaling = "pinned: one replica of every function, always on"
	}
	p := b.cfg.Profile
	set := map[string]string{
		"profile":                 p.Name,
		"slo_p99_ack":             p.SLO.String(),
		"vision_profile":          string(vis),
		"vision_seed":             fmt.Sprintf("%d: the vision service restarts before every run with this seed, so each architecture draws the same latency and error sequence in request order", b.cfg.Stack.VisionSeed),
		"minio_notify_queue":      queue,
		"eventdriven_runtime":     scaling,
		"kafka_partitions":        fmt.Sprint(b.cfg.Stack.KafkaPartitions),
		"kafka_heap_mb":           fmt.Sprint(b.cfg.Stack.KafkaHeapMB),
		"prometheus_scrape":       stack.ScrapeInterval,
		"capture_step":            "1s",
		"architecture_order":      fmt.Sprintf("%s, each block of runs in a balanced random order (order seed %d; results.json order)", strings.Join(b.cfg.Archs, ", "), p.OrderSeed),
		"order_seed":              fmt.Sprint(p.OrderSeed),
		"slo_p99_ready":           p.SLOReady.String(),
		"sweep_stop":              fmt.Sprintf("a variant's sweep stops once its SLO (p99 ack, p99 ready, errors under %.0f%%, backlog not growing) failed at %d rates", 100*results.DefaultMaxErrors, sweepFailLimit),
		"start_state":             startState(b.cfg.EmptyShared),
		"host_load_window":        loadWindow.String(),
		"minio_notify_target":     fmt.Sprintf("Kafka target %s (%s): bucket %s, events s3:ObjectCreated:* and s3:ObjectRemoved:*, to topic %s", stack.MinIONotifyTarget, stack.NotifyARN(), deploy.BucketOriginals, deploy.TopicObjects),
		"kafka_topics":            fmt.Sprintf("%s: %d partitions each; a .dlq twin of each with 1", strings.Join(deploy.Topics, ", "), b.cfg.Stack.KafkaPartitions),
		"kafka_producer":          fmt.Sprintf("batch timeout %s, batch size %d (eventdriven/kafka)", kafka.DefaultBatchTimeout, kafka.DefaultBatchSize),
		"pool_sizes":              fmt.Sprintf("monolith and async monolith: PostgreSQL pool 16 connections, %d uploads at once (4 x cores); catalog and query functions: 16 connections per replica; reconciler: 2", 4*runtime.NumCPU()),
		"postgres_server":         "max_connections 300, shared_buffers 256MB (internal/stack)",
		"monolith_tuning":         "defaults of photobench monolith (see monolith/BENCHMARKS.md)",
		"monolith_storage":        monolithStorage(b.cfg.Stack.MonolithStorage),
		"loadgen_follow_interval": "ready polls back off from the scenario's ready.min_poll to ready.max_poll",
	}
	// The mean photo uploaded (the first scenario with uploads; the same
	// photo set in every experiment of the built-in profiles): the cost
	// model's storage per photo.
	for _, e := range p.Experiments {
		if sc := e.Scenario; sc.Uploads() {
			if ps, err := loadgen.LoadPhotos(sc.Photos, sc.Seed, b.cfg.Cache); err == nil && ps.Len() > 0 {
				set["photo_bytes"] = fmt.Sprint(ps.Bytes() / int64(ps.Len()))
			}
			break
		}
	}
	if slices.Contains(b.cfg.Archs, results.MonolithAsync) {
		maps.Copy(set, asyncSettings(monolith.DefaultAsyncOptions, 4*runtime.NumCPU()))
	}
	// Each function's scaling parameters, beside KEDA's and Knative's
	// defaults: the runtime reads the built-in functions.yaml.
	if cfg, err := platform.ParseConfig(deploy.Functions); err == nil && !b.cfg.Stack.RuntimePinned {
		for _, f := range cfg.Functions {
			set["scaling_"+f.Name] = f.Describe()
		}
	}
	if t := b.cfg.Target; t != nil {
		b.targetSettings(set, t)
	}
	return set
}

// stackSettings are the settings read from the native stack: a target
// without one has its own, which the bench cannot read.
var stackSettings = []string{"minio_notify_queue", "eventdriven_runtime", "kafka_partitions", "kafka_heap_mb",
	"minio_notify_target", "kafka_topics", "pool_sizes", "postgres_server", "monolith_storage", "monolith_tuning",
	"prometheus_scrape", "monolith_async_workers"}

// targetSettings rewrites the settings that differ on a target: what runs
// start from, the vision seed (the stand-in is not restarted), and, without
// a native stack to read, the servers' and apps' settings.
func (b *bencher) targetSettings(set map[string]string, t *target.Target) {
	set["deployment"] = "target " + t.Describe()
	set["start_state"] = "target: every run starts from the deployment's state as it is (the bench starts, restarts and empties nothing); the vision profile is set to the profile's before each run"
	set["vision_seed"] = "the target's: its vision stand-in is not restarted between runs, so the architectures do not draw the same latency and error sequence"
	var restarts []string
	for _, s := range target.Servers {
		restarts = append(restarts, s+": "+t.Restart[s].String())
	}
	set["restart_hooks"] = strings.Join(restarts, "; ")
	set["runtime_series"] = "photobench_runtime_* (replicas, desired replicas, lag, cold starts, replica-seconds) exist only where photobench's own runtime runs the functions (the local stack, compose); under KEDA and Knative they do not, and their charts and the replica-seconds cost input stay empty"
	if b.stackKnown() {
		return
	}
	for _, k := range stackSettings {
		set[k] = "the target's (not read by the bench)"
	}
	set["prometheus_scrape"] = "the target's Prometheus's (deploy/k8s/prometheus and compose/prometheus.yml set " + stack.ScrapeInterval + ")"
	set["monolith_async_workers"] = "the target's (deploy/k8s sets 8, 4 x its 2-core limit; compose leaves the default, 4 x the host's cores)"
	for k := range set {
		if strings.HasPrefix(k, "monolith_async_") && k != "monolith_async_workers" && k != "monolith_async_mode" {
			set[k] = "the target's, not read by the bench (photobench monolith's default: " + set[k] + ")"
		}
		if strings.HasPrefix(k, "scaling_") {
			set[k] = "the target's, not read by the bench (photobench's generated manifests carry: " + set[k] + ")"
		}
	}
}

// storageReported sets the monolith_storage setting of a target without a
// native stack to what its monoliths reported (photobench_monolith_info's
// storage label): the cost model prices the photos on disk or in S3 by it.
func storageReported(res *results.Results) {
	seen := map[string]bool{}
	for _, run := range res.Runs {
		for _, s := range run.Series[results.QMonolithInfo] {
			if st := s.Labels["storage"]; st != "" {
				seen[st] = true
			}
		}
	}
	if len(seen) > 0 {
		res.Settings["monolith_storage"] = strings.Join(slices.Sorted(maps.Keys(seen)), ", ") +
			": as the target's monoliths report it (photobench_monolith_info)"
	}
}

// startState says what every run starts from.
func startState(emptyShared bool) string {
	ed := "event-driven: shared catalog database, buckets and topics (fixed names), every consumer group at the end of its topics before the run"
	if emptyShared {
		ed += ", then the catalog's photos table and the buckets emptied"
	}
	return "monoliths: a database and a data directory (or bucket) of the run's own, created empty at start and dropped after; " + ed +
		" (results.json order: rows, objects and lag at start); vision restarted with the same seed"
}

// seeds lists every seed of the bench: the order's, the vision service's
// and each scenario's (the load generator's schedule, users and photos).
func seeds(p *Profile, vision int) map[string]int64 {
	out := map[string]int64{"order": p.OrderSeed, "vision": int64(vision)}
	for _, e := range p.Experiments {
		out["scenario:"+e.Scenario.Name] = int64(e.Scenario.Seed)
	}
	return out
}

// monolithStorage describes where both monoliths keep photos: the stack
// passes PHOTOBENCH_MONOLITH_STORAGE (storage, "" for the default) to the
// monolith as --storage, and the async monolith reads the same variable
// from the environment it inherits. Each monolith's photobench_monolith_info
// (series monolith_info) records what it used.
func monolithStorage(storage string) string {
	switch storage {
	case "", monolith.StorageDisk:
		return "disk: both monoliths keep originals and thumbnails as files on the machine's disk (PHOTOBENCH_MONOLITH_STORAGE, default disk)"
	case monolith.StorageS3:
		return "s3: both monoliths keep originals and thumbnails as objects in MinIO, bucket " + s3.DefaultBucket + " (PHOTOBENCH_MONOLITH_STORAGE)"
	}
	return storage + " (PHOTOBENCH_MONOLITH_STORAGE; the monolith refuses other values than disk and s3)"
}

// asyncSettings are the async monolith's job-queue knobs as the stack
// starts it: photobench monolith's defaults (o, with workers jobs at once),
// which `photobench monolith --help` lists beside River's own.
func asyncSettings(o monolith.AsyncOptions, workers int) map[string]string {
	return map[string]string{
		"monolith_async_mode":           "--mode async: 202 once the pending row and its River job are committed in one transaction; workers in the process derive the photo and mark it ready",
		"monolith_async_workers":        fmt.Sprintf("%d (4 x cores)", workers),
		"monolith_async_fetch_cooldown": o.FetchCooldown.String(),
		"monolith_async_fetch_poll":     o.FetchPollInterval.String(),
		"monolith_async_job_timeout":    o.JobTimeout.String(),
		"monolith_async_rescue_after":   o.RescueAfter.String(),
		"monolith_async_retry_backoff":  fmt.Sprintf("%s, exponential with full jitter, at most %s", o.RetryBackoff, o.RetryMaxBackoff),
		"monolith_async_max_attempts":   fmt.Sprint(o.MaxAttempts),
		"monolith_async_stop_timeout":   o.StopTimeout.String(),
	}
}

// serveMetrics serves the bench's own /metrics (the servers' process trees,
// and the current run's load generator) and registers it with Prometheus.
func (b *bencher) serveMetrics(ctx context.Context) error {
	b.reg = prometheus.NewRegistry()
	b.reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if b.stackKnown() {
		b.reg.MustRegister(procstat.New(func() map[string]int { return stack.ServerPIDs(b.cfg.Stack) }))
	}
	listen, sdDir, advertise := "127.0.0.1:0", b.cfg.Stack.SDDir(), ""
	if t := b.cfg.Target; t != nil {
		listen, sdDir, advertise = t.Metrics.Listen, t.Metrics.FileSD, t.Metrics.Advertise
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	b.metrics = ln.Addr().String()
	if advertise != "" {
		b.metrics = advertise
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(prometheus.GathererFunc(b.gather), promhttp.HandlerOpts{}))
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go b.srv.Serve(ln)
	if sdDir != "" {
		b.unreg, err = promsd.Register(sdDir, promsd.Target{Name: fmt.Sprintf("bench-%d", os.Getpid()),
			Addr: b.metrics, Labels: map[string]string{"source": "bench"}}) // no component label: the series carry their own
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(b.cfg.Log, "bench: waiting for Prometheus to discover the bench's metrics at %s (up to 20 s)\n", b.metrics)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := promsd.WaitScraped(wctx, b.promURL(), b.metrics, time.Now()); err != nil {
		return err
	}
	return nil
}
