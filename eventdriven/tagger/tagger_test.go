package tagger_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/eventdriven/tagger"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/vision"
)

// thumbnailed is the delivery of the thumbnailer's event about a photo.
func thumbnailed(t *testing.T, typ, owner, id string) eventdriven.Delivery {
	t.Helper()
	var data any = eventdriven.Thumbnailed{ID: id, Owner: owner, CreatedAt: time.Now().UTC(), Version: "v1"}
	if typ == eventdriven.TypeFailed {
		data = eventdriven.Failed{ID: id, Owner: owner, Reason: "not an image"}
	}
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return eventdriven.Delivery{Event: &eventdriven.Event{ID: eventdriven.EventID(typ, id, "v1"), Source: "test", Type: typ, Subject: id, Data: b}}
}

// The tagger works from the small thumbnail and never reads the original:
// here there is none, so a tagger that read it would find nothing to tag.
func TestTheSmallThumbnailIsTaggedWithoutTheOriginal(t *testing.T) {
	env := stacktest.Load(t)
	ctx := context.Background()
	store, err := s3store.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := vision.NewRemote(vision.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(vision.NewServer(slog.New(slog.DiscardHandler), remote, vision.NewMetrics(prometheus.NewRegistry())))
	t.Cleanup(srv.Close)
	owner, id := "tagtest", photo.NewID()
	t.Cleanup(func() { store.RemoveThumbnails(ctx, owner, id) })
	if err := store.PutThumbnail(ctx, owner, id, photo.SizeSmall, synth.JPEG(synth.Options{Seed: 5, Width: 256, Height: 192})); err != nil {
		t.Fatal(err)
	}
	h := &tagger.Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: store,
		Vision: vision.NewClient(srv.URL, vision.ClientOptions{})}

	res, err := h.Handle(ctx, thumbnailed(t, eventdriven.TypeThumbnailed, owner, id))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.After != nil {
		t.Fatalf("result %+v, want one event", res)
	}
	ev := res.Events[0]
	var d eventdriven.Tagged
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatal(err)
	}
	if ev.Type != eventdriven.TypeTagged || ev.ID != eventdriven.EventID(eventdriven.TypeTagged, id, "v1") || d.ID != id || d.Owner != owner || len(d.Tags) == 0 || d.Hash == "" {
		t.Errorf("event %+v data %+v", ev, d)
	}

	// photo.failed shares the topic and needs no tags.
	if res, err := h.Handle(ctx, thumbnailed(t, eventdriven.TypeFailed, owner, id)); err != nil || len(res.Events) != 0 {
		t.Errorf("photo.failed: %+v, %v; want nothing", res, err)
	}
	// A photo removed since has nothing to tag.
	if res, err := h.Handle(ctx, thumbnailed(t, eventdriven.TypeThumbnailed, owner, photo.NewID())); err != nil || len(res.Events) != 0 {
		t.Errorf("no thumbnail: %+v, %v; want nothing", res, err)
	}
	// Malformed data is dead-lettered.
	bad := eventdriven.Delivery{Event: &eventdriven.Event{ID: "x", Source: "s", Type: eventdriven.TypeThumbnailed, Data: []byte("{")}}
	if _, err := h.Handle(ctx, bad); !eventdriven.IsPermanent(err) {
		t.Errorf("malformed: err = %v, want a permanent error", err)
	}

	srv.Close()
	h.Vision = vision.NewClient(srv.URL, vision.ClientOptions{Retries: -1, Timeout: time.Second})
	if _, err := h.Handle(ctx, thumbnailed(t, eventdriven.TypeThumbnailed, owner, id)); !eventdriven.IsTransient(err) {
		t.Errorf("vision down: err = %v, want a transient error", err)
	}
}
