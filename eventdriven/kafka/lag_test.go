package kafka_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven/kafka"
)

func TestLag(t *testing.T) {
	t.Parallel()
	const partitions, events = 3, 12
	f := newFixture(t, partitions)
	for i := range events {
		f.publish(t, fmt.Sprintf("photo-%d", i), "backlog")
	}
	cfg := f.config("lagged")

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	lag, err := kafka.Lag(ctx, f.brokers, cfg.Group, []string{f.topic})
	if err != nil {
		t.Fatal(err)
	}
	if len(lag) != 1 || len(lag[f.topic]) != partitions {
		t.Fatalf("Lag = %v, want %d partitions of %s", lag, partitions, f.topic)
	}
	var total int64
	for p, n := range lag[f.topic] {
		if n < 0 {
			t.Errorf("partition %d: lag %d", p, n)
		}
		total += n
	}
	if total != events {
		t.Errorf("backlog of a group that never consumed = %d, want %d (%v)", total, events, lag)
	}

	// The poller reports the same backlog before any consumer runs.
	c, err := kafka.NewConsumer(cfg, func(context.Context, *kafka.Message) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	pollCtx, stopPoll := context.WithCancel(context.Background())
	polled := make(chan struct{})
	go func() { defer close(polled); c.PollLag(pollCtx, 100*time.Millisecond) }()
	t.Cleanup(func() { stopPoll(); <-polled })
	eventually(t, "the lag gauge to show the backlog", func() bool {
		sum, series := gaugeSum(t, f.reg, "photobench_consumer_lag")
		return sum == events && series == partitions
	})

	var handled atomic.Int32
	f.start(t, cfg, func(context.Context, *kafka.Message) error {
		handled.Add(1)
		return nil
	})
	eventually(t, "lag 0 after consuming", func() bool { return f.lag(t, cfg.Group, f.topic) == 0 })
	if got := handled.Load(); got != events {
		t.Errorf("handled %d messages, want %d", got, events)
	}
	eventually(t, "the lag gauge to drop to 0", func() bool {
		sum, series := gaugeSum(t, f.reg, "photobench_consumer_lag")
		return sum == 0 && series == partitions
	})
}

func TestLagOfMissingTopic(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := kafka.Lag(ctx, f.brokers, "g", []string{f.topic + ".missing"}); err == nil {
		t.Error("Lag of a topic that does not exist succeeded")
	}
}
