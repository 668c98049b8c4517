package kafka_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven/kafka"
)

func TestOnFirstSuccessFiresOnceAfterTheFirstSuccess(t *testing.T) {
	fails := true
	calls := 0
	h := kafka.OnFirstSuccess(func() { calls++ })(func(context.Context, *kafka.Message) error {
		if fails {
			return errors.New("not yet")
		}
		return nil
	})
	ctx := context.Background()
	if err := h(ctx, kafka.NewMessage(ctx, kgo.Message{})); err == nil || calls != 0 {
		t.Fatalf("after a failure: err %v, %d calls; want the error and no call", err, calls)
	}
	fails = false
	for range 3 {
		if err := h(ctx, kafka.NewMessage(ctx, kgo.Message{})); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("%d calls after 3 successes, want 1", calls)
	}
}

func TestRecoverTurnsAPanicIntoAnError(t *testing.T) {
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	h := kafka.Recover(log)(func(context.Context, *kafka.Message) error { panic("nil map somewhere") })
	err := h(context.Background(), kafka.NewMessage(context.Background(), kgo.Message{Topic: "t", Partition: 2, Offset: 7}))
	if err == nil || !strings.Contains(err.Error(), "handler panic: nil map somewhere") {
		t.Fatalf("err = %v, want a handler panic error", err)
	}
	for _, want := range []string{"handler panicked", "offset=7", "stack="} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
	ok := kafka.Recover(log)(func(context.Context, *kafka.Message) error { return nil })
	if err := ok(context.Background(), kafka.NewMessage(context.Background(), kgo.Message{})); err != nil {
		t.Errorf("a handler that does not panic: %v", err)
	}
}

// Measure's in-flight gauge counts a message while its handler runs, and
// not after, whether it succeeded or was left uncommitted.
func TestMeasureCountsMessagesInFlight(t *testing.T) {
	mt := kafka.NewMetrics(nil)
	gauge := func() float64 {
		var m dto.Metric
		if err := mt.InFlight.WithLabelValues("f").Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetGauge().GetValue()
	}
	var during float64
	for _, result := range []error{nil, errors.New("left")} {
		h := kafka.Measure("f", mt)(func(context.Context, *kafka.Message) error { during = gauge(); return result })
		h(context.Background(), kafka.NewMessage(context.Background(), kgo.Message{Topic: "t"}))
		if during != 1 || gauge() != 0 {
			t.Errorf("handler returning %v: in flight %v during the call, %v after; want 1, then 0", result, during, gauge())
		}
	}
}

// BenchmarkPolicyChainSuccess is the delivery policy's own cost for a
// message handled at the first try: what every event pays on top of its
// handler.
func BenchmarkPolicyChainSuccess(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	mt := kafka.NewMetrics(nil)
	p := kafka.RetryPolicy{MaxAttempts: 5, Backoff: time.Millisecond, MaxBackoff: time.Millisecond, TransientMaxBackoff: time.Millisecond}
	h := kafka.Chain(func(context.Context, *kafka.Message) error { return nil },
		kafka.Measure("f", mt), kafka.DeadLetter("f", nil, p, log, mt), kafka.Retry("f", p, log, mt), kafka.Recover(log))
	ctx := context.Background()
	msg := kgo.Message{Topic: "t", Partition: 1, Offset: 42, Time: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if err := h(ctx, kafka.NewMessage(ctx, msg)); err != nil {
			b.Fatal(err)
		}
	}
}
