// Package kafka is the event transport of the event-driven app. A
// function's logic is an eventdriven.Handler and never sees Kafka; this
// package runs it:
//
//   - Function (function.go) adapts a handler: it decodes a message into an
//     eventdriven.Delivery (a CloudEvent in binary content mode, or MinIO's
//     S3 event records), calls the handler, publishes the events it
//     returns to the function's output topic with the Producer, then runs
//     its After step.
//   - Consumer (consumer.go) fetches a consumer group's messages one at a
//     time, runs each through its middleware chain and commits it.
//   - The chain is the delivery policy, one wrapper each (middleware.go,
//     retry.go, deadletter.go): Measure (metrics), DeadLetter (poison
//     messages to "<topic>.dlq"), Retry (by the error's kind: transient
//     without limit, ordinary up to MaxAttempts), Recover (panics), and a
//     function's own, such as OnFirstSuccess.
//   - RunFunction (serve.go) is an event function's process;
//     Lag (lag.go) is what the scale-to-zero runtime scales on.
//
// It wraps github.com/segmentio/kafka-go (imported as kgo) and avoids that
// library's traps:
//
//   - Reader.ReadMessage commits before the message is processed
//     (at-most-once). The consumer uses FetchMessage, runs the chain, and
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
