package kafka_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/kafka"
)

// The tests below run against the stack's Kafka, each on a fresh topic.

func TestPublishConsumeRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3)
	at := time.Date(2025, 1, 2, 3, 4, 5, 600700800, time.UTC)
	events := []eventdriven.Event{
		{ID: "e1", Source: "photobench/test", Type: "photo.thumbnailed", Subject: "photo-1", Time: at, Data: []byte(`{"n":1}`)},
		{ID: "e2", Source: "photobench/test", Type: "photo.tagged", Subject: "photo-2", Time: at, Data: []byte(`{"n":2}`)},
		{ID: "e3", Source: "photobench/test", Type: "photo.tagged", Subject: "photo-1", Time: at, Data: []byte(`{"n":3}`)},
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := f.prod.Publish(ctx, f.topic, events...); err != nil {
		t.Fatal(err)
	}

	got := make(chan kgo.Message, len(events))
	f.start(t, f.config("roundtrip"), func(ctx context.Context, m *kafka.Message) error {
		got <- m.Message
		return nil
	})
	byID := map[string]kgo.Message{}
	for range events {
		m := receive(t, got, "a published event")
		byID[headerMap(t, m)["ce_id"]] = m
	}
	for _, want := range events {
		m, ok := byID[want.ID]
		if !ok {
			t.Fatalf("event %s not received (got %v)", want.ID, byID)
		}
		if string(m.Key) != want.Subject {
			t.Errorf("%s: key %q, want the subject %q", want.ID, m.Key, want.Subject)
		}
		if string(m.Value) != string(want.Data) {
			t.Errorf("%s: value %q, want %q", want.ID, m.Value, want.Data)
		}
		wantHeaders := map[string]string{
			"ce_id": want.ID, "ce_source": want.Source, "ce_type": want.Type, "ce_specversion": "1.0",
			"ce_time": "2025-01-02T03:04:05.6007008Z", "ce_subject": want.Subject, "content-type": "application/json",
		}
		h := headerMap(t, m)
		if len(h) != len(wantHeaders) {
			t.Errorf("%s: headers %v, want exactly %v", want.ID, h, wantHeaders)
		}
		for k, v := range wantHeaders {
			if h[k] != v {
				t.Errorf("%s: header %s = %q, want %q", want.ID, k, h[k], v)
			}
		}
		ev, err := kafka.ParseEvent(m)
		if err != nil {
			t.Fatal(err)
		}
		assertEvent(t, ev, want)
		if m.Time.IsZero() || time.Since(m.Time) < 0 {
			t.Errorf("%s: Kafka timestamp %v, want the produce time", want.ID, m.Time)
		}
	}
	// Same subject, same partition, publication order.
	if a, b := byID["e1"], byID["e3"]; a.Partition != b.Partition || a.Offset >= b.Offset {
		t.Errorf("events of one subject: e1 at %d@%d, e3 at %d@%d; want one partition, in order", a.Partition, a.Offset, b.Partition, b.Offset)
	}
	eventually(t, "3 events handled", func() bool {
		return counter(f.metrics.HandledTotal, "roundtrip", f.topic, kafka.OutcomeOK) == 3
	})
	if n := histogramCount(t, f.reg, "photobench_event_delivery_delay_seconds"); n != 3 {
		t.Errorf("delivery delay observations = %d, want 3", n)
	}
}

