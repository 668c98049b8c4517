// Package tagger is the event function that asks the vision service about
// new originals (s3:ObjectCreated records on photos.objects), independently
// of the thumbnailer that reacts to the same records: it reads the
// original, makes the 256-px rendition the monolith also sends, calls the
// vision service and publishes photo.tagged.
//
// When the vision service is down or slow, the tagger does not fail the
// photo: the error is eventdriven.Transient, so the transport retries the event
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

	"github.com/photobench/photobench/eventdriven"
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

// Handler is the tagger's logic.
type Handler struct {
	Log    *slog.Logger
	Store  *s3store.Store
	Vision Analyzer
	Limits imaging.Limits
}

// Handle is the tagger's eventdriven.Handler: a photo.tagged event for
// each original created.
func (h *Handler) Handle(ctx context.Context, d eventdriven.Delivery) (eventdriven.Result, error) {
	var res eventdriven.Result
	for _, o := range d.Objects {
		if !o.Record.Created() {
			continue
		}
		ev, err := h.created(ctx, o)
		if err != nil {
			return eventdriven.Result{}, err
		}
		if ev != nil {
			res.Events = append(res.Events, *ev)
		}
	}
	return res, nil
}

// created asks the vision service about a new original. It returns nil
// when there is nothing to tag: the original is gone, or is not an image
// (the thumbnailer fails the photo).
func (h *Handler) created(ctx context.Context, o eventdriven.Object) (*eventdriven.Event, error) {
	data, err := h.Store.GetOriginal(ctx, o.Owner, o.ID)
	if photo.KindOf(err) == photo.NotFound {
		return nil, nil // removed since
	}
	if err != nil {
		return nil, eventdriven.Transient(err)
	}
	info, err := imaging.Inspect(data, h.Limits)
	if err != nil {
		return nil, nil
	}
	img, err := imaging.Decode(data, info)
	if err != nil {
		return nil, nil
	}
	small, err := imaging.SmallThumbnail(img, info.Orientation)
	if err != nil {
		return nil, nil
	}
	a, err := h.Vision.Analyze(ctx, small.JPEG)
	if err != nil {
		if photo.KindOf(err) == photo.Unavailable {
			return nil, eventdriven.Transient(err)
		}
		return nil, fmt.Errorf("vision refused photo %s: %w", o.ID, err)
	}
	tags := append([]string(nil), a.Tags...)
	sort.Strings(tags)
	b, err := json.Marshal(eventdriven.Tagged{ID: o.ID, Owner: o.Owner, Tags: tags, Colors: a.Colors, Hash: a.Hash, CreatedAt: o.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &eventdriven.Event{
		ID: eventdriven.EventID(eventdriven.TypeTagged, o.ID, o.Version), Source: Source,
		Type: eventdriven.TypeTagged, Subject: o.ID, Time: time.Now().UTC(), Data: b,
	}, nil
}
