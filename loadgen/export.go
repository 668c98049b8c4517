package loadgen

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/internal/promsd"
)

// exportLatencyBuckets are the buckets (seconds) of the generator's latency,
// service-time and upload-to-ready histograms: 1 ms to 120 s, wider at the top
// than the servers' own histograms because latency from the intended start
// keeps growing while a target is saturated.
var exportLatencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// exportLagBuckets are the schedule-lag buckets (seconds): 10 µs to 10 s. A
// healthy generator stays in the lowest few.
var exportLagBuckets = []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Exporter publishes a running load generator's results as Prometheus metrics,
// so that dashboards show the generator's view next to the servers' own. Every
// series carries the constant label architecture; warm-up phases are included
// and told apart by the phase label. All methods are safe for concurrent use.
type Exporter struct {
	requests        *prometheus.CounterVec   // {operation,phase,outcome}
	latency         *prometheus.HistogramVec // {operation,phase}
	service         *prometheus.HistogramVec // {operation,phase}
	lag             *prometheus.HistogramVec // {phase}
	readyLatency    *prometheus.HistogramVec // {phase,outcome}
	ready           *prometheus.CounterVec   // {phase,outcome}
	readyPolls      *prometheus.CounterVec   // {phase}
	readyPollErrors *prometheus.CounterVec   // {phase}
	inFlight        prometheus.Gauge
	following       prometheus.Gauge
	targetRate      prometheus.Gauge
	phase           *prometheus.GaugeVec // {phase}
	run             *prometheus.GaugeVec // {scenario}

	mu       sync.Mutex // serialises SetPhase and SetRun
	phases   map[string]bool
	scenario string
	hasRun   bool
}

// The metric family names the Exporter registers.
const (
	metricRequests        = "photobench_loadgen_requests_total"
	metricLatency         = "photobench_loadgen_latency_seconds"
	metricService         = "photobench_loadgen_service_seconds"
	metricLag             = "photobench_loadgen_schedule_lag_seconds"
	metricReadyLatency    = "photobench_loadgen_ready_latency_seconds"
	metricReady           = "photobench_loadgen_ready_total"
	metricReadyPolls      = "photobench_loadgen_ready_polls_total"
	metricReadyPollErrors = "photobench_loadgen_ready_poll_errors_total"
	metricInFlight        = "photobench_loadgen_in_flight"
	metricFollowing       = "photobench_loadgen_following"
	metricTargetRate      = "photobench_loadgen_target_rate_per_second"
	metricPhase           = "photobench_loadgen_phase"
	metricRunInfo         = "photobench_loadgen_run_info"
)

// ExportedMetricNames lists the names of the metric families an Exporter
// registers (histograms by their base name, without _bucket, _sum or _count),
// for dashboards and their tests.
func ExportedMetricNames() []string {
	return []string{
		metricRequests, metricLatency, metricService, metricLag,
		metricReadyLatency, metricReady, metricReadyPolls, metricReadyPollErrors,
		metricInFlight, metricFollowing, metricTargetRate, metricPhase, metricRunInfo,
	}
}

// NewExporter registers the load generator's metrics with reg. arch (e.g.
// "monolith" or "eventdriven") is added to every series as the constant label
// architecture; an empty arch adds no label. It panics, like
// prometheus.MustRegister, if the metrics are already registered with reg.
func NewExporter(reg prometheus.Registerer, arch string) *Exporter {
	if arch != "" {
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"architecture": arch}, reg)
	}
	e := &Exporter{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricRequests,
			Help: "Scheduled requests by operation, phase and outcome: ok, 4xx, 5xx, timeout, transport, build (request not built), dropped (in-flight cap reached) or canceled (run stopped).",
		}, []string{"operation", "phase", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    metricLatency,
			Help:    "Seconds from a request's intended start to the end of its response, generator delays included (no coordinated omission); sent requests not cut short by the end of the run.",
			Buckets: exportLatencyBuckets,
		}, []string{"operation", "phase"}),
		service: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    metricService,
			Help:    "Seconds from a request getting its connection to the end of its response: the server's share plus the network.",
			Buckets: exportLatencyBuckets,
		}, []string{"operation", "phase"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    metricLag,
			Help:    "Seconds between a request's intended start and when the generator sent it.",
			Buckets: exportLagBuckets,
		}, []string{"phase"}),
		readyLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    metricReadyLatency,
			Help:    "Seconds from an upload's intended start until its photo was ready or failed (the server's ready_at when known, else the poll that saw it).",
			Buckets: exportLatencyBuckets,
		}, []string{"phase", "outcome"}),
		ready: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricReady,
			Help: "Accepted uploads followed to the end, by outcome: ready, failed, timeout, error or canceled.",
		}, []string{"phase", "outcome"}),
		readyPolls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricReadyPolls,
			Help: "GET requests sent to follow uploaded photos until ready.",
		}, []string{"phase"}),
		readyPollErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricReadyPollErrors,
			Help: "Follow-up polls that failed (transport errors, 5xx, 429).",
		}, []string{"phase"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricInFlight,
			Help: "Requests the generator has in flight.",
		}),
		following: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricFollowing,
			Help: "Uploaded photos being followed until ready.",
		}),
		targetRate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricTargetRate,
			Help: "Requests per second the schedule calls for now.",
		}),
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: metricPhase,
			Help: "1 for the phase being run, 0 for phases run before it.",
		}, []string{"phase"}),
		run: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: metricRunInfo,
			Help: "Always 1; names the scenario being run.",
		}, []string{"scenario"}),
		phases: map[string]bool{},
	}
	reg.MustRegister(e.requests, e.latency, e.service, e.lag, e.readyLatency, e.ready,
		e.readyPolls, e.readyPollErrors, e.inFlight, e.following, e.targetRate, e.phase, e.run)
	return e
}