func TestPublishRejectsIncompleteEvents(t *testing.T) {
	p := kafka.NewProducer([]string{"127.0.0.1:1"}, kafka.ProducerOptions{})
	defer p.Close()
	err := p.Publish(context.Background(), "t", eventdriven.Event{ID: "x", Type: "t"})
	if err == nil || !strings.Contains(err.Error(), "no source") {
		t.Errorf("Publish = %v, want an error about the missing source", err)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	f.publish(t, "photo-1", "flaky")
	var calls, successes atomic.Int32
	cfg := f.config("flaky")
	f.start(t, cfg, func(ctx context.Context, m *kafka.Message) error {
		if calls.Add(1) <= 2 {
			return errFlaky
		}
		successes.Add(1)
		return nil
	})
	eventually(t, "the message committed", func() bool { return f.lag(t, cfg.Group, f.topic) == 0 && successes.Load() == 1 })
	time.Sleep(time.Second) // room for a wrong redelivery to show
	if c, s := calls.Load(), successes.Load(); c != 3 || s != 1 {
		t.Errorf("handler calls = %d, successes = %d; want 3 and 1", c, s)
	}
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"handled ok", counter(f.metrics.HandledTotal, "flaky", f.topic, kafka.OutcomeOK), 1},
		{"dead-lettered", counter(f.metrics.HandledTotal, "flaky", f.topic, kafka.OutcomeDeadLettered), 0},
		{"error retries", counter(f.metrics.RetriesTotal, "flaky", f.topic, kafka.RetryError), 2},
		{"transient retries", counter(f.metrics.RetriesTotal, "flaky", f.topic, kafka.RetryTransient), 0},
		{"dlq writes", counter(f.metrics.DLQWritesTotal, "flaky", f.topic), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if n := f.count(t, f.dlq); n != 0 {
		t.Errorf("dead-letter topic holds %d messages, want 0", n)
	}
	// Joining the group was a rebalance, counted within a second or two.
	eventually(t, "the group join counted as a rebalance", func() bool { return counter(f.metrics.Rebalances, "flaky") >= 1 })
}

func TestPoisonMessagesAreDeadLettered(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	// One key: all three on one partition, in this order.
	evs := f.publish(t, "photo-1", "malformed", "always-fails", "good")
	cfg := f.config("poison")
	cfg.MaxAttempts = 3
	var mu sync.Mutex
	calls := map[string]int{}
	good := make(chan kgo.Message, 1)
	f.start(t, cfg, func(ctx context.Context, m *kafka.Message) error {
		ev, err := kafka.ParseEvent(m.Message)
		if err != nil {
			return eventdriven.Permanent(err)
		}
		mu.Lock()
		calls[ev.Type]++
		mu.Unlock()
		switch ev.Type {
		case "malformed":
			return eventdriven.Permanent(errors.New("malformed payload"))
		case "always-fails":
			return errors.New("always fails")
		}
		good <- m.Message
		return nil
	})
	gm := receive(t, good, "the message behind the poison ones")

	dead := f.readDLQ(t, 2)
	for i, want := range []struct {
		ev       eventdriven.Event
		attempts string
		errText  string
	}{{evs[0], "1", "malformed payload"}, {evs[1], "3", "always fails"}} {
		m := dead[i]
		h := headerMap(t, m)
		if h["ce_id"] != want.ev.ID || h["ce_type"] != want.ev.Type || h["ce_specversion"] != "1.0" || h["content-type"] != "application/json" {
			t.Errorf("dead letter %d: original headers not kept: %v", i, h)
		}
		if string(m.Key) != want.ev.Subject || string(m.Value) != string(want.ev.Data) {
			t.Errorf("dead letter %d: key %q value %q, want %q %q", i, m.Key, m.Value, want.ev.Subject, want.ev.Data)
		}
		wantOffset := strconv.FormatInt(gm.Offset-2+int64(i), 10)
		for k, v := range map[string]string{
			kafka.HeaderDLQTopic: f.topic, kafka.HeaderDLQPartition: strconv.Itoa(gm.Partition), kafka.HeaderDLQOffset: wantOffset,
			kafka.HeaderDLQAttempts: want.attempts, kafka.HeaderDLQFunction: "poison",
		} {
			if h[k] != v {
				t.Errorf("dead letter %d: header %s = %q, want %q", i, k, h[k], v)
			}
		}
		if !strings.Contains(h[kafka.HeaderDLQError], want.errText) {
			t.Errorf("dead letter %d: dlq_error %q, want it to mention %q", i, h[kafka.HeaderDLQError], want.errText)
		}
	}
	eventually(t, "all three committed", func() bool { return f.lag(t, cfg.Group, f.topic) == 0 })
	mu.Lock()
	if calls["malformed"] != 1 || calls["always-fails"] != 3 || calls["good"] != 1 {
		t.Errorf("handler calls = %v; want malformed 1, always-fails 3, good 1", calls)
	}
	mu.Unlock()
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"handled ok", counter(f.metrics.HandledTotal, "poison", f.topic, kafka.OutcomeOK), 1},
		{"dead-lettered", counter(f.metrics.HandledTotal, "poison", f.topic, kafka.OutcomeDeadLettered), 2},
		{"dlq writes", counter(f.metrics.DLQWritesTotal, "poison", f.topic), 2},
		{"error retries", counter(f.metrics.RetriesTotal, "poison", f.topic, kafka.RetryError), 2},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestTransientErrorsAreNeverDeadLettered(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	f.publish(t, "photo-1", "needs-vision")
	cfg := f.config("transient")
	cfg.MaxAttempts = 2
	var (
		mu    sync.Mutex
		first time.Time
	)
	done := make(chan struct{})
	f.start(t, cfg, func(ctx context.Context, m *kafka.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if first.IsZero() {
			first = time.Now()
		}
		if time.Since(first) < time.Second {
			return eventdriven.Transient(errors.New("vision service unavailable"))
		}
		close(done)
		return nil
	})
	receive(t, done, "the handler to succeed")
	eventually(t, "the message committed", func() bool { return f.lag(t, cfg.Group, f.topic) == 0 })
	if got := counter(f.metrics.RetriesTotal, "transient", f.topic, kafka.RetryTransient); got < float64(cfg.MaxAttempts) {
		t.Errorf("transient retries = %v, want more than MaxAttempts (%d)", got, cfg.MaxAttempts)
	}
	if got := counter(f.metrics.RetriesTotal, "transient", f.topic, kafka.RetryError); got != 0 {
		t.Errorf("error retries = %v, want 0", got)
	}
	if got := counter(f.metrics.HandledTotal, "transient", f.topic, kafka.OutcomeOK); got != 1 {
		t.Errorf("handled ok = %v, want 1", got)
	}
	if got := counter(f.metrics.DLQWritesTotal, "transient", f.topic); got != 0 {
		t.Errorf("dlq writes = %v, want 0", got)
	}
	if n := f.count(t, f.dlq); n != 0 {
		t.Errorf("dead-letter topic holds %d messages, want 0", n)
	}
}

func TestGracefulStopCommitsInFlightMessage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	f.publish(t, "photo-1", "slow")
	cfg := f.config("graceful")
	entered := make(chan struct{})
	release := make(chan struct{})
	ctxErr := make(chan error, 1)
	r := f.start(t, cfg, func(ctx context.Context, m *kafka.Message) error {
		close(entered)
		<-release
		ctxErr <- ctx.Err()
		return nil
	})
	receive(t, entered, "the handler to start")
	r.cancel()
	time.Sleep(500 * time.Millisecond) // the stop request propagates
	select {
	case err := <-r.done:
		t.Fatalf("Run returned %v while a message was in flight", err)
	default:
	}
	close(release)
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if err := <-ctxErr; err != nil {
		t.Errorf("the in-flight handler's ctx was cancelled by the stop: %v", err)
	}
	// Run commits before it returns: no waiting.
	if n := f.lag(t, cfg.Group, f.topic); n != 0 {
		t.Errorf("lag after a graceful stop = %d, want 0 (the in-flight message committed)", n)
	}
	if got := counter(f.metrics.HandledTotal, "graceful", f.topic, kafka.OutcomeOK); got != 1 {
		t.Errorf("handled ok = %v, want 1", got)
	}
}

