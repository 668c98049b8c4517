// Package eventdriven is the photo app built as small stateless functions
// choreographed over Kafka, with photos in MinIO:
//
//	client -> ingest --PUT--> MinIO originals --s3:ObjectCreated--> photos.objects
//	    photos.objects -> thumbnailer --> MinIO thumbnails, photo.thumbnailed (or photo.failed)
//	    photo.thumbnailed -> tagger --vision (the small thumbnail)--> photo.tagged
//	    photos.objects, photo.thumbnailed, photo.tagged -> catalog --> its PostgreSQL database
//	client -> query <-- catalog database, MinIO thumbnails
//
// No function calls another; each reacts to events and owns its outputs.
// This package holds what they share: the shape of a function (Handler:
// one decoded Delivery in, the Events it produces out, or an error marked
// Transient or Permanent), the domain events' types and names, and the
// object key layout. The functions live in the subpackages; the transport
// that feeds a Handler from Kafka and publishes what it returns is
// eventdriven/kafka, which the handlers do not import.
package eventdriven

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/s3event"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/photo"
)

// CloudEvents types of the domain events.
const (
	// TypeThumbnailed: the thumbnailer stored both thumbnails of a photo.
	TypeThumbnailed = "photo.thumbnailed"
	// TypeFailed: the thumbnailer found the original is not a valid image
	// and removed it. Published on the thumbnailed topic.
	TypeFailed = "photo.failed"
	// TypeTagged: the tagger has the vision service's analysis.
	TypeTagged = "photo.tagged"
)

// Metadata keys ingest sets on an original (MinIO reports them in its
// event records as X-Amz-Meta-<Key>).
const (
	MetaOwner     = "owner"
	MetaCreatedAt = "created-at"
)

// Thumbnailed is the data of a photo.thumbnailed event.
type Thumbnailed struct {
	ID         string                         `json:"id"`
	Owner      string                         `json:"owner"`
	Format     photo.Format                   `json:"format"`
	Width      int                            `json:"width"`
	Height     int                            `json:"height"`
	Bytes      int64                          `json:"bytes"`
	Thumbnails map[photo.Size]photo.Thumbnail `json:"thumbnails"`
	CreatedAt  time.Time                      `json:"created_at"`
	// Version identifies the original the thumbnails were made from (its
	// object event's sequencer), so that the events derived from this one
	// get deterministic ids too.
	Version string `json:"version,omitempty"`
}

// Failed is the data of a photo.failed event.
type Failed struct {
	ID     string `json:"id"`
	Owner  string `json:"owner"`
	Reason string `json:"reason"`
}