// Observe records one scheduled hit: its outcome always, its schedule lag if it
// was sent, and its latency and service time if it was sent and not cut short
// by the end of the run (as Recorder does).
func (e *Exporter) Observe(r Result) {
	op := string(r.Op)
	e.requests.WithLabelValues(op, r.PhaseName, r.Class()).Inc()
	if r.Sent.IsZero() {
		return
	}
	e.lag.WithLabelValues(r.PhaseName).Observe(max(r.Lag().Seconds(), 0))
	if r.Canceled {
		return
	}
	e.latency.WithLabelValues(op, r.PhaseName).Observe(max(r.Latency().Seconds(), 0))
	e.service.WithLabelValues(op, r.PhaseName).Observe(max(r.Service().Seconds(), 0))
}

// ObserveReady records one followed upload: its outcome and polls always, its
// upload-to-ready latency if the photo became ready or failed.
func (e *Exporter) ObserveReady(r ReadyResult) {
	e.ready.WithLabelValues(r.PhaseName, string(r.Outcome)).Inc()
	e.readyPolls.WithLabelValues(r.PhaseName).Add(float64(max(r.Polls, 0)))
	e.readyPollErrors.WithLabelValues(r.PhaseName).Add(float64(max(r.PollErrors, 0)))
	if r.Outcome == ReadyOK || r.Outcome == ReadyFailed {
		e.readyLatency.WithLabelValues(r.PhaseName, string(r.Outcome)).Observe(max(r.Latency().Seconds(), 0))
	}
}

// SetInFlight sets the number of requests in flight.
func (e *Exporter) SetInFlight(n int) { e.inFlight.Set(float64(n)) }

// SetFollowing sets the number of uploaded photos being followed.
func (e *Exporter) SetFollowing(n int) { e.following.Set(float64(n)) }

// SetTargetRate sets the rate, in requests per second, the schedule calls for.
func (e *Exporter) SetTargetRate(r float64) { e.targetRate.Set(r) }

// SetPhase marks name as the phase being run: its series becomes 1 and those of
// the phases set before become 0. An empty name (the run has ended) sets them
// all to 0.
func (e *Exporter) SetPhase(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for p := range e.phases {
		if p != name {
			e.phase.WithLabelValues(p).Set(0)
		}
	}
	if name == "" {
		return
	}
	e.phases[name] = true
	e.phase.WithLabelValues(name).Set(1)
}

// SetRun names the scenario being run: photobench_loadgen_run_info{scenario}
// becomes 1, replacing the series of a scenario set before.
func (e *Exporter) SetRun(scenario string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hasRun && e.scenario != scenario {
		e.run.DeleteLabelValues(e.scenario)
	}
	e.scenario, e.hasRun = scenario, true
	e.run.WithLabelValues(scenario).Set(1)
}

// ServeMetrics serves reg's metrics at /metrics on addr (host:port; port 0
// picks a free one) and, with a discovery directory sdDir (the stack's
// PHOTOBENCH_PROMETHEUS_SD_DIR), registers them with the stack's Prometheus
// as <kind>-<pid>, labelled component loadgen: how a generator's Exporter
// reaches the stack's dashboards. It returns the address it listens on and
// stop, which unregisters (its error is the unregistration's) and closes
// the server.
func ServeMetrics(reg *prometheus.Registry, addr, sdDir, kind string) (bound string, stop func() error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics listener: %w", err)
	}
	bound = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	unregister := func() error { return nil }
	if sdDir != "" {
		unregister, err = promsd.Register(sdDir, promsd.Target{Name: fmt.Sprintf("%s-%d", kind, os.Getpid()), Addr: bound,
			Labels: map[string]string{"component": "loadgen"}})
		if err != nil {
			srv.Close()
			return "", nil, err
		}
	}
	return bound, func() error {
		err := unregister()
		srv.Close()
		return err
	}, nil
}
