package catalog_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/eventdriven/s3event"
	"github.com/photobench/photobench/photo"
)

func domain(t *testing.T, typ, id string, data any) eventdriven.Delivery {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return eventdriven.Delivery{Event: &eventdriven.Event{ID: typ + ":" + id, Source: "test", Type: typ, Subject: id, Data: b}}
}

func TestHandlerFoldsTheThreeEventsIntoAReadyPhoto(t *testing.T) {
	s := openStore(t)
	m := catalog.NewMetrics(prometheus.NewRegistry())
	h := &catalog.Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: s, Metrics: m}
	ctx := context.Background()
	id := photo.NewID()
	rec := s3event.Record{EventName: "s3:ObjectCreated:Put"}
	rec.S3.Object.Size = 1234
	// The thumbnailed event carries its producer's time, the tagged one
	// none: the catalog's apply time stands in.
	before := time.Now().Add(-time.Millisecond)
	deliveries := []eventdriven.Delivery{
		{Objects: []eventdriven.Object{{Record: rec, Owner: "alice", ID: id, CreatedAt: created, Version: "0001"}}},
		domain(t, eventdriven.TypeThumbnailed, id, eventdriven.Thumbnailed{ID: id, Owner: "alice", Format: "jpeg", Width: 4, Height: 3,
			Thumbnails: map[photo.Size]photo.Thumbnail{photo.SizeSmall: {Width: 4, Height: 3, Bytes: 10}, photo.SizeLarge: {Width: 4, Height: 3, Bytes: 20}}, CreatedAt: created}),
		domain(t, eventdriven.TypeTagged, id, eventdriven.Tagged{ID: id, Owner: "alice", Tags: []string{"sky"}, Hash: "h", CreatedAt: created}),
	}
	deliveries[1].Event.Time = thumbnailedAt
	for i, d := range deliveries {
		res, err := h.Handle(ctx, d)
		if err != nil || len(res.Events) != 0 || res.After != nil {
			t.Fatalf("delivery %d: %+v, %v; want no events and no error", i, res, err)
		}
	}
	after := time.Now().Add(time.Millisecond)
	p, err := s.Get(ctx, "alice", id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != photo.StatusReady {
		t.Errorf("status %s, want ready", p.Status)
	}
	if !equalTime(p.ThumbnailedAt, thumbnailedAt) {
		t.Errorf("thumbnailed at %v, want the event's time %v", p.ThumbnailedAt, thumbnailedAt)
	}
	if p.TaggedAt == nil || p.TaggedAt.Before(before) || p.TaggedAt.After(after) {
		t.Errorf("tagged at %v, want the apply time, in [%v, %v]", p.TaggedAt, before, after)
	}
	var got dto.Metric
	if err := m.UploadToReady.WithLabelValues("ready").(prometheus.Histogram).Write(&got); err != nil {
		t.Fatal(err)
	}
	if n := got.GetHistogram().GetSampleCount(); n != 1 {
		t.Errorf("upload-to-ready observed %d times, want 1", n)
	}
}

func TestHandlerDeadLettersWhatCannotBeRead(t *testing.T) {
	h := &catalog.Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: openStore(t), Metrics: catalog.NewMetrics(prometheus.NewRegistry())}
	id := photo.NewID()
	bad := domain(t, eventdriven.TypeThumbnailed, id, map[string]string{"id": id}) // no owner
	unknown := domain(t, "photo.resized", id, map[string]string{})
	garbled := eventdriven.Delivery{Event: &eventdriven.Event{ID: "x", Source: "s", Type: eventdriven.TypeTagged, Data: []byte("{")}}
	for name, d := range map[string]eventdriven.Delivery{"no owner": bad, "unknown type": unknown, "not JSON": garbled} {
		if _, err := h.Handle(context.Background(), d); !eventdriven.IsPermanent(err) {
			t.Errorf("%s: err = %v, want a permanent error", name, err)
		}
	}
}
