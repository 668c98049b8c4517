package kafka

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/internal/httpmetrics"
)

// Outcomes of a handled message (label outcome).
const (
	OutcomeOK           = "ok"
	OutcomeDeadLettered = "dead_lettered"
)

// Retry kinds (label kind).
const (
	RetryTransient = "transient"
	RetryError     = "error"
)

// Metrics are the consumer metrics. Labels are bounded: function (the
// consumer's ConsumerConfig.Function), topic (consumed topics), outcome,
// kind and partition (partition counts).
type Metrics struct {
	// HandledTotal is photobench_events_handled_total{function,topic,outcome}:
	// messages finished and committed, outcome "ok" or "dead_lettered". A
	// message left uncommitted at a stop (to be redelivered) is not counted.
	HandledTotal *prometheus.CounterVec
	// HandlingDuration is
	// photobench_event_handling_duration_seconds{function,topic}: from the
	// first handler call to success or dead-lettering, retries and backoff
	// included.
	HandlingDuration *prometheus.HistogramVec
	// DeliveryDelay is photobench_event_delivery_delay_seconds{function,topic}:
	// from the message's Kafka timestamp (its produce time) to the start of
	// its handling: the notification and queueing delay, which a cold start
	// or a backlog shows up in. Observed on every delivery, redeliveries
	// included.
	DeliveryDelay *prometheus.HistogramVec
	// RetriesTotal is photobench_event_retries_total{function,topic,kind}:
	// handler calls repeated after a failure, kind "transient" (dependency
	// down, unlimited) or "error" (ordinary error, up to MaxAttempts).
	RetriesTotal *prometheus.CounterVec
	// DLQWritesTotal is photobench_dlq_writes_total{function,topic}: messages
	// written to <topic>.dlq (topic is the original topic).
	DLQWritesTotal *prometheus.CounterVec
	// ConsumerLag is photobench_consumer_lag{function,topic,partition}: end
	// offset minus the group's committed offset, as Consumer.PollLag last
	// saw it.
	ConsumerLag *prometheus.GaugeVec
	// Rebalances is photobench_consumer_rebalances_total{function}: consumer
	// group rebalances this process's reader took part in (kafka-go's
	// rebalances are eager: every member stops while one happens, so a
	// replica joining or leaving pauses all of them).
	Rebalances *prometheus.CounterVec
	// InFlight is photobench_events_in_flight{function}: messages inside
	// the delivery policy now (from the first handler call to success or
	// dead-lettering): what a crash of the process interrupts.
	InFlight *prometheus.GaugeVec
}

// NewMetrics creates the consumer metrics and registers them with reg (a
// nil reg leaves them unregistered, for tests and tools). Register once
// per process; consumers share it through ConsumerConfig.Metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		HandledTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_events_handled_total",
			Help: "Messages handled and committed, by function, topic and outcome (ok or dead_lettered).",
		}, []string{"function", "topic", "outcome"}),
		HandlingDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "photobench_event_handling_duration_seconds",
			Help:    "Time from the first handler call to success or dead-lettering, retries included.",
			Buckets: httpmetrics.Buckets,
		}, []string{"function", "topic"}),
		DeliveryDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "photobench_event_delivery_delay_seconds",
			Help:    "Time from a message's Kafka timestamp to the start of its handling (notification and queueing delay).",
			Buckets: httpmetrics.Buckets,
		}, []string{"function", "topic"}),
		RetriesTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_event_retries_total",
			Help: "Handler calls repeated after a failure, by kind (transient or error).",
		}, []string{"function", "topic", "kind"}),
		DLQWritesTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_dlq_writes_total",
			Help: "Messages written to the dead-letter topic <topic>.dlq, by original topic.",
		}, []string{"function", "topic"}),
		ConsumerLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "photobench_consumer_lag",
			Help: "Messages not yet committed by the function's consumer group, by topic and partition.",
		}, []string{"function", "topic", "partition"}),
		Rebalances: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "photobench_consumer_rebalances_total",
			Help: "Consumer group rebalances the function's reader took part in.",
		}, []string{"function"}),
		InFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "photobench_events_in_flight",
			Help: "Messages being handled now (first handler call to success or dead-lettering).",
		}, []string{"function"}),
	}
	if reg != nil {
		reg.MustRegister(m.HandledTotal, m.HandlingDuration, m.DeliveryDelay, m.RetriesTotal, m.DLQWritesTotal, m.ConsumerLag, m.Rebalances, m.InFlight)
	}
	return m
}

// init creates the zero-valued series of a consumer, so that rate() and
// "DLQ writes" panels show 0 rather than no data before the first event.
func (m *Metrics) init(function string, topics []string) {
	m.Rebalances.WithLabelValues(function)
	m.InFlight.WithLabelValues(function)
	for _, t := range topics {
		m.HandledTotal.WithLabelValues(function, t, OutcomeOK)
		m.HandledTotal.WithLabelValues(function, t, OutcomeDeadLettered)
		m.HandlingDuration.WithLabelValues(function, t)
		m.DeliveryDelay.WithLabelValues(function, t)
		m.RetriesTotal.WithLabelValues(function, t, RetryTransient)
		m.RetriesTotal.WithLabelValues(function, t, RetryError)
		m.DLQWritesTotal.WithLabelValues(function, t)
	}
}
