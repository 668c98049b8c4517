package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/internal/stacktest"
)

// wait bounds every wait on Kafka in these tests. Group joins take a few
// seconds; the bound only stops a broken test from hanging.
const wait = 90 * time.Second

// fixture is one test's fresh topic (and its .dlq twin) on the stack's
// Kafka, with a metrics registry.
type fixture struct {
	brokers []string
	topic   string
	dlq     string
	reg     *prometheus.Registry
	metrics *kafka.Metrics
	log     *slog.Logger
	prod    *kafka.Producer
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// newFixture creates a topic with the given partition count and its
// one-partition dead-letter topic, and deletes both when the test ends.
func newFixture(t *testing.T, partitions int) *fixture {
	t.Helper()
	f := newFixtureWithoutDLQ(t, partitions)
	f.createTopic(t, f.dlq, 1)
	return f
}

// newFixtureWithoutDLQ is newFixture without the dead-letter topic.
func newFixtureWithoutDLQ(t *testing.T, partitions int) *fixture {
	t.Helper()
	env := stacktest.Load(t)
	f := &fixture{brokers: strings.Split(env.KafkaBrokers, ",")}
	f.topic = fmt.Sprintf("kafkatest.%s.%08x", strings.ToLower(unsafeChars.ReplaceAllString(t.Name(), "-")), rand.Uint32())
	f.dlq = f.topic + kafka.DLQSuffix
	f.createTopic(t, f.topic, partitions)
	f.reg = prometheus.NewRegistry()
	f.metrics = kafka.NewMetrics(f.reg)
	f.log = slog.New(slog.NewJSONHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	f.prod = kafka.NewProducer(f.brokers, kafka.ProducerOptions{})
	t.Cleanup(func() {
		if err := f.prod.Close(); err != nil {
			t.Errorf("close producer: %v", err)
		}
	})
	return f
}

// createTopic creates a topic for the test (stacktest.CreateTopic).
func (f *fixture) createTopic(t *testing.T, name string, partitions int) {
	t.Helper()
	stacktest.CreateTopic(t, f.brokers, name, partitions)
}

// config returns a consumer configuration for the fixture's topic with a
// fresh group, quick retries, and the fixture's logs and metrics.
func (f *fixture) config(function string) kafka.ConsumerConfig {
	return kafka.ConsumerConfig{
		Brokers:             f.brokers,
		Group:               fmt.Sprintf("%s.%s", f.topic, function),
		Topics:              []string{f.topic},
		Function:            function,
		Backoff:             10 * time.Millisecond,
		MaxBackoff:          50 * time.Millisecond,
		TransientMaxBackoff: 100 * time.Millisecond,
		Log:                 f.log,
		Metrics:             f.metrics,
	}
}

// publish publishes events of the given types, all with subject key (one
// partition), and returns them.
func (f *fixture) publish(t *testing.T, key string, types ...string) []eventdriven.Event {
	t.Helper()
	var evs []eventdriven.Event
	for _, typ := range types {
		evs = append(evs, eventdriven.Event{
			ID: fmt.Sprintf("%s-%08x", typ, rand.Uint32()), Source: "photobench/kafka_test", Type: typ,
			Subject: key, Time: time.Now(), Data: fmt.Appendf(nil, `{"type":%q}`, typ),
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := f.prod.Publish(ctx, f.topic, evs...); err != nil {
		t.Fatal(err)
	}
	return evs
}

// running is a consumer started by start.
type running struct {
	c      *kafka.Consumer
	cancel context.CancelFunc
	done   chan error
}

// start runs a consumer until the test ends (or until r.stop).
func (f *fixture) start(t *testing.T, cfg kafka.ConsumerConfig, h kafka.Handler) *running {
	t.Helper()
	c, err := kafka.NewConsumer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx) }()
	t.Cleanup(func() {
		if err := r.stop(t); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

// stop cancels the consumer's ctx and returns Run's result. Further calls
// return nil.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(wait):
		t.Fatal("Run did not return after its ctx was cancelled")
		return nil
	}
}

// eventually polls cond until it holds, failing the test after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// receive returns the next value from ch, failing the test after wait.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// lag returns the group's total lag on topic.
func (f *fixture) lag(t *testing.T, group, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	lag, err := kafka.Lag(ctx, f.brokers, group, []string{topic})
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	var n int64
	for _, v := range lag[topic] {
		n += v
	}
	return n
}

// count returns how many messages topic holds: the lag of a group that
// never consumed it.
func (f *fixture) count(t *testing.T, topic string) int64 {
	return f.lag(t, fmt.Sprintf("never-consumed-%08x", rand.Uint32()), topic)
}

// readDLQ reads n messages from the fixture's one-partition dead-letter
// topic, from its start.
func (f *fixture) readDLQ(t *testing.T, n int) []kgo.Message {
	t.Helper()
	r := kgo.NewReader(kgo.ReaderConfig{Brokers: f.brokers, Topic: f.dlq, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var out []kgo.Message
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("read %s: got %d of %d messages: %v", f.dlq, len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

// counter returns a counter series' value.
func counter(c *prometheus.CounterVec, labels ...string) float64 {
	var m dto.Metric
	if err := c.WithLabelValues(labels...).Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// gaugeSum sums a metric family's gauge series and counts them.
func gaugeSum(t *testing.T, reg *prometheus.Registry, name string) (sum float64, series int) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetGauge().GetValue()
			series++
		}
	}
	return sum, series
}

// histogramCount returns how many observations a histogram series holds.
func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

var errFlaky = errors.New("flaky failure")
