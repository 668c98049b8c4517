// Package httpmetrics measures HTTP servers the same way in every component
// (monolith, event-driven functions, vision service, load generator
// targets): request duration histograms by route pattern, method and status
// code, and requests in flight.
//
// Requests are measured before they are authenticated, so no label takes a
// value from the request as sent: the route is the router's pattern (or
// "unmatched"), the method one of a fixed set (or "other"), the code one of
// the statuses the handlers write. A client sending `curl -X M$RANDOM` to
// random paths adds at most one series.
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

// Method is the method label of a request method: the method itself for
// GET, POST, PUT, DELETE, PATCH, HEAD and OPTIONS, "other" for anything
// else (methods are case-sensitive: "get" is other).
func Method(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodHead, http.MethodOptions:
		return m
	}
	return "other"
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
			m.Duration.WithLabelValues(route, Method(r.Method), strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
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
