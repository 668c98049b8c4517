package kafka

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/internal/sleep"
)

// DLQSuffix is appended to a topic's name to name its dead-letter topic.
// The stack creates "<topic>.dlq" beside every event topic (auto-creation
// is off): a consumer of a topic without one cannot dead-letter, and keeps
// retrying the write, holding the partition.
const DLQSuffix = ".dlq"

// Headers a dead-lettered message carries besides its original headers.
const (
	HeaderDLQTopic     = "dlq_topic"     // the original topic
	HeaderDLQPartition = "dlq_partition" // the original partition, decimal
	HeaderDLQOffset    = "dlq_offset"    // the original offset, decimal
	HeaderDLQError     = "dlq_error"     // the last error's text (up to 4 KiB)
	HeaderDLQAttempts  = "dlq_attempts"  // handler calls made, decimal
	HeaderDLQFunction  = "dlq_function"  // ConsumerConfig.Function
)

// dlqErrorMax caps the dlq_error header (the error text) in bytes.
const dlqErrorMax = 4096

// Writer writes raw messages; *Producer is one.
type Writer interface {
	WriteMessages(ctx context.Context, msgs ...kgo.Message) error
}

// DeadLetter writes a message whose handling failed with an
// eventdriven.Permanent error to "<topic>.dlq" (key, value and headers
// kept, the dlq_* headers added) and acknowledges it, so the partition
// moves on; watermill calls this the poison queue. Other errors pass
// through. A refused write is Kafka being down: it is retried with
// backoff (Backoff up to TransientMaxBackoff) until it succeeds or the
// consumer stops, which leaves the message uncommitted.
func DeadLetter(function string, w Writer, p RetryPolicy, log *slog.Logger, mt *Metrics) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, m *Message) error {
			err := next(ctx, m)
			if err == nil || !eventdriven.IsPermanent(err) {
				return err
			}
			dlqTopic := m.Topic + DLQSuffix
			out := kgo.Message{Topic: dlqTopic, Key: m.Key, Value: m.Value, Headers: dlqHeaders(function, m, err)}
			log := messageLog(log, m.Message).With("dlq_topic", dlqTopic, "attempts", m.Attempts(), "error", err)
			for n := 1; ; n++ {
				werr := w.WriteMessages(ctx, out)
				if werr == nil {
					mt.DLQWritesTotal.WithLabelValues(function, m.Topic).Inc()
					log.Error("message dead-lettered")
					m.deadLettered = true
					return nil
				}
				if ctx.Err() != nil || m.Stopping().Err() != nil {
					log.Warn("dead-letter write failed while stopping; leaving the message uncommitted", "dlq_error", werr)
					return abandon(werr)
				}
				d := sleep.Backoff(p.Backoff, p.TransientMaxBackoff, n)
				log.Warn("dead-letter write failed; retrying", "dlq_error", werr, "retry_in", d.String())
				if !sleep.For(m.Stopping(), d) {
					return abandon(werr)
				}
			}
		}
	}
}

// dlqHeaders are m's headers plus the dlq_* ones describing cause.
func dlqHeaders(function string, m *Message, cause error) []kgo.Header {
	msg := cause.Error()
	if len(msg) > dlqErrorMax {
		msg = strings.ToValidUTF8(msg[:dlqErrorMax], "")
	}
	return append(append(make([]kgo.Header, 0, len(m.Headers)+6), m.Headers...),
		kgo.Header{Key: HeaderDLQTopic, Value: []byte(m.Topic)},
		kgo.Header{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kgo.Header{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		kgo.Header{Key: HeaderDLQError, Value: []byte(msg)},
		kgo.Header{Key: HeaderDLQAttempts, Value: []byte(strconv.Itoa(m.Attempts()))},
		kgo.Header{Key: HeaderDLQFunction, Value: []byte(function)},
	)
}
