// Package httpmetrics measures HTTP servers the same way in every component
// (monolith, event-driven functions, vision service, load generator
// targets): request duration histograms by route pattern, method and status
// code, and requests in flight.
package httpmetrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP server metrics.
type Metrics struct {
	// Duration is photobench_http_request_duration_seconds{route,method,code}:
	// from the first byte of the request to the handler's return. Its
	// _count is the request count.
	Duration *prometheus.HistogramVec
	// InFlight is photobench_http_in_flight_requests.
	InFlight prometheus.Gauge
}

// Buckets are the latency buckets (seconds) shared by every photobench
// latency histogram: 1 ms to 60 s, dense where uploads and reads fall.
var Buckets = []float64{.001, .0025, .005, .01, .025, .05, .075, .1, .15, .2, .3, .5, .75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30, 60}

// NewMetrics registers the HTTP metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "photobench_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by chi route pattern, method and status code.",
			Buckets: Buckets,
		}, []string{"route", "method", "code"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "photobench_http_in_flight_requests",
			Help: "HTTP requests being served.",
		}),
	}
	reg.MustRegister(m.Duration, m.InFlight)
	return m
}

// Middleware records every request. Put it inside a chi router (r.Use) so
// that the route pattern is known when the request ends; unmatched
// requests are recorded with route "unmatched", keeping labels bounded.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.InFlight.Inc()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		defer func() {
			m.InFlight.Dec()
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			m.Duration.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
