// Package tagger is the event function that asks the vision service about
// new originals (s3:ObjectCreated records on photos.objects), independently
// of the thumbnailer that reacts to the same records: it reads the
// original, makes the 256-px rendition the monolith also sends, calls the
// vision service and publishes photo.tagged.
//
// When the vision service is down or slow, the tagger does not fail the
// photo: the error is kafka.Transient, so the consumer retries the event
// until the service is back, holding its partition. Uploads keep being
// accepted meanwhile; the backlog shows as consumer lag and drains when the
// service recovers. That is the coupling the monolith cannot absorb.
package tagger

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/vision"
)

// Source is the CloudEvents source of the tagger's events.
const Source = "/photobench/eventdriven/tagger"

// Analyzer asks the vision service; *vision.Client is one.
type Analyzer interface {
	Analyze(ctx context.Context, data []byte) (vision.Analysis, error)
}

// Publisher publishes domain events; *kafka.Producer is one.
type Publisher interface {
	Publish(ctx context.Context, topic string, events ...kafka.Event) error
}

// Handler is the tagger's logic.
type Handler struct {
	Log    *slog.Logger
	Store  *s3store.Store
	Vision Analyzer
	Out    Publisher
	Limits imaging.Limits
}

// Handle is the kafka.Handler of the tagger.
func (h *Handler) Handle(ctx context.Context, m kgo.Message) error {
	objs, err := eventdriven.Originals(m.Value, deploy.BucketOriginals)
	if err != nil {
		return kafka.Permanent(err)
	}
	for _, o := range objs {
		if !o.Record.Created() {
			continue
		}
		if err := h.created(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) created(ctx context.Context, o eventdriven.Object) error {
	data, err := h.Store.GetOriginal(ctx, o.Owner, o.ID)
	if photo.KindOf(err) == photo.NotFound {
		return nil // removed since
	}
	if err != nil {
		return kafka.Transient(err)
	}
	info, err := imaging.Inspect(data, h.Limits)
	if err != nil {
		return nil // not an image: the thumbnailer fails the photo
	}
	img, err := imaging.Decode(data, info)
	if err != nil {
		return nil
	}
	small, err := imaging.SmallThumbnail(img, info.Orientation)
	if err != nil {
		return nil
	}
	a, err := h.Vision.Analyze(ctx, small.JPEG)
	if err != nil {
		if photo.KindOf(err) == photo.Unavailable {
			return kafka.Transient(err)
		}
		return fmt.Errorf("vision refused photo %s: %w", o.ID, err)
	}
	tags := append([]string(nil), a.Tags...)
	sort.Strings(tags)
	b, err := json.Marshal(eventdriven.Tagged{ID: o.ID, Owner: o.Owner, Tags: tags, Colors: a.Colors, Hash: a.Hash, CreatedAt: o.CreatedAt})
	if err != nil {
		return err
	}
	ev := kafka.Event{
		ID: eventdriven.EventID(eventdriven.TypeTagged, o.ID, o.Version), Source: Source,
		Type: eventdriven.TypeTagged, Subject: o.ID, Time: time.Now().UTC(), Data: b,
	}
	if err := h.Out.Publish(ctx, deploy.TopicTagged, ev); err != nil {
		return kafka.Transient(err)
	}
	return nil
}
