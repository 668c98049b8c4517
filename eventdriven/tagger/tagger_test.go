package tagger_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/s3event"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/eventdriven/tagger"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/vision"
	"github.com/prometheus/client_golang/prometheus"
)

func created(owner, id string) eventdriven.Delivery {
	return eventdriven.Delivery{Objects: []eventdriven.Object{{
		Record: s3event.Record{EventName: "s3:ObjectCreated:Put"}, Owner: owner, ID: id,
		CreatedAt: time.Now().UTC(), Version: "v1",
	}}}
}

func TestAnOriginalIsTaggedAndVisionDownIsTransient(t *testing.T) {
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
	t.Cleanup(func() { store.RemoveOriginal(ctx, owner, id) })
	if err := store.PutOriginal(ctx, owner, id, synth.JPEG(synth.Options{Seed: 5, Width: 800, Height: 600}), "image/jpeg", time.Now()); err != nil {
		t.Fatal(err)
	}
	h := &tagger.Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: store,
		Vision: vision.NewClient(srv.URL, vision.ClientOptions{}), Limits: imaging.DefaultLimits}

	res, err := h.Handle(ctx, created(owner, id))
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

	srv.Close()
	h.Vision = vision.NewClient(srv.URL, vision.ClientOptions{Retries: -1, Timeout: time.Second})
	if _, err := h.Handle(ctx, created(owner, id)); !eventdriven.IsTransient(err) {
		t.Errorf("vision down: err = %v, want a transient error", err)
	}
}
