// Package thumbnailer is the event function that reacts to new originals
// (s3:ObjectCreated records on photos.objects): it reads the original from
// MinIO, validates and decodes it, writes both thumbnails to the thumbnails
// bucket under deterministic keys and publishes photo.thumbnailed. An
// original that is not a valid image (a presigned upload can be anything)
// gets photo.failed with the reason, and its bytes are removed. When an
// original is removed (s3:ObjectRemoved), it removes the thumbnails.
//
// Every step is idempotent: replaying an event rewrites the same keys and
// republishes an event with the same id and content.
package thumbnailer

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/photo"
)

// Source is the CloudEvents source of the thumbnailer's events.
const Source = "/photobench/eventdriven/thumbnailer"

// Publisher publishes domain events; *kafka.Producer is one.
type Publisher interface {
	Publish(ctx context.Context, topic string, events ...kafka.Event) error
}

// Handler is the thumbnailer's logic.
type Handler struct {
	Log    *slog.Logger
	Store  *s3store.Store
	Out    Publisher
	Limits imaging.Limits
}

// Handle is the kafka.Handler of the thumbnailer. Storage and Kafka errors
// are kafka.Transient; a malformed record is kafka.Permanent.
func (h *Handler) Handle(ctx context.Context, m kgo.Message) error {
	objs, err := eventdriven.Originals(m.Value, deploy.BucketOriginals)
	if err != nil {
		return kafka.Permanent(err)
	}
	for _, o := range objs {
		switch {
		case o.Record.Created():
			err = h.created(ctx, o)
		case o.Record.Removed():
			if rerr := h.Store.RemoveThumbnails(ctx, o.Owner, o.ID); rerr != nil {
				err = kafka.Transient(rerr)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) created(ctx context.Context, o eventdriven.Object) error {
	data, err := h.Store.GetOriginal(ctx, o.Owner, o.ID)
	if photo.KindOf(err) == photo.NotFound {
		return nil // removed since: the removal event follows
	}
	if err != nil {
		return kafka.Transient(err)
	}
	res, err := imaging.Process(data, h.Limits)
	if err != nil {
		if k := photo.KindOf(err); k == photo.Internal {
			return err // a bug or resource problem: retry, then dead-letter
		}
		return h.fail(ctx, o, photo.MessageOf(err))
	}
	info := res.Info
	t := eventdriven.Thumbnailed{
		ID: o.ID, Owner: o.Owner, Format: info.Format, Width: info.Width, Height: info.Height,
		Bytes: info.Bytes, Thumbnails: map[photo.Size]photo.Thumbnail{}, CreatedAt: o.CreatedAt,
	}
	for _, th := range res.Thumbs {
		if err := h.Store.PutThumbnail(ctx, o.Owner, o.ID, th.Size, th.JPEG); err != nil {
			return kafka.Transient(err)
		}
		t.Thumbnails[th.Size] = photo.Thumbnail{Width: th.Width, Height: th.Height, Bytes: int64(len(th.JPEG))}
	}
	return h.publish(ctx, eventdriven.TypeThumbnailed, o, t)
}

// fail publishes photo.failed, then removes the original's bytes. In that
// order: if the removal fails, the replay publishes the same event again
// (same id) and retries the removal.
func (h *Handler) fail(ctx context.Context, o eventdriven.Object, reason string) error {
	h.Log.InfoContext(ctx, "invalid original", "photo", o.ID, "reason", reason)
	if err := h.publish(ctx, eventdriven.TypeFailed, o, eventdriven.Failed{ID: o.ID, Owner: o.Owner, Reason: reason}); err != nil {
		return err
	}
	if err := h.Store.RemoveOriginal(ctx, o.Owner, o.ID); err != nil && photo.KindOf(err) != photo.NotFound {
		return kafka.Transient(err)
	}
	return nil
}

func (h *Handler) publish(ctx context.Context, typ string, o eventdriven.Object, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s: %w", typ, err)
	}
	ev := kafka.Event{
		ID: eventdriven.EventID(typ, o.ID, o.Version), Source: Source, Type: typ,
		Subject: o.ID, Time: time.Now().UTC(), Data: b,
	}
	if err := h.Out.Publish(ctx, deploy.TopicThumbnailed, ev); err != nil {
		return kafka.Transient(err)
	}
	return nil
}
