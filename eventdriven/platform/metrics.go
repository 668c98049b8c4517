package platform

import (
	"github.com/photobench/photobench/internal/outbound"
	"github.com/prometheus/client_golang/prometheus"
)

// Cold start phases (label phase of ColdStart), each timed from the
// replica's process start.
const (
	PhaseProcessReady = "process_ready" // the replica printed its listening line
	PhaseFirstEvent   = "first_event"   // an event function handled and committed its first event
	PhaseFirstRequest = "first_request" // the activator got a first answer from the replica
)

// Scaling directions (label direction of ScalingDecisions).
const (
	DirectionUp   = "up"
	DirectionDown = "down"
)

// Metrics are the runtime's metrics. The only label values are function
// names, phases and directions.
type Metrics struct {
	// Replicas is photobench_runtime_replicas{function}: replica processes
	// alive, those being stopped included (they still cost).
	Replicas *prometheus.GaugeVec
	// DesiredReplicas is photobench_runtime_desired_replicas{function}.
	DesiredReplicas *prometheus.GaugeVec
	// ColdStart is photobench_runtime_cold_start_seconds{function,phase}:
	// from a replica's process start to each phase.
	ColdStart *prometheus.HistogramVec
	// ActivatorHold is photobench_runtime_activator_hold_seconds{function}:
	// how long the activator held a request until a replica was ready.
	ActivatorHold *prometheus.HistogramVec
	// ActivatorRejected is
	// photobench_runtime_activator_rejected_total{function,reason}: requests
	// an activator answered 503 itself (reason timeout, queue_full or
	// draining).
	ActivatorRejected *prometheus.CounterVec
	// ScalingDecisions is
	// photobench_runtime_scaling_decisions_total{function,direction}:
	// changes of the desired replica count.
	ScalingDecisions *prometheus.CounterVec
	// ReplicaSeconds is photobench_runtime_replica_seconds_total{function}:
	// replicas alive integrated over time, the cost proxy.
	ReplicaSeconds *prometheus.CounterVec
	// Lag is photobench_runtime_lag{function}: an event function's total
	// consumer-group lag as the scaler last read it.
	Lag *prometheus.GaugeVec
	// Restarts is photobench_runtime_restarts_total{function}: replicas
	// that exited without being asked to (crashed) and were replaced.
	Restarts *prometheus.CounterVec
	// CrashLoop is photobench_runtime_crash_loop{function}: 1 while the
	// function's replicas have crashed RestartBackoff.LoopAfter times in a
	// row (Kubernetes' CrashLoopBackOff), until one runs for the reset
	// period.
	CrashLoop *prometheus.GaugeVec
	// RestartBackoff is photobench_runtime_restart_backoff_seconds{function}:
	// the wait before the last crashed replica is replaced (0 once a replica
	// ran for the reset period).
	RestartBackoff *prometheus.GaugeVec
	// StopKills is photobench_runtime_stop_kills_total{function}: replicas
	// SIGKILLed because they had not exited within the stop grace (a
	// replica fits its stop into the grace, so any is a bug or a wedge).
	StopKills *prometheus.CounterVec
	// LivenessFailures is
	// photobench_runtime_liveness_failures_total{function}: replicas
	// restarted because their liveness probe failed (counted in Restarts
	// too, as Kubernetes counts them in restartCount).
	LivenessFailures *prometheus.CounterVec
	// InFlightRequests is photobench_runtime_in_flight_requests{function}:
	// requests an HTTP function's activator is proxying or holding.
	InFlightRequests *prometheus.GaugeVec
	// ScheduledRuns is photobench_runtime_scheduled_runs_total{function,
	// outcome}: timer invocations of a scheduled function (outcome ok, or
	// error: refused, failed or timed out).
	ScheduledRuns *prometheus.CounterVec
	// Reconciled is photobench_reconciled_total{function}: object events a
	// scheduled function answered it published again (the "reconciled"
	// field of its JSON answer). Counted here, where the answer arrives,
	// because the replica that did the work may stop before Prometheus
	// scrapes it.
	Reconciled *prometheus.CounterVec
	// Sent is photobench_requests_sent_total{target,op}: the requests the
	// activators proxied to replicas (target: the function's name).
	Sent *outbound.Counter
}

// coldStartBuckets span a warm fork (tens of ms) to a slow group join
// (tens of seconds).
var coldStartBuckets = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60}

