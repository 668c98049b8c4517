package vision

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the vision service's Prometheus metrics. They count analyze
// requests only (not health checks, scrapes or admin calls).
type Metrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	injected      prometheus.Histogram
	faults        *prometheus.CounterVec
	inFlight      prometheus.Gauge
	profileOutage prometheus.Gauge
	gatherer      prometheus.Gatherer
}

// latencyBuckets span a fast local analysis to a minute-long injected tail.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// NewMetrics registers the vision service's metrics with reg:
//
//	photobench_vision_requests_total{code}              analyze requests answered, by HTTP status
//	                                                    (499: the client gave up or shutdown cut it off)
//	photobench_vision_request_duration_seconds{code}    analyze request duration (histogram)
//	photobench_vision_injected_latency_seconds          latency the profile injected (histogram)
//	photobench_vision_faults_total{kind}                injected faults: error, rate_limit,
//	                                                    concurrency, outage_fail, outage_hang
//	photobench_vision_in_flight_requests                analyze requests in progress (hung ones too)
//	photobench_vision_profile_outage                    the outage switch: 0 off, 1 fail, 2 hang
//
// When reg is also a prometheus.Gatherer (a *prometheus.Registry is), the
// server built with these metrics serves it on GET /metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	hist := func(name, help string) prometheus.HistogramOpts {
		return prometheus.HistogramOpts{
			Name: name, Help: help, Buckets: latencyBuckets,
			NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 100,
		}
	}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_vision_requests_total",
			Help: "Analyze requests answered by the vision service, by HTTP status code (499: the client gave up, or shutdown cut the request off, before the answer).",
		}, []string{"code"}),
		duration: prometheus.NewHistogramVec(hist(
			"photobench_vision_request_duration_seconds",
			"Duration of analyze requests, injected latency and hangs included, by HTTP status code.",
		), []string{"code"}),
		injected: prometheus.NewHistogram(hist(
			"photobench_vision_injected_latency_seconds",
			"Latency injected into analyze requests by the remote-API profile.",
		)),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_vision_faults_total",
			Help: "Faults injected by the remote-API profile, by kind (error, rate_limit, concurrency, outage_fail, outage_hang).",
		}, []string{"kind"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "photobench_vision_in_flight_requests",
			Help: "Analyze requests in progress, including those held by a hang outage.",
		}),
		profileOutage: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "photobench_vision_profile_outage",
			Help: "The outage switch of the remote-API profile: 0 off, 1 fail, 2 hang.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.injected, m.faults, m.inFlight, m.profileOutage)
	for _, k := range faultKinds {
		m.faults.WithLabelValues(string(k))
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	}
	return m
}

func (m *Metrics) setOutage(o Outage) {
	v := 0.0
	switch o {
	case OutageFail:
		v = 1
	case OutageHang:
		v = 2
	}
	m.profileOutage.Set(v)
}