func TestStopWithoutCommitRedelivers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	evs := f.publish(t, "photo-1", "redeliver")
	cfgA := f.config("crashy")
	seenByA := make(chan kgo.Message, 100)
	a := f.start(t, cfgA, func(ctx context.Context, m *kafka.Message) error {
		seenByA <- m.Message
		return eventdriven.Transient(errors.New("dependency down"))
	})
	ma := receive(t, seenByA, "consumer A to get the message")
	if err := a.stop(t); err != nil {
		t.Fatalf("Run of A = %v, want nil", err)
	}
	if n := f.lag(t, cfgA.Group, f.topic); n != 1 {
		t.Fatalf("lag after A stopped = %d, want 1 (nothing committed)", n)
	}
	if got := counter(f.metrics.HandledTotal, "crashy", f.topic, kafka.OutcomeOK); got != 0 {
		t.Errorf("A handled ok = %v, want 0", got)
	}

	cfgB := f.config("healthy")
	cfgB.Group = cfgA.Group
	seenByB := make(chan kgo.Message, 100)
	f.start(t, cfgB, func(ctx context.Context, m *kafka.Message) error {
		seenByB <- m.Message
		return nil
	})
	mb := receive(t, seenByB, "consumer B to get the message again")
	if mb.Partition != ma.Partition || mb.Offset != ma.Offset || string(mb.Key) != evs[0].Subject {
		t.Errorf("B got %d@%d key %q, want A's %d@%d", mb.Partition, mb.Offset, mb.Key, ma.Partition, ma.Offset)
	}
	eventually(t, "B's commit", func() bool { return f.lag(t, cfgA.Group, f.topic) == 0 })
	if got := counter(f.metrics.DLQWritesTotal, "crashy", f.topic); got != 0 {
		t.Errorf("A dead-lettered %v messages, want 0", got)
	}
}

