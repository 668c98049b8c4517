package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	kgo "github.com/segmentio/kafka-go"
)

// Message is one fetched Kafka message on its way through a consumer's
// middleware chain. The wrappers record on it what the ones outside them
// report (how many attempts were made, whether it was dead-lettered).
type Message struct {
	kgo.Message
	// stopping is Run's context: done once the consumer has been asked to
	// stop, while the handler's own context lives on for StopTimeout.
	stopping context.Context
	// attempts counts handler calls; Retry sets it.
	attempts int
	// deadLettered is set by DeadLetter once the message is in its
	// dead-letter topic.
	deadLettered bool
}

// NewMessage wraps m for a chain called outside a Consumer (tests, tools):
// stopping is done when the caller stops, as a Consumer's Run context is.
func NewMessage(stopping context.Context, m kgo.Message) *Message {
	return &Message{Message: m, stopping: stopping}
}

// Stopping is done once the consumer has been asked to stop. Wrappers use
// it to give up waits that only a live consumer should make (the backoff
// before retrying a dependency that is down), leaving the message
// uncommitted; the handler's ctx is not cancelled by it.
func (m *Message) Stopping() context.Context {
	if m.stopping == nil {
		return context.Background()
	}
	return m.stopping
}

// Attempts is how many times the handler has been called for m.
func (m *Message) Attempts() int { return max(m.attempts, 1) }

// Handler handles one message. Returning nil acknowledges it: the consumer
// commits it. An error leaves it uncommitted, to be delivered again; the
// consumer then stops (nothing after it on its partition may be committed
// before it). Retry and DeadLetter decide which errors get that far.
//
// The handler's ctx is not cancelled when the consumer is asked to stop:
// the in-flight message gets ConsumerConfig.StopTimeout more to finish.
type Handler func(ctx context.Context, m *Message) error

// Middleware wraps a Handler with behaviour of its own around every call,
// in the manner of watermill's router middleware: Measure, DeadLetter,
// Retry and Recover make the consumer's delivery policy; a function adds
// its own (OnFirstSuccess).
type Middleware func(Handler) Handler

// Chain wraps h in mw, the first outermost: Chain(h, a, b) is a(b(h)).
func Chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Recover turns a panic in the handler into an ordinary error (retried,
// then dead-lettered like any other), logged with its stack.
func Recover(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) (err error) {
			defer func() {
				if v := recover(); v != nil {
					messageLog(log, m.Message).ErrorContext(ctx, "handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					err = fmt.Errorf("handler panic: %v", v)
				}
			}()
			return next(ctx, m)
		}
	}
}

// OnFirstSuccess calls f once, right after the first message the handler
// handled without error. Functions print a line with it that the
// scale-to-zero runtime reads to time a cold start up to the first event
// handled.
func OnFirstSuccess(f func()) Middleware {
	return func(next Handler) Handler {
		var once sync.Once
		return func(ctx context.Context, m *Message) error {
			err := next(ctx, m)
			if err == nil {
				once.Do(f)
			}
			return err
		}
	}
}

// Measure records the consumer metrics of function (the label) around the
// whole policy: the delivery delay of every delivery, and for each message
// acknowledged its outcome (OutcomeOK or OutcomeDeadLettered) and its
// handling time, retries and backoff included. A message left
// uncommitted is not counted: it will be delivered again. The in-flight
// gauge counts every message inside the policy.
func Measure(function string, mt *Metrics) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) error {
			mt.DeliveryDelay.WithLabelValues(function, m.Topic).Observe(max(time.Since(m.Time), 0).Seconds())
			start := time.Now()
			inFlight := mt.InFlight.WithLabelValues(function)
			inFlight.Inc()
			defer inFlight.Dec()
			if err := next(ctx, m); err != nil {
				return err
			}
			outcome := OutcomeOK
			if m.deadLettered {
				outcome = OutcomeDeadLettered
			}
			mt.HandledTotal.WithLabelValues(function, m.Topic, outcome).Inc()
			mt.HandlingDuration.WithLabelValues(function, m.Topic).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}
