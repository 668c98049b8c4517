package thumbnailer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	miniogo "github.com/minio/minio-go/v7"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/s3event"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/eventdriven/thumbnailer"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/minio"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
)

// created is the delivery of one s3:ObjectCreated record about an
// original.
func created(owner, id string) eventdriven.Delivery {
	return eventdriven.Delivery{Objects: []eventdriven.Object{{
		Record: s3event.Record{EventName: "s3:ObjectCreated:Put"}, Owner: owner, ID: id,
		CreatedAt: time.Now().UTC(), Version: "v1",
	}}}
}

func setup(t *testing.T) (*thumbnailer.Handler, *s3store.Store) {
	t.Helper()
	env := stacktest.Load(t)
	store, err := s3store.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &thumbnailer.Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: store, Limits: imaging.DefaultLimits}, store
}

func TestAValidOriginalGivesThumbnailsAndOneEvent(t *testing.T) {
	h, store := setup(t)
	ctx := context.Background()
	owner, id := "thumbtest", photo.NewID()
	t.Cleanup(func() { store.RemoveOriginal(ctx, owner, id); store.RemoveThumbnails(ctx, owner, id) })
	if err := store.PutOriginal(ctx, owner, id, synth.JPEG(synth.Options{Seed: 3, Width: 640, Height: 480}), "image/jpeg", time.Now()); err != nil {
		t.Fatal(err)
	}
	res, err := h.Handle(ctx, created(owner, id))
	if err != nil {
		t.Fatal(err)
	}
	if res.After != nil || len(res.Events) != 1 {
		t.Fatalf("result %+v, want one event and no After step", res)
	}
	ev := res.Events[0]
	if ev.Type != eventdriven.TypeThumbnailed || ev.Subject != id || ev.ID != eventdriven.EventID(eventdriven.TypeThumbnailed, id, "v1") {
		t.Errorf("event %+v", ev)
	}
	var d eventdriven.Thumbnailed
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Width != 640 || d.Height != 480 || len(d.Thumbnails) != 2 {
		t.Errorf("data %+v", d)
	}
	for size := range d.Thumbnails {
		if _, err := store.GetThumbnail(ctx, owner, id, size); err != nil {
			t.Errorf("thumbnail %s: %v", size, err)
		}
	}
}