func TestHandlerPanicsAreRecovered(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	f.publish(t, "photo-1", "panics-once", "panics-always", "after")
	cfg := f.config("panicky")
	cfg.MaxAttempts = 2
	var once atomic.Bool
	after := make(chan struct{})
	f.start(t, cfg, func(ctx context.Context, m *kafka.Message) error {
		ev, err := kafka.ParseEvent(m.Message)
		if err != nil {
			return eventdriven.Permanent(err)
		}
		switch ev.Type {
		case "panics-once":
			if once.CompareAndSwap(false, true) {
				panic("nil map somewhere")
			}
		case "panics-always":
			var m map[string]int
			m["x"]++
		case "after":
			close(after)
		}
		return nil
	})
	receive(t, after, "the message after the panicking ones")
	dead := f.readDLQ(t, 1)
	h := headerMap(t, dead[0])
	if h["ce_type"] != "panics-always" || !strings.Contains(h[kafka.HeaderDLQError], "handler panic") || h[kafka.HeaderDLQAttempts] != "2" {
		t.Errorf("dead letter headers = %v", h)
	}
	eventually(t, "all committed", func() bool { return f.lag(t, cfg.Group, f.topic) == 0 })
	if got := counter(f.metrics.HandledTotal, "panicky", f.topic, kafka.OutcomeOK); got != 2 {
		t.Errorf("handled ok = %v, want 2", got)
	}
	if got := counter(f.metrics.HandledTotal, "panicky", f.topic, kafka.OutcomeDeadLettered); got != 1 {
		t.Errorf("dead-lettered = %v, want 1", got)
	}
	if got := counter(f.metrics.RetriesTotal, "panicky", f.topic, kafka.RetryError); got != 2 {
		t.Errorf("error retries = %v, want 2", got)
	}
}

func TestStopTimeoutBoundsTheInFlightHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	f.publish(t, "photo-1", "stuck")
	cfg := f.config("stuck")
	cfg.StopTimeout = 300 * time.Millisecond
	entered := make(chan struct{})
	cause := make(chan error, 1)
	r := f.start(t, cfg, func(ctx context.Context, m *kafka.Message) error {
		close(entered)
		<-ctx.Done() // a handler that only gives up when told to
		cause <- context.Cause(ctx)
		return ctx.Err()
	})
	receive(t, entered, "the handler to start")
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if err := <-cause; err == nil || !strings.Contains(err.Error(), "stop timeout") {
		t.Errorf("handler ctx cause = %v, want the stop timeout", err)
	}
	if n := f.lag(t, cfg.Group, f.topic); n != 1 {
		t.Errorf("lag = %d, want 1: a message cut off by the stop timeout stays uncommitted", n)
	}
	if got := counter(f.metrics.HandledTotal, "stuck", f.topic, kafka.OutcomeDeadLettered); got != 0 {
		t.Errorf("dead-lettered = %v, want 0: our own cancellation is not the message's fault", got)
	}
}

func TestDeadLetterWriteIsRetriedUntilItSucceeds(t *testing.T) {
	t.Parallel()
	f := newFixtureWithoutDLQ(t, 2) // the .dlq topic is missing at first: writes to it fail
	f.publish(t, "photo-1", "malformed", "good")
	cfg := f.config("nodlq")
	var calls atomic.Int32
	good := make(chan struct{})
	f.start(t, cfg, func(ctx context.Context, m *kafka.Message) error {
		ev, err := kafka.ParseEvent(m.Message)
		if err != nil {
			return eventdriven.Permanent(err)
		}
		if ev.Type == "good" {
			close(good)
			return nil
		}
		calls.Add(1)
		return eventdriven.Permanent(errors.New("malformed payload"))
	})
	eventually(t, "the poison message to be handled", func() bool { return calls.Load() == 1 })
	time.Sleep(2 * time.Second) // dead-letter writes fail meanwhile
	if n := f.lag(t, cfg.Group, f.topic); n != 2 {
		t.Fatalf("lag while the dead-letter topic is missing = %d, want 2 (nothing committed, the partition held)", n)
	}
	select {
	case <-good:
		t.Fatal("the message behind an undead-lettered poison message was handled")
	default:
	}
	f.createTopic(t, f.dlq, 1)
	receive(t, good, "the message behind the poison one")
	if got := f.readDLQ(t, 1); headerMap(t, got[0])[kafka.HeaderDLQAttempts] != "1" {
		t.Errorf("dead letter headers = %v", headerMap(t, got[0]))
	}
	eventually(t, "both committed", func() bool { return f.lag(t, cfg.Group, f.topic) == 0 })
	if c := calls.Load(); c != 1 {
		t.Errorf("the poison message's handler ran %d times, want 1 (only the write is retried)", c)
	}
}
