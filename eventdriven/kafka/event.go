package kafka

import (
	"errors"
	"fmt"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
)

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
