package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/internal/sleep"
)

// RetryPolicy is how Retry treats each kind of error (defaults in
// ConsumerConfig's fields of the same names).
type RetryPolicy struct {
	// MaxAttempts is how many times a message failing with an ordinary
	// error is tried in all before it is given up as permanent.
	MaxAttempts int
	// Backoff is the first retry's backoff ceiling, doubled on each retry
	// up to MaxBackoff (ordinary errors) or TransientMaxBackoff (transient
	// ones); the wait is drawn uniformly below it ("full jitter", so
	// replicas retrying the same dependency spread out).
	Backoff, MaxBackoff, TransientMaxBackoff time.Duration
}

// ErrAbandoned marks the error of a message left uncommitted because the
// consumer is stopping (or its stop timeout passed): not the message's
// fault, and so never dead-lettered. It is delivered again.
var ErrAbandoned = errors.New("message left uncommitted")

// abandon wraps err with ErrAbandoned. The cause is kept as text only, so
// a Permanent mark inside it no longer counts.
func abandon(err error) error { return fmt.Errorf("%w: %v", ErrAbandoned, err) }

// Retry calls the handler again after a failure, by the error's kind:
//
//   - eventdriven.Transient: without limit, backoff capped at
//     TransientMaxBackoff, holding the partition; but not once the consumer
//     is stopping (waiting would not bring the dependency back): the
//     message is then abandoned, to be delivered again.
//   - eventdriven.Permanent: not retried; returned for DeadLetter.
//   - any other error: up to MaxAttempts calls in all, backoff capped at
//     MaxBackoff, then returned marked Permanent. These retries go on
//     while stopping (within the stop timeout), so the message is finished
//     rather than started over by another replica.
//
// Retries are counted in photobench_event_retries_total{function,topic,kind}.
// A failure after the handler's ctx ended is abandoned, not classified: it
// is likely the cancellation's own error.
func Retry(function string, p RetryPolicy, log *slog.Logger, mt *Metrics) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) error {
			var failures, transients int
			for m.attempts = 1; ; m.attempts++ {
				err := next(ctx, m)
				if err == nil {
					if m.attempts > 1 {
						messageLog(log, m.Message).Info("message handled after retries", "attempts", m.attempts)
					}
					return nil
				}
				alog := messageLog(log, m.Message).With("attempt", m.attempts, "error", err)
				if ctx.Err() != nil {
					alog.Warn("handler failed after the stop timeout")
					return abandon(err)
				}
				var (
					wait context.Context
					d    time.Duration
					kind string
				)
				switch {
				case eventdriven.IsPermanent(err):
					alog.Warn("permanent failure")
					return err
				case eventdriven.IsTransient(err):
					transients++
					if m.Stopping().Err() != nil {
						alog.Info("dependency unavailable while stopping; not retrying")
						return abandon(err)
					}
					wait, kind = m.Stopping(), RetryTransient
					d = sleep.Backoff(p.Backoff, p.TransientMaxBackoff, transients)
					alog.Warn("dependency unavailable; retrying", "kind", kind, "retry_in", d.String())
				default:
					failures++
					if failures >= p.MaxAttempts {
						alog.Error("handler failed on every attempt", "max_attempts", p.MaxAttempts)
						return eventdriven.Permanent(err)
					}
					wait, kind = ctx, RetryError
					d = sleep.Backoff(p.Backoff, p.MaxBackoff, failures)
					alog.Warn("handler failed; retrying", "kind", kind, "retry_in", d.String())
				}
				if !sleep.For(wait, d) {
					return abandon(err)
				}
				mt.RetriesTotal.WithLabelValues(function, m.Topic, kind).Inc()
			}
		}
	}
}
