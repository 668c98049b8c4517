package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/eventdriven/s3event"
	"github.com/photobench/photobench/photo"
)

func newHandler(s *catalog.Store) *catalog.Handler {
	return &catalog.Handler{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: s, Metrics: catalog.NewMetrics(prometheus.NewRegistry())}
}

// What the database refuses for the event's own sake is permanent: the
// same event would fail the same way forever and hold its partition.
func TestWhatTheDatabaseRefusesIsPermanent(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	id := photo.NewID()
	for name, write := range map[string]func() error{
		"photo id not a UUID (22P02)": func() error {
			_, err := s.Tagged(ctx, eventdriven.Tagged{ID: "x", Owner: "alice", CreatedAt: created}, time.Time{})
			return err
		},
		"width out of range": func() error {
			_, err := s.Thumbnailed(ctx, eventdriven.Thumbnailed{ID: id, Owner: "alice", Width: 1 << 40, CreatedAt: created}, time.Time{})
			return err
		},
		"NUL in a reason (22021)": func() error {
			_, err := s.Failed(ctx, eventdriven.Failed{ID: photo.NewID(), Owner: "alice", Reason: "bad\x00reason"})
			return err
		},
		"object id not a UUID": func() error {
			return s.ObjectCreated(ctx, "not-a-uuid", "alice", 1, created, "01")
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := write()
			if !eventdriven.IsPermanent(err) {
				t.Errorf("err = %v, want a permanent error", err)
			}
		})
	}
}

// The event of the issue, {"id":"x"}, through the handler: dead-lettered,
// not retried.
func TestHandlerDeadLettersANonUUIDPhotoID(t *testing.T) {
	h := newHandler(openStore(t))
	for _, typ := range []string{eventdriven.TypeThumbnailed, eventdriven.TypeTagged, eventdriven.TypeFailed} {
		d := eventdriven.Delivery{Event: &eventdriven.Event{ID: "e", Source: "s", Type: typ, Data: []byte(`{"id":"x","owner":"alice"}`)}}
		if _, err := h.Handle(context.Background(), d); !eventdriven.IsPermanent(err) {
			t.Errorf("%s with id x: err = %v, want a permanent error", typ, err)
		}
	}
}

// A database that cannot be reached is transient: the partition waits for
// it, nothing is dead-lettered.
func TestUnreachableDatabaseIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	s, err := catalog.Connect(fmt.Sprintf("postgres://nobody@%s/catalog?sslmode=disable&connect_timeout=2", addr), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := newHandler(s)
	ctx := context.Background()
	id := photo.NewID()
	rec := s3event.Record{EventName: "s3:ObjectCreated:Put"}
	for name, d := range map[string]eventdriven.Delivery{
		"object created": {Objects: []eventdriven.Object{{Record: rec, Owner: "alice", ID: id, CreatedAt: created, Version: "01"}}},
		"tagged":         domain(t, eventdriven.TypeTagged, id, eventdriven.Tagged{ID: id, Owner: "alice", CreatedAt: created}),
		"failed":         domain(t, eventdriven.TypeFailed, id, eventdriven.Failed{ID: id, Owner: "alice", Reason: "r"}),
	} {
		_, err := h.Handle(ctx, d)
		if !eventdriven.IsTransient(err) || !strings.Contains(err.Error(), "connect") {
			t.Errorf("%s: err = %v, want a transient connection error", name, err)
		}
	}
}

