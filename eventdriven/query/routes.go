package query

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/photo"
)

// NewHandler returns query's HTTP API: the read half of package httpapi's
// routes (GET /v1/photos, /v1/photos/{id}, /v1/photos/{id}/thumbnail) over
// a Service. reg is served on /metrics; httpm measures every request.
func NewHandler(log *slog.Logger, cat Catalog, store *s3store.Store, verifier *auth.Verifier, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, opts Options) http.Handler {
	svc := &Service{cat: cat, store: store, opts: opts.withDefaults()}
	return httpapi.NewServer(
		httpapi.Config{Log: log, Verifier: verifier, Metrics: httpm, Gatherer: reg, Health: svc.ping},
		httpapi.Photos{Reader: svc},
	)
}

// ping checks that the catalog and the object store answer (/healthz).
func (s *Service) ping(ctx context.Context) error {
	if err := s.cat.Ping(ctx); err != nil {
		return &photo.Error{Kind: photo.Unavailable, Message: "catalog unavailable", RetryAfter: time.Second, Err: err}
	}
	if err := s.store.Ping(ctx); err != nil {
		return &photo.Error{Kind: photo.Unavailable, Message: "object store unavailable", RetryAfter: time.Second, Err: err}
	}
	return nil
}
