package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"

	kgo "github.com/segmentio/kafka-go"
)

// Middleware wraps a Handler with behaviour of its own, around every call:
// the consumer wraps every handler in Recover; a function adds its own
// (OnFirstSuccess).
type Middleware func(Handler) Handler

// Recover turns a panic in the handler into an ordinary error (retried,
// then dead-lettered like any other), logged with its stack.
func Recover(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m kgo.Message) (err error) {
			defer func() {
				if v := recover(); v != nil {
					log.ErrorContext(ctx, "handler panicked", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset,
						"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
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
		return func(ctx context.Context, m kgo.Message) error {
			err := next(ctx, m)
			if err == nil {
				once.Do(f)
			}
			return err
		}
	}
}
