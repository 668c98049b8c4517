package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/internal/outbound"
)

// Publisher publishes events to a topic; *Producer is one.
type Publisher interface {
	Publish(ctx context.Context, topic string, events ...eventdriven.Event) error
}

// Route is where a function's input comes from and its output goes: the
// deployment registry (eventdriven/deploy) fills it in, so the function's
// logic never names a topic or bucket.
type Route struct {
	// Originals is the bucket whose storage notifications the function
	// reads; records about other buckets are left out of its Delivery.
	Originals string
	// Out is the topic the function's events are published to; empty for
	// a function that publishes none.
	Out string
}

// Function adapts a function's logic to the transport: it decodes the
// message into an eventdriven.Delivery (a CloudEvent if the message
// carries the ce_specversion header, else a storage notification: MinIO's
// S3 event JSON), calls h, publishes the events h returned to route.Out,
// then runs the result's After step.
//
// A message that does not decode is eventdriven.Permanent. A failed
// publish is eventdriven.Transient (Kafka is down); After's error is
// returned as h's would be. Either way the whole delivery is tried again:
// h and After are idempotent, and republished events keep their ids.
func Function(h eventdriven.Handler, route Route, out Publisher) Handler {
	return func(ctx context.Context, m *Message) error {
		d, err := decode(m, route.Originals)
		if err != nil {
			return eventdriven.Permanent(err)
		}
		res, err := h(ctx, d)
		if err != nil {
			return err
		}
		if len(res.Events) > 0 {
			if route.Out == "" || out == nil {
				return eventdriven.Permanent(fmt.Errorf("handler produced %d events but the function has no output topic", len(res.Events)))
			}
			if err := out.Publish(ctx, route.Out, res.Events...); err != nil {
				return eventdriven.Transient(err)
			}
		}
		if res.After != nil {
			return res.After(ctx)
		}
		return nil
	}
}

// decode turns a message into a Delivery.
func decode(m *Message, originals string) (eventdriven.Delivery, error) {
	for _, h := range m.Headers {
		if h.Key == HeaderSpecVersion {
			ev, err := ParseEvent(m.Message)
			if err != nil {
				return eventdriven.Delivery{}, err
			}
			return eventdriven.Delivery{Event: &ev}, nil
		}
	}
	objs, err := eventdriven.Originals(m.Value, originals)
	if err != nil {
		return eventdriven.Delivery{}, fmt.Errorf("storage notification (%s/%d@%d): %w", m.Topic, m.Partition, m.Offset, err)
	}
	return eventdriven.Delivery{Objects: objs}, nil
}

// Kafka header names of the CloudEvents Kafka protocol binding, binary
// content mode: the event's attributes travel as headers, its data as the
// message value.
const (
	HeaderID          = "ce_id"
	HeaderSource      = "ce_source"
	HeaderType        = "ce_type"
	HeaderSpecVersion = "ce_specversion"
	HeaderTime        = "ce_time"
	HeaderSubject     = "ce_subject"
	HeaderContentType = "content-type"
)

// SpecVersion is the CloudEvents version this package writes and accepts.
const SpecVersion = "1.0"

// ContentType is the content type of every event's data.
const ContentType = "application/json"

// EncodeEvent encodes e for topic in binary content mode: Key = Subject, Value
// = Data, headers ce_id, ce_source, ce_type, ce_specversion ("1.0"),
// ce_time (RFC 3339 with nanoseconds, UTC), ce_subject and content-type
// (application/json). ce_time and ce_subject are omitted when empty, as
// CloudEvents allows. The Kafka timestamp is left zero, so the writer stamps
// the produce time: that is what the consumers' delivery-delay histogram
// measures from.
func EncodeEvent(e eventdriven.Event, topic string) kgo.Message {
	h := []kgo.Header{
		{Key: HeaderID, Value: []byte(e.ID)},
		{Key: HeaderSource, Value: []byte(e.Source)},
		{Key: HeaderType, Value: []byte(e.Type)},
		{Key: HeaderSpecVersion, Value: []byte(SpecVersion)},
	}
	if !e.Time.IsZero() {
		h = append(h, kgo.Header{Key: HeaderTime, Value: []byte(e.Time.UTC().Format(time.RFC3339Nano))})
	}
	if e.Subject != "" {
		h = append(h, kgo.Header{Key: HeaderSubject, Value: []byte(e.Subject)})
	}
	h = append(h, kgo.Header{Key: HeaderContentType, Value: []byte(ContentType)})
	var key []byte
	if e.Subject != "" {
		key = []byte(e.Subject)
	}
	return kgo.Message{Topic: topic, Key: key, Value: e.Data, Headers: h}
}

// ParseEvent decodes a message written by EncodeEvent. It fails when
// ce_specversion is not "1.0", when ce_id, ce_source or ce_type is missing
// or empty, or when ce_time is present but not RFC 3339. Such a message
// will never parse however often it is retried: the transport marks the
// error eventdriven.Permanent.
func ParseEvent(m kgo.Message) (eventdriven.Event, error) {
	hdr := func(key string) (string, bool) {
		for _, h := range m.Headers {
			if h.Key == key {
				return string(h.Value), true
			}
		}
		return "", false
	}
	var errs []error
	if v, ok := hdr(HeaderSpecVersion); !ok {
		errs = append(errs, fmt.Errorf("missing header %s", HeaderSpecVersion))
	} else if v != SpecVersion {
		errs = append(errs, fmt.Errorf("header %s is %q, want %q", HeaderSpecVersion, v, SpecVersion))
	}
	e := eventdriven.Event{Data: m.Value}
	for _, f := range []struct {
		key string
		dst *string
	}{{HeaderID, &e.ID}, {HeaderSource, &e.Source}, {HeaderType, &e.Type}} {
		v, _ := hdr(f.key)
		if v == "" {
			errs = append(errs, fmt.Errorf("missing header %s", f.key))
		}
		*f.dst = v
	}
	e.Subject, _ = hdr(HeaderSubject)
	if v, ok := hdr(HeaderTime); ok && v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("header %s: %w", HeaderTime, err))
		}
		e.Time = t
	}
	if err := errors.Join(errs...); err != nil {
		return eventdriven.Event{}, fmt.Errorf("parse event (%s/%d@%d): %w", m.Topic, m.Partition, m.Offset, err)
	}
	return e, nil
}

// validateEvent checks what ParseEvent requires, so that nothing published
// is unparseable.
func validateEvent(e eventdriven.Event) error {
	var errs []error
	for _, f := range []struct{ name, v string }{{"id", e.ID}, {"source", e.Source}, {"type", e.Type}} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("event has no %s", f.name))
		}
	}
	return errors.Join(errs...)
}

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
// It is a kgo.Writer with RequiredAcks all (Publish returns only once
// every in-sync replica has appended the events, so an event a handler
// published is stored before the handler's input is committed). Appended
// is not flushed: Kafka acknowledges from the page cache and leaves fsync
// to the operating system. The local stack runs one broker with Kafka's
// default flush settings, so an acknowledged event survives the broker
// being killed (the kernel still writes the page cache out) but may be lost
// in a machine crash or power cut within the last few seconds; a
// production cluster gets its durability from replication instead
// (replication factor 3, min.insync.replicas 2), which acks all waits for.
// It also uses the Hash balancer on the key (events of one photo go to one
// partition, in order; kafka-go's Hash is FNV-1a like sarama's, not the
// Java client's murmur2), and topic auto-creation off (a misspelt topic
// fails instead of creating a one-partition topic). kafka-go's own retries apply underneath
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