// An event about another user's photo is forged: permanent, and the
// photo is as it was.
func TestForgedOwnerChangesNothing(t *testing.T) {
	s := openStore(t)
	h := newHandler(s)
	ctx := context.Background()
	id := photo.NewID()
	if err := s.ObjectCreated(ctx, id, "alice", 1234, created, "01"); err != nil {
		t.Fatal(err)
	}
	created2 := s3event.Record{EventName: "s3:ObjectCreated:Put"}
	removed := s3event.Record{EventName: "s3:ObjectRemoved:Delete"}
	forged := map[string]eventdriven.Delivery{
		"thumbnailed": domain(t, eventdriven.TypeThumbnailed, id, eventdriven.Thumbnailed{ID: id, Owner: "mallory", Format: "jpeg", Width: 1, Height: 1,
			Thumbnails: map[photo.Size]photo.Thumbnail{photo.SizeSmall: {Width: 1, Height: 1, Bytes: 1}}, CreatedAt: created}),
		"tagged":         domain(t, eventdriven.TypeTagged, id, eventdriven.Tagged{ID: id, Owner: "mallory", Tags: []string{"forged"}, CreatedAt: created}),
		"failed":         domain(t, eventdriven.TypeFailed, id, eventdriven.Failed{ID: id, Owner: "mallory", Reason: "forged"}),
		"object created": {Objects: []eventdriven.Object{{Record: created2, Owner: "mallory", ID: id, CreatedAt: created, Version: "09"}}},
		"object removed": {Objects: []eventdriven.Object{{Record: removed, Owner: "mallory", ID: id, Version: "0A"}}},
	}
	for name, d := range forged {
		if _, err := h.Handle(ctx, d); !eventdriven.IsPermanent(err) || !errors.Is(err, catalog.ErrOtherOwner) {
			t.Errorf("forged %s: err = %v, want a permanent ErrOtherOwner", name, err)
		}
	}
	p, err := s.Get(ctx, "alice", id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != photo.StatusPending || len(p.Tags) != 0 || p.Width != 0 || p.Bytes != 1234 || p.FailureReason != "" {
		t.Errorf("after forged events: %+v, want alice's photo pending and untouched", p)
	}
	if _, err := s.Get(ctx, "mallory", id); photo.KindOf(err) != photo.NotFound {
		t.Errorf("mallory's Get: %v, want NotFound", err)
	}
	// Alice's own events still complete it.
	run(t, s, id, []step{thumbnailed, tagged})
	if p, err := s.Get(ctx, "alice", id); err != nil || p.Status != photo.StatusReady || strings.Join(p.Tags, ",") != "blue,landscape" {
		t.Errorf("after alice's events: %+v %v, want ready with her tags", p, err)
	}
	// A ready photo: forged events are still refused, not silently ignored.
	for name, d := range forged {
		if _, err := h.Handle(ctx, d); !errors.Is(err, catalog.ErrOtherOwner) {
			t.Errorf("forged %s on a ready photo: err = %v, want ErrOtherOwner", name, err)
		}
	}
	if p, err := s.Get(ctx, "alice", id); err != nil || p.Status != photo.StatusReady {
		t.Errorf("after forged events on a ready photo: %+v %v", p, err)
	}
}

// A failed photo can be deleted by its owner, and stays deleted whatever
// event arrives late.
func TestDeleteFailed(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	failedID, pendingID := photo.NewID(), photo.NewID()
	run(t, s, failedID, []step{objectCreated("01"), failed, objectRemoved("02")})
	run(t, s, pendingID, []step{objectCreated("01")})

	for _, tt := range []struct {
		name, owner, id string
	}{{"another user's", "mallory", failedID}, {"a pending photo", "alice", pendingID}, {"an unknown photo", "alice", photo.NewID()}} {
		if ok, err := s.DeleteFailed(ctx, tt.owner, tt.id); ok || err != nil {
			t.Errorf("%s: %v %v, want false, nil", tt.name, ok, err)
		}
	}
	if ok, err := s.DeleteFailed(ctx, "alice", failedID); !ok || err != nil {
		t.Fatalf("DeleteFailed: %v %v, want true", ok, err)
	}
	if ok, err := s.DeleteFailed(ctx, "alice", failedID); ok || err != nil {
		t.Errorf("second DeleteFailed: %v %v, want false (already deleted)", ok, err)
	}
	run(t, s, failedID, []step{failed, objectRemoved("03"), objectCreated("04"), thumbnailed, tagged})
	if _, err := s.Get(ctx, "alice", failedID); photo.KindOf(err) != photo.NotFound {
		t.Errorf("Get after the delete and late events: %v, want NotFound", err)
	}
	if _, err := s.DeleteFailed(ctx, "alice", "x"); photo.KindOf(err) != photo.Invalid {
		t.Errorf("DeleteFailed of a malformed id: %v, want Invalid", err)
	}
}

func TestStuck(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, tt := range []struct {
		stage string
		steps []step
	}{
		{"stored", []step{objectCreated("01")}},
		{"thumbnailed", []step{objectCreated("01"), thumbnailed}},
		{"tagged", []step{tagged}},
		{"", []step{objectCreated("01"), thumbnailed, tagged}}, // ready
		{"", []step{objectCreated("01"), failed}},              // failed
		{"", []step{objectCreated("01"), objectRemoved("02")}}, // deleted
	} {
		id := photo.NewID()
		run(t, s, id, tt.steps)
		if tt.stage != "" {
			ids[id] = tt.stage
		}
	}
	stuck, err := s.Stuck(ctx, created.Add(time.Second), 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, st := range stuck {
		got[st.ID] = st.Stage
		if st.Owner != "alice" || !st.CreatedAt.Equal(created) {
			t.Errorf("stuck %+v", st)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("stuck %v, want %v", got, ids)
	}
	if stuck, err := s.Stuck(ctx, created, 100); err != nil || len(stuck) != 0 {
		t.Errorf("cutoff at the upload: %v %v, want none", stuck, err)
	}
}