// Tagged is the data of a photo.tagged event.
type Tagged struct {
	ID        string    `json:"id"`
	Owner     string    `json:"owner"`
	Tags      []string  `json:"tags"`
	Colors    []string  `json:"colors"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// ObjectKey is the key of a photo's original in the originals bucket.
func ObjectKey(owner, id string) string { return "users/" + owner + "/" + id }

// ThumbnailKey is the key of one of a photo's thumbnails in the thumbnails
// bucket. It is deterministic, so writing it again replaces, never adds.
func ThumbnailKey(owner, id string, size photo.Size) string {
	return "users/" + owner + "/" + id + "/" + string(size) + ".jpg"
}

// ParseObjectKey reads owner and photo id from an originals key; keys not
// of that shape (written by someone else) are an error.
func ParseObjectKey(key string) (owner, id string, err error) {
	parts := strings.Split(key, "/")
	if len(parts) != 3 || parts[0] != "users" || !auth.ValidUser(parts[1]) || !photo.ValidID(parts[2]) {
		return "", "", fmt.Errorf("object key %q is not users/<owner>/<photo id>", key)
	}
	return parts[1], parts[2], nil
}

// CheckPhoto checks the photo an event's data names: id must be a photo id
// (a UUID) and owner a user id. Event bodies are not trusted: one that
// fails the check is forged or from a broken publisher, and a handler
// returns the error marked Permanent, before it uses either in a key or a
// query.
func CheckPhoto(id, owner string) error {
	switch {
	case !photo.ValidID(id):
		return fmt.Errorf("photo id %q is not a UUID", brief.Clip(id, 64))
	case !auth.ValidUser(owner):
		return fmt.Errorf("owner %q is not a user id", brief.Clip(owner, 80))
	}
	return nil
}

// EventID makes a deterministic CloudEvents id: the same input (event
// type, photo, and the version of the original it was made from) gives the
// same id, so a replayed handler republishes an identical event that
// consumers recognise as a duplicate.
func EventID(typ, photoID, version string) string {
	return typ + ":" + photoID + ":" + version
}

// Object is one MinIO record about an app's original.
type Object struct {
	Record    s3event.Record
	Owner, ID string
	// CreatedAt is when the photo was uploaded: the created-at metadata
	// ingest sets, or MinIO's event time for a presigned upload.
	CreatedAt time.Time
	// Version identifies the object event (its sequencer), for
	// deterministic event ids.
	Version string
}

// Originals parses a photos.objects message and returns its records about
// originals of the app (bucket originals, key users/<owner>/<id>); records
// about other buckets or keys are left out. Malformed JSON is an error.
func Originals(value []byte, originalsBucket string) ([]Object, error) {
	msg, err := s3event.Parse(value)
	if err != nil {
		return nil, err
	}
	var objs []Object
	for _, rec := range msg.Records {
		if rec.S3.Bucket.Name != originalsBucket {
			continue
		}
		owner, id, err := ParseObjectKey(rec.S3.Object.Key)
		if err != nil {
			continue
		}
		objs = append(objs, Object{Record: rec, Owner: owner, ID: id, CreatedAt: createdAt(rec), Version: rec.S3.Object.Sequencer})
	}
	return objs, nil
}

func createdAt(rec s3event.Record) time.Time {
	for k, v := range rec.S3.Object.UserMetadata {
		if strings.EqualFold(k, "X-Amz-Meta-"+MetaCreatedAt) || strings.EqualFold(k, MetaCreatedAt) {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return t.UTC().Truncate(time.Microsecond)
			}
		}
	}
	return rec.EventTime.UTC().Truncate(time.Microsecond)
}

// Event is a CloudEvents 1.0 event as the functions exchange it (the
// transport carries it in Kafka's binary content mode).
type Event struct {
	// ID identifies the event within its source. Publishers derive it from
	// their input (EventID), not at random, so that a redelivered input
	// produces the same event and consumers can recognise duplicates.
	ID string
	// Source names the producer, e.g. "/photobench/eventdriven/tagger".
	Source string
	// Type is the event type, e.g. TypeThumbnailed.
	Type string
	// Subject is the photo id. The transport uses it as the Kafka key, so
	// every event of one photo lands on one partition and keeps its order.
	Subject string
	// Time is when the occurrence happened (optional; the transport fills
	// in the publish time when it is zero).
	Time time.Time
	// Data is the JSON payload.
	Data []byte
}

// Delivery is what a function's Handler receives: one decoded message,
// either a storage notification or a domain event.
type Delivery struct {
	// Objects are a storage notification's records about the app's
	// originals (records about anything else are left out, so it may be
	// empty). Nil for a domain event.
	Objects []Object
	// Event is the domain event; nil for a storage notification.
	Event *Event
}

// Result is what a Handler produced from one Delivery.
type Result struct {
	// Events are published, in order, to the function's output topic
	// before the delivery is acknowledged.
	Events []Event
	// After, if set, runs once Events are published: a step that must
	// follow them (the thumbnailer removes an invalid original only once
	// photo.failed is out, or a replay would find nothing to fail). Its
	// error is treated like the handler's: the whole delivery is tried
	// again, so the handler and After must be idempotent.
	After func(ctx context.Context) error
}

// Handler is a function's logic: a decoded delivery in, the events it
// produces out. It does not publish, commit, retry or know topic names;
// the transport does (eventdriven/kafka). Its error decides what the
// transport does with the delivery: Transient (tried again until the
// dependency is back), Permanent (dead-lettered at once), anything else
// (tried a few times, then dead-lettered). Deliveries are at least once,
// so a Handler must be idempotent.
type Handler func(ctx context.Context, d Delivery) (Result, error)

// Transient marks err as a dependency being unavailable (the vision service
// down, MinIO or PostgreSQL unreachable): the message is fine, the world is
// not. The transport retries it without limit, with capped exponential
// backoff, holding its partition (the backlog waits behind it, in order),
// and never dead-letters it. Transient returns nil for a nil err.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err}
}

// Permanent marks err as one that retrying cannot fix (a malformed event,
// an object that is not an image): the transport dead-letters the message
// at once. Permanent returns nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsTransient reports whether err was marked with Transient. When an error
// carries both marks, the outermost one decides.
func IsTransient(err error) bool { return classify(err) == kindTransient }

// IsPermanent reports whether err was marked with Permanent. When an error
// carries both marks, the outermost one decides.
func IsPermanent(err error) bool { return classify(err) == kindPermanent }

type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

type errKind int

const (
	kindOther errKind = iota
	kindTransient
	kindPermanent
)

// classify walks err's tree depth-first and returns the first mark found,
// which for a simple chain of %w wraps is the outermost one.
func classify(err error) errKind {
	for err != nil {
		switch e := err.(type) {
		case *transientError:
			return kindTransient
		case *permanentError:
			return kindPermanent
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if k := classify(inner); k != kindOther {
					return k
				}
			}
			return kindOther
		}
		err = errors.Unwrap(err)
	}
	return kindOther
}
