// Package thumbnailer is the event function that reacts to new originals
// (s3:ObjectCreated records on photos.objects): it reads the original from
// MinIO, validates and decodes it, writes both thumbnails to the thumbnails
// bucket under deterministic keys and publishes photo.thumbnailed. An
// original that is not a valid image (a presigned upload can be anything)
// gets photo.failed with the reason, and its bytes are removed. When an
// original is removed (s3:ObjectRemoved), it removes the thumbnails.
//
// An original is read only up to the byte limit (Limits.MaxBytes): MinIO's
// answer gives its size before the body is read, and a larger one (put
// into the bucket by anyone with its keys: ingest and presigned uploads
// cannot exceed the limit) is failed like any invalid original, its body
// never read. So an object of any size costs at most the limit in memory.
//
// Storage errors are classified by s3store.EventError: MinIO unreachable
// or 5xx is Transient (retried until it is back), a 4xx (AccessDenied,
// NoSuchBucket, InvalidArgument) is Permanent (dead-lettered with the
// error as its reason). NoSuchKey is not an error: the user deleted the
// photo before its turn came, a normal race, and the s3:ObjectRemoved
// event that follows cleans up, so the event is acknowledged as done.
//
// Every step is idempotent: replaying an event rewrites the same keys and
// produces an event with the same id and content. The handler is plain
// logic: the transport (eventdriven/kafka) decodes its input, publishes
// what it returns and retries or dead-letters by its error's kind.
package thumbnailer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/photo"
)

// Source is the CloudEvents source of the thumbnailer's events.
const Source = "/photobench/eventdriven/thumbnailer"

// Handler is the thumbnailer's logic.
type Handler struct {
	Log    *slog.Logger
	Store  *s3store.Store
	Limits imaging.Limits
}

// Handle is the thumbnailer's eventdriven.Handler: for each original
// created, the thumbnails written and a photo.thumbnailed event (or
// photo.failed, with the original's removal to follow it); for each one
// removed, its thumbnails removed. Storage errors are classified by
// s3store.EventError.
func (h *Handler) Handle(ctx context.Context, d eventdriven.Delivery) (eventdriven.Result, error) {
	var (
		res    eventdriven.Result
		afters []func(context.Context) error
	)
	for _, o := range d.Objects {
		switch {
		case o.Record.Created():
			ev, after, err := h.created(ctx, o)
			if err != nil {
				return eventdriven.Result{}, err
			}
			if ev != nil {
				res.Events = append(res.Events, *ev)
			}
			if after != nil {
				afters = append(afters, after)
			}
		case o.Record.Removed():
			if err := h.Store.RemoveThumbnails(ctx, o.Owner, o.ID); err != nil {
				return eventdriven.Result{}, s3store.EventError(err)
			}
		}
	}
	if len(afters) > 0 {
		res.After = func(ctx context.Context) error {
			for _, f := range afters {
				if err := f(ctx); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return res, nil
}

// created makes a new original's thumbnails. It returns the event to
// publish (nil if the original is gone), and for an invalid original the
// step that removes it once photo.failed is published: in that order, so
// that if the removal fails the replay publishes the same event again
// (same id) and retries the removal.
func (h *Handler) created(ctx context.Context, o eventdriven.Object) (*eventdriven.Event, func(context.Context) error, error) {
	data, err := h.Store.GetOriginal(ctx, o.Owner, o.ID, h.Limits.MaxBytes)
	switch k := photo.KindOf(err); {
	case k == photo.NotFound:
		return nil, nil, nil // removed since: the removal event follows
	case err != nil && k != photo.TooLarge:
		return nil, nil, s3store.EventError(err)
	}
	// An original over the limit was refused from its size, unread; it
	// is failed below like any invalid one.
	var res imaging.Result
	if err == nil {
		res, err = imaging.Process(ctx, data, h.Limits)
	}
	if err != nil {
		if k := photo.KindOf(err); k == photo.Internal {
			return nil, nil, err // a bug or resource problem: retry, then dead-letter
		}
		reason := photo.MessageOf(err)
		h.Log.InfoContext(ctx, "invalid original", "photo", o.ID, "reason", reason)
		ev, err := event(eventdriven.TypeFailed, o, eventdriven.Failed{ID: o.ID, Owner: o.Owner, Reason: reason})
		remove := func(ctx context.Context) error {
			if err := h.Store.RemoveOriginal(ctx, o.Owner, o.ID); err != nil && photo.KindOf(err) != photo.NotFound {
				return s3store.EventError(err)
			}
			return nil
		}
		return ev, remove, err
	}
	info := res.Info
	t := eventdriven.Thumbnailed{
		ID: o.ID, Owner: o.Owner, Format: info.Format, Width: info.Width, Height: info.Height,
		Bytes: info.Bytes, Thumbnails: map[photo.Size]photo.Thumbnail{}, CreatedAt: o.CreatedAt, Version: o.Version,
	}
	for _, th := range res.Thumbs {
		if err := h.Store.PutThumbnail(ctx, o.Owner, o.ID, th.Size, th.JPEG); err != nil {
			return nil, nil, s3store.EventError(err)
		}
		t.Thumbnails[th.Size] = photo.Thumbnail{Width: th.Width, Height: th.Height, Bytes: int64(len(th.JPEG))}
	}
	ev, err := event(eventdriven.TypeThumbnailed, o, t)
	return ev, nil, err
}

// event builds the thumbnailer's event of type typ about o.
func event(typ string, o eventdriven.Object, data any) (*eventdriven.Event, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", typ, err)
	}
	return &eventdriven.Event{
		ID: eventdriven.EventID(typ, o.ID, o.Version), Source: Source, Type: typ,
		Subject: o.ID, Time: time.Now().UTC(), Data: b,
	}, nil
}