// NewMetrics creates the metrics and registers them with reg (none if reg
// is nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	fn := []string{"function"}
	m := &Metrics{
		Replicas: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "photobench_runtime_replicas", Help: "Replica processes alive (stopping ones included).",
		}, fn),
		DesiredReplicas: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "photobench_runtime_desired_replicas", Help: "Replicas the scaler wants.",
		}, fn),
		ColdStart: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "photobench_runtime_cold_start_seconds", Help: "Time from a replica's process start to a phase (process_ready, first_event, first_request).",
			Buckets: coldStartBuckets,
		}, []string{"function", "phase"}),
		ActivatorHold: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "photobench_runtime_activator_hold_seconds", Help: "Time the activator held a request waiting for a ready replica.",
			Buckets: coldStartBuckets,
		}, fn),
		ActivatorRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_runtime_activator_rejected_total", Help: "Requests an activator answered 503 itself, by reason (timeout, queue_full, draining).",
		}, []string{"function", "reason"}),
		ScalingDecisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_runtime_scaling_decisions_total", Help: "Changes of the desired replica count, by direction.",
		}, []string{"function", "direction"}),
		ReplicaSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_runtime_replica_seconds_total", Help: "Replicas alive integrated over time (the cost proxy).",
		}, fn),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "photobench_runtime_lag", Help: "Total consumer-group lag of an event function, as last polled.",
		}, fn),
		Restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_runtime_restarts_total", Help: "Replicas that crashed and were replaced.",
		}, fn),
		CrashLoop: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "photobench_runtime_crash_loop", Help: "1 while the function's replicas keep crashing (CrashLoopBackOff).",
		}, fn),
		RestartBackoff: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "photobench_runtime_restart_backoff_seconds", Help: "Wait before the last crashed replica is replaced.",
		}, fn),
		StopKills: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_runtime_stop_kills_total", Help: "Replicas SIGKILLed because they did not exit within the stop grace.",
		}, fn),
		LivenessFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_runtime_liveness_failures_total", Help: "Replicas restarted because their liveness probe failed.",
		}, fn),
		InFlightRequests: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "photobench_runtime_in_flight_requests", Help: "Requests an HTTP function's activator is proxying or holding.",
		}, fn),
		ScheduledRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_runtime_scheduled_runs_total", Help: "Timer invocations of a scheduled function, by outcome (ok, error).",
		}, []string{"function", "outcome"}),
		Reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_reconciled_total", Help: "Object events a scheduled function reported it published again (lost notifications recovered).",
		}, fn),
		Sent: outbound.New(reg),
	}
	if reg != nil {
		reg.MustRegister(m.Replicas, m.DesiredReplicas, m.ColdStart, m.ActivatorHold, m.ActivatorRejected, m.ScalingDecisions,
			m.ReplicaSeconds, m.Lag, m.Restarts, m.CrashLoop, m.RestartBackoff, m.StopKills, m.LivenessFailures, m.InFlightRequests, m.ScheduledRuns, m.Reconciled)
	}
	return m
}

// init creates every series of a function so they read 0 before anything
// happens.
func (m *Metrics) init(cfg FunctionConfig) {
	n := cfg.Name
	m.Replicas.WithLabelValues(n)
	m.DesiredReplicas.WithLabelValues(n)
	m.ReplicaSeconds.WithLabelValues(n)
	m.Restarts.WithLabelValues(n)
	m.CrashLoop.WithLabelValues(n)
	m.RestartBackoff.WithLabelValues(n)
	m.StopKills.WithLabelValues(n)
	m.LivenessFailures.WithLabelValues(n)
	m.ScalingDecisions.WithLabelValues(n, DirectionUp)
	m.ScalingDecisions.WithLabelValues(n, DirectionDown)
	switch cfg.Kind {
	case KindEvent:
		m.Lag.WithLabelValues(n)
	case KindHTTP:
		m.InFlightRequests.WithLabelValues(n)
		for _, reason := range []string{RejectTimeout, RejectQueueFull, RejectDraining} {
			m.ActivatorRejected.WithLabelValues(n, reason)
		}
		if cfg.Schedule.Duration > 0 {
			m.ScheduledRuns.WithLabelValues(n, "ok")
			m.ScheduledRuns.WithLabelValues(n, "error")
			m.Reconciled.WithLabelValues(n)
		}
	}
}
