package tagger_test

import (
	"bytes"
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

// Each kind of failure is classified by what it is: the vision service
// or MinIO unavailable is retried (Transient), an answer that the same
// request would get again is dead-lettered (Permanent), a thumbnail gone
// is done.
func TestErrorsByClass(t *testing.T) {
	env := stacktest.Load(t)
	ctx := context.Background()
	store, err := s3store.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	denied, err := s3store.New(env.S3Endpoint, env.S3AccessKey, "not-the-secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	down, err := s3store.New("http://127.0.0.1:1", "x", "y", nil)
	if err != nil {
		t.Fatal(err)
	}
	// serve runs the real vision service with the profile p.
	serve := func(p vision.Profile) string {
		remote, err := vision.NewRemote(p)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(vision.NewServer(slog.New(slog.DiscardHandler), remote, vision.NewMetrics(prometheus.NewRegistry())))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { remote.SetProfile(vision.Profile{}) }) // ends a hang
		return srv.URL
	}
	up := serve(vision.Profile{})
	limited := serve(vision.Profile{RateLimitRPS: 0.001, RetryAfterSeconds: 60})
	vision.NewClient(limited, vision.ClientOptions{}).Analyze(ctx, synth.JPEG(synth.Options{Seed: 1, Width: 8, Height: 8})) // spends the one token

	owner := "tagtest"
	put := func(data []byte) string {
		id := photo.NewID()
		t.Cleanup(func() { store.RemoveThumbnails(ctx, owner, id) })
		if err := store.PutThumbnail(ctx, owner, id, photo.SizeSmall, data); err != nil {
			t.Fatal(err)
		}
		return id
	}
	good := put(synth.JPEG(synth.Options{Seed: 6, Width: 256, Height: 192}))
	notImage := put([]byte("these bytes are no image"))
	huge := put(bytes.Repeat([]byte{0xFF}, s3store.MaxThumbnailBytes+1))

	tests := []struct {
		name      string
		store     *s3store.Store
		visionURL string
		id        string
		want      string // "transient", "permanent", "tagged" or "done"
	}{
		{"tagged", store, up, good, "tagged"},
		{"vision 5xx", store, serve(vision.Profile{Outage: vision.OutageFail}), good, "transient"},
		{"vision 429", store, limited, good, "transient"},
		{"vision timeout", store, serve(vision.Profile{Outage: vision.OutageHang}), good, "transient"},
		{"vision refuses the image (415)", store, up, notImage, "permanent"},
		{"vision not found (404: misconfigured)", store, up + "/nowhere", good, "permanent"},
		{"thumbnail over its bound", store, up, huge, "permanent"},
		{"minio unreachable", down, up, good, "transient"},
		{"minio access denied (403)", denied, up, good, "permanent"},
		{"thumbnail gone: deleted since", store, up, photo.NewID(), "done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &tagger.Handler{Log: slog.New(slog.DiscardHandler), Store: tt.store,
				Vision: vision.NewClient(tt.visionURL, vision.ClientOptions{Retries: -1, Timeout: 300 * time.Millisecond})}
			res, err := h.Handle(ctx, thumbnailed(t, eventdriven.TypeThumbnailed, owner, tt.id))
			got := "done"
			switch {
			case eventdriven.IsTransient(err):
				got = "transient"
			case eventdriven.IsPermanent(err):
				got = "permanent"
			case err != nil:
				got = "other"
			case len(res.Events) == 1 && res.Events[0].Type == eventdriven.TypeTagged:
				got = "tagged"
			}
			if got != tt.want {
				t.Errorf("got %s (%v), want %s", got, err, tt.want)
			}
		})
	}
}
