// Package tagger is the event function that asks the vision service about
// new photos: it reacts to photo.thumbnailed, reads the small thumbnail the
// thumbnailer wrote (the same 256-px rendition the monolith sends), calls
// the vision service and returns photo.tagged. It never reads an original:
// each original is decoded once, by the thumbnailer. Tagging therefore
// follows thumbnailing (a pipeline), where it used to run beside it on the
// object event; the catalog still assembles the two results.
//
// When the vision service is down or slow, the tagger does not fail the
// photo: the error is eventdriven.Transient, so the transport retries the
// event until the service is back, holding its partition. Uploads keep
// being accepted meanwhile; the backlog shows as consumer lag and drains
// when the service recovers. That is the coupling the monolith cannot
// absorb.
//
// Errors are classified by what they are. The vision service unavailable
// (5xx, 429, timeouts: after the client's own retries) is Transient; a
// 4xx other than 429 (it refuses the image, or the tagger is
// misconfigured) is Permanent and dead-lettered with the refusal as its
// reason, since sending the same bytes again gets the same answer. MinIO
// errors are classified by s3store.EventError; a thumbnail is read only up
// to s3store.MaxThumbnailBytes, and a missing one means the photo was
// deleted since, so the event is done.
package tagger

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/s3store"
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
}

// Handle is the tagger's eventdriven.Handler: a photo.tagged event for each
// photo.thumbnailed; other events on the topic (photo.failed) need no tags.
func (h *Handler) Handle(ctx context.Context, d eventdriven.Delivery) (eventdriven.Result, error) {
	if d.Event == nil || d.Event.Type != eventdriven.TypeThumbnailed {
		return eventdriven.Result{}, nil
	}
	var t eventdriven.Thumbnailed
	if err := json.Unmarshal(d.Event.Data, &t); err != nil || eventdriven.CheckPhoto(t.ID, t.Owner) != nil {
		return eventdriven.Result{}, eventdriven.Permanent(fmt.Errorf("%s event %s: malformed data: %v", d.Event.Type, d.Event.ID,
			cmp.Or(err, eventdriven.CheckPhoto(t.ID, t.Owner))))
	}
	ev, err := h.tag(ctx, t, d.Event.ID)
	if err != nil || ev == nil {
		return eventdriven.Result{}, err
	}
	return eventdriven.Result{Events: []eventdriven.Event{*ev}}, nil
}

// tag asks the vision service about the photo's small thumbnail. It
// returns nil when there is nothing to tag: the photo was removed since.
func (h *Handler) tag(ctx context.Context, t eventdriven.Thumbnailed, inputID string) (*eventdriven.Event, error) {
	small, err := h.Store.GetThumbnail(ctx, t.Owner, t.ID, photo.SizeSmall)
	if photo.KindOf(err) == photo.NotFound {
		return nil, nil // removed since
	}
	if err != nil {
		return nil, s3store.EventError(err)
	}
	a, err := h.Vision.Analyze(ctx, small)
	if err != nil {
		if photo.KindOf(err) == photo.Unavailable || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, eventdriven.Transient(err)
		}
		return nil, eventdriven.Permanent(fmt.Errorf("vision refused photo %s: %w", t.ID, err))
	}
	tags := append([]string(nil), a.Tags...)
	sort.Strings(tags)
	b, err := json.Marshal(eventdriven.Tagged{ID: t.ID, Owner: t.Owner, Tags: tags, Colors: a.Colors, Hash: a.Hash, CreatedAt: t.CreatedAt})
	if err != nil {
		return nil, err
	}
	version := t.Version
	if version == "" {
		version = inputID // an event from before Version existed: still deterministic
	}
	return &eventdriven.Event{
		ID: eventdriven.EventID(eventdriven.TypeTagged, t.ID, version), Source: Source,
		Type: eventdriven.TypeTagged, Subject: t.ID, Time: time.Now().UTC(), Data: b,
	}, nil
}
