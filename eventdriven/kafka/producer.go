package kafka

import (
	"context"
	"fmt"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/internal/outbound"
)

// Producer defaults.
const (
	// DefaultBatchTimeout is how long the writer waits to fill a batch
	// before sending it anyway. kafka-go's default is 1 s, which would add
	// up to a second to every hop of the pipeline (ingest -> thumbnailer ->
	// catalog). 2 ms still lets concurrent Publish calls (many uploads at
	// once) share one produce request.
	DefaultBatchTimeout = 2 * time.Millisecond
	// DefaultBatchSize is the message count at which a batch is sent
	// without waiting for BatchTimeout (kafka-go's default too).
	DefaultBatchSize = 100
)

// ProducerOptions are the producer's tunables. Zero values take the
// defaults.
type ProducerOptions struct {
	// BatchTimeout bounds how long a message waits for its batch to fill;
	// default DefaultBatchTimeout (2 ms).
	BatchTimeout time.Duration
	// BatchSize is the message count that sends a batch at once; default
	// DefaultBatchSize (100).
	BatchSize int
	// Sent, if set, counts every message written
	// (photobench_requests_sent_total{target="kafka",op="produce"}).
	Sent *outbound.Counter
}

// Producer publishes events. It is safe for concurrent use.
//
// It is a kgo.Writer with RequiredAcks all (Publish returns only once the
// broker has the events durably: single-node it costs nothing, and an event
// a handler published is stored before the handler's input is committed),
// the Hash balancer on the key (events of one photo go to one partition, in
// order; kafka-go's Hash is FNV-1a like sarama's, not the Java client's
// murmur2), and topic auto-creation off (a misspelt topic fails instead of
// creating a one-partition topic). kafka-go's own retries apply underneath
// Publish: 10 attempts, backoff 100 ms to 1 s.
type Producer struct {
	w    *kgo.Writer
	sent *outbound.Counter
}

// NewProducer returns a producer for the cluster at brokers. It connects
// lazily, on the first Publish.
func NewProducer(brokers []string, opts ProducerOptions) *Producer {
	if opts.BatchTimeout <= 0 {
		opts.BatchTimeout = DefaultBatchTimeout
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	return &Producer{sent: opts.Sent, w: &kgo.Writer{
		Addr:                   kgo.TCP(brokers...),
		Balancer:               &kgo.Hash{},
		RequiredAcks:           kgo.RequireAll,
		AllowAutoTopicCreation: false,
		BatchTimeout:           opts.BatchTimeout,
		BatchSize:              opts.BatchSize,
	}}
}

// Publish writes events to topic and returns when the broker has
// acknowledged all of them (or with the error of those that failed; a
// partial write is possible, so publishers rely on consumers being
// idempotent and on retrying the whole call). Every event needs an ID, a
// Source and a Type; a zero Time is set to the current time.
func (p *Producer) Publish(ctx context.Context, topic string, events ...eventdriven.Event) error {
	if len(events) == 0 {
		return nil
	}
	msgs := make([]kgo.Message, len(events))
	now := time.Now()
	for i, e := range events {
		if err := validateEvent(e); err != nil {
			return fmt.Errorf("publish to %s: %w", topic, err)
		}
		if e.Time.IsZero() {
			e.Time = now
		}
		msgs[i] = EncodeEvent(e, topic)
	}
	if err := p.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("publish %d events to %s: %w", len(msgs), topic, err)
	}
	return nil
}

// WriteMessages sends raw messages, each naming its topic (the dead-letter
// path), with the same acknowledgement as Publish.
func (p *Producer) WriteMessages(ctx context.Context, msgs ...kgo.Message) error {
	p.sent.Add(outbound.TargetKafka, outbound.OpProduce, len(msgs))
	return p.w.WriteMessages(ctx, msgs...)
}

// Close flushes pending messages and closes the connections.
func (p *Producer) Close() error {
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("close producer: %w", err)
	}
	return nil
}
