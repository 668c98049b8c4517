// Package kafka is the event transport of the event-driven app: the
// CloudEvents codec, a producer, and a consumer that runs a Handler with an
// at-least-once retry and dead-letter policy. Every function uses it, and so
// does the scale-to-zero runtime (through Lag).
//
// It wraps github.com/segmentio/kafka-go (imported as kgo) and avoids that
// library's traps:
//
//   - Reader.ReadMessage commits before the message is processed
//     (at-most-once). The consumer uses FetchMessage, runs the handler, and
//     only then CommitMessages, synchronously.
//   - With a GroupID, Reader.Lag and Reader.Offset return -1. Lag computes a
//     group's lag from its committed offsets against the partitions' end
//     offsets instead.
//   - Writer.BatchTimeout defaults to 1 s and Reader.MaxWait to 10 s, and the
//     group timers (heartbeat 3 s, session 30 s, rebalance 30 s, join backoff
//     5 s) are sized for long-lived servers. Each is set here on purpose; see
//     ProducerOptions and the Reader* constants for the values and why.
//
// Delivery is at-least-once: a message is committed only after its handler
// succeeded or it was written to the dead-letter topic "<topic>.dlq". A
// message can therefore be handled more than once (after a crash, a
// rebalance, or a stop while its dependency was down), so handlers must be
// idempotent.
package kafka
