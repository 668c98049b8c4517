// Package s3event parses the S3 event notifications that MinIO publishes to
// Kafka: JSON records in the S3 event message structure (version 2.x), one
// message per event, carrying metadata only (bucket, key, size, ETag,
// sequencer), never object bytes.
package s3event

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Message is one notification as MinIO publishes it: the event name, the
// object path ("bucket/key", not URL-encoded) and the records.
type Message struct {
	EventName string   `json:"EventName"`
	Key       string   `json:"Key"`
	Records   []Record `json:"Records"`
}

// Record is one S3 event record.
type Record struct {
	EventVersion string    `json:"eventVersion"`
	EventSource  string    `json:"eventSource"`
	EventTime    time.Time `json:"eventTime"`
	EventName    string    `json:"eventName"`
	S3           struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object Object `json:"object"`
	} `json:"s3"`
}

// Object describes the object an event is about.
type Object struct {
	// EncodedKey is the key as it appears in the record: URL-encoded
	// (query-escaped, so "/" is "%2F" and a space is "+"). Use Key.
	EncodedKey   string            `json:"key"`
	Size         int64             `json:"size"`
	ETag         string            `json:"eTag"`
	ContentType  string            `json:"contentType"`
	UserMetadata map[string]string `json:"userMetadata"`
	// Sequencer orders events on the same key: a greater value (compared as
	// hexadecimal numbers of equal length) is a later event.
	Sequencer string `json:"sequencer"`
	// Key is the decoded object key, filled in by Parse.
	Key string `json:"-"`
}

// Created reports whether the record is an s3:ObjectCreated:* event.
func (r Record) Created() bool { return strings.HasPrefix(r.EventName, "s3:ObjectCreated:") }

// Removed reports whether the record is an s3:ObjectRemoved:* event.
func (r Record) Removed() bool { return strings.HasPrefix(r.EventName, "s3:ObjectRemoved:") }

// Parse decodes a notification and URL-decodes every record's object key.
// It fails on malformed JSON, a message without records, or a key that is
// not validly encoded.
func Parse(b []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, fmt.Errorf("parse s3 event: %w", err)
	}
	if len(m.Records) == 0 {
		return Message{}, errors.New("parse s3 event: no records")
	}
	for i := range m.Records {
		o := &m.Records[i].S3.Object
		k, err := url.QueryUnescape(o.EncodedKey)
		if err != nil {
			return Message{}, fmt.Errorf("parse s3 event: object key %q: %w", o.EncodedKey, err)
		}
		o.Key = k
	}
	return m, nil
}

// Later reports whether sequencer a orders after b. MinIO's sequencers are
// hexadecimal strings; a longer one is a greater number.
func Later(a, b string) bool {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return strings.ToUpper(a) > strings.ToUpper(b)
}

// Created builds the notification MinIO would publish for an object
// created in bucket under key: an s3:ObjectCreated:Put record with the
// object's size, ETag, content type and user metadata (keys as MinIO
// writes them, "X-Amz-Meta-<name>"), timed at modified and sequenced by it
// as MinIO sequences, in hexadecimal nanoseconds. source names who
// publishes it in place of MinIO ("eventSource"). It returns the message and
// the Kafka key MinIO uses for it ("bucket/key").
func Created(source, bucket, key string, size int64, etag, contentType string, meta map[string]string, modified time.Time) (Message, string) {
	rec := Record{EventVersion: "2.0", EventSource: source, EventTime: modified.UTC(), EventName: "s3:ObjectCreated:Put"}
	rec.S3.Bucket.Name = bucket
	um := map[string]string{}
	for k, v := range meta {
		um["X-Amz-Meta-"+k] = v
	}
	rec.S3.Object = Object{
		EncodedKey: url.QueryEscape(key), Key: key, Size: size, ETag: etag, ContentType: contentType,
		UserMetadata: um, Sequencer: fmt.Sprintf("%X", modified.UnixNano()),
	}
	path := bucket + "/" + key
	return Message{EventName: rec.EventName, Key: path, Records: []Record{rec}}, path
}
