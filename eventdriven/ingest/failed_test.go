package ingest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/eventdriven/ingest"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/photo/storetest"
)

// A failed photo has no original left (the thumbnailer removed it), only
// its catalog record: its owner can still delete it (it was 404).
func TestDeleteFailedPhoto(t *testing.T) {
	env := stacktest.Load(t)
	ctx := context.Background()
	store, err := s3store.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Open(ctx, storetest.FreshDatabase(t, env.PGDSN, "pbtest_ingest_"), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cat.Close)
	verifier, err := auth.NewVerifier(secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(ingest.NewHandler(slog.New(slog.NewJSONHandler(io.Discard, nil)), store, verifier, reg,
		httpmetrics.NewMetrics(reg), ingest.Options{Limits: testLimits, Failed: cat}))
	t.Cleanup(srv.Close)
	owner := randomOwner()
	token, other := mint(t, owner), mint(t, randomOwner())

	// The catalog's record of a photo the thumbnailer failed, as its
	// events leave it: created, failed, its original removed.
	id := photo.NewID()
	if err := cat.ObjectCreated(ctx, id, owner, 10, time.Now(), "01"); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Failed(ctx, eventdriven.Failed{ID: id, Owner: owner, Reason: "not a JPEG or PNG image"}); err != nil {
		t.Fatal(err)
	}
	if err := cat.ObjectRemoved(ctx, id, owner, "02"); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/v1/photos/" + id

	resp, body := do(t, http.MethodDelete, url, other, nil)
	wantError(t, resp, body, http.StatusNotFound, photo.NotFound)
	if p, err := cat.Get(ctx, owner, id); err != nil || p.Status != photo.StatusFailed {
		t.Fatalf("after another user's delete: %+v %v, want the failed photo", p, err)
	}

	resp, body = do(t, http.MethodDelete, url, token, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete a failed photo: %d %s, want 204", resp.StatusCode, body)
	}
	if _, err := cat.Get(ctx, owner, id); photo.KindOf(err) != photo.NotFound {
		t.Errorf("Get after the delete: %v, want NotFound", err)
	}
	resp, body = do(t, http.MethodDelete, url, token, nil)
	wantError(t, resp, body, http.StatusNotFound, photo.NotFound)

	// A photo that never was is still 404.
	resp, body = do(t, http.MethodDelete, srv.URL+"/v1/photos/"+photo.NewID(), token, nil)
	wantError(t, resp, body, http.StatusNotFound, photo.NotFound)
}