func TestAnInvalidOriginalIsFailedThenRemoved(t *testing.T) {
	h, store := setup(t)
	ctx := context.Background()
	owner := "thumbtest"
	var (
		id  string
		res eventdriven.Result
	)
	// The stack's own thumbnailer sees the same original and removes it
	// once it has failed it; when it wins the race the handler finds
	// nothing (that case is checked below), so try again with a new photo.
	for range 5 {
		id = photo.NewID()
		mine := id
		t.Cleanup(func() { store.RemoveOriginal(ctx, owner, mine) })
		if err := store.PutOriginal(ctx, owner, id, []byte("not an image at all"), "image/jpeg", time.Now()); err != nil {
			t.Fatal(err)
		}
		var err error
		if res, err = h.Handle(ctx, created(owner, id)); err != nil {
			t.Fatal(err)
		}
		if len(res.Events) > 0 {
			break
		}
	}
	if len(res.Events) != 1 || res.Events[0].Type != eventdriven.TypeFailed {
		t.Fatalf("events %+v, want one photo.failed", res.Events)
	}
	if res.After == nil {
		t.Fatal("no After step: the original would be removed before photo.failed is published, or never")
	}
	if err := res.After(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.GetOriginal(ctx, owner, id, 1<<20); photo.KindOf(err) != photo.NotFound {
		t.Errorf("original after the After step: %v, want NotFound", err)
	}
	// Replayed after the removal (its After step failed, say): nothing to
	// do, and no error.
	if res, err := h.Handle(ctx, created(owner, id)); err != nil || len(res.Events) != 0 {
		t.Errorf("replay: %+v, %v; want nothing", res, err)
	}
}

func TestMinIODownIsTransient(t *testing.T) {
	store, err := s3store.New("http://127.0.0.1:1", "x", "y", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &thumbnailer.Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: store, Limits: imaging.DefaultLimits}
	_, err = h.Handle(context.Background(), created("thumbtest", photo.NewID()))
	if !eventdriven.IsTransient(err) {
		t.Errorf("err = %v, want a transient error", err)
	}
}

// scratch returns a handler whose store keeps originals and thumbnails in
// a bucket of the test's own, without notifications, so that the stack's
// own thumbnailer does not race it for what the test puts there.
func scratch(t *testing.T) (*thumbnailer.Handler, *s3store.Store) {
	t.Helper()
	h, store := setup(t)
	env := stacktest.Load(t)
	bucket := stacktest.FreshBucket(t, env, "pbtest-thumbnailer-")
	mc, err := minio.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(context.Background(), bucket, miniogo.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	h.Store = store.WithBuckets(bucket, bucket)
	return h, h.Store
}

// An object larger than the limit, put straight into the bucket (ingest
// and presigned uploads cannot make one), is failed from its size without
// its body being read: the handler allocates far less than the object.
func TestAnOversizedOriginalIsFailedUnread(t *testing.T) {
	h, store := scratch(t)
	ctx := context.Background()
	owner, id := "thumbtest", photo.NewID()
	const size = 64 << 20
	if err := store.PutOriginal(ctx, owner, id, bytes.Repeat([]byte{0xFF}, size), "image/jpeg", time.Now()); err != nil {
		t.Fatal(err)
	}
	d := created(owner, id) // the record's size is not trusted: MinIO's answer gives it

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := h.Handle(ctx, d)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("the handler allocated %d bytes for a %d-byte object over the %d-byte limit: it read the body", alloc, size, h.Limits.MaxBytes)
	}
	if len(res.Events) != 1 || res.Events[0].Type != eventdriven.TypeFailed || res.After == nil {
		t.Fatalf("result %+v, want one photo.failed and an After step", res)
	}
	var f eventdriven.Failed
	if err := json.Unmarshal(res.Events[0].Data, &f); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Reason, "larger than the limit") {
		t.Errorf("reason %q, want one about the limit", f.Reason)
	}
	if err := res.After(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := store.StatOriginal(ctx, owner, id); photo.KindOf(err) != photo.NotFound {
		t.Errorf("original after the After step: %v, want NotFound", err)
	}
}

// What MinIO answers decides what becomes of the event: retried while
// MinIO is unavailable, dead-lettered for an answer that retrying cannot
// change, acknowledged when the original is gone (deleted by its owner
// before its turn: the removal event follows).
func TestStorageErrorsByClass(t *testing.T) {
	h, store := scratch(t)
	env := stacktest.Load(t)
	ctx := context.Background()
	owner, id := "thumbtest", photo.NewID()
	if err := store.PutOriginal(ctx, owner, id, synth.JPEG(synth.Options{Seed: 4, Width: 64, Height: 48}), "image/jpeg", time.Now()); err != nil {
		t.Fatal(err)
	}
	denied, err := s3store.New(env.S3Endpoint, env.S3AccessKey, "not-the-secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := func(err error) bool { return err == nil }
	tests := []struct {
		name  string
		store *s3store.Store
		id    string
		want  func(error) bool
	}{
		{"access denied (403)", denied, id, eventdriven.IsPermanent},
		{"no such bucket (404)", store.WithBuckets("pbtest-no-such-bucket", "pbtest-no-such-bucket"), id, eventdriven.IsPermanent},
		{"no such key: deleted since", store, photo.NewID(), done},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := *h
			h.Store = tt.store
			res, err := h.Handle(ctx, created(owner, tt.id))
			if !tt.want(err) || err == nil && len(res.Events) > 0 {
				t.Errorf("result %+v, error %v (transient %v, permanent %v)", res, err, eventdriven.IsTransient(err), eventdriven.IsPermanent(err))
			}
		})
	}
}
