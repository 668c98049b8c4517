package query

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/internal/httpmetrics"
)

// NewHandler returns query's HTTP API: the read half of package httpapi's
// routes (GET /v1/photos, /v1/photos/{id}, /v1/photos/{id}/thumbnail) over
// a Service. reg is served on /metrics; httpm measures every request.
func NewHandler(log *slog.Logger, cat Catalog, store *s3store.Store, verifier *auth.Verifier, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, opts Options) http.Handler {
	svc := &Service{cat: cat, store: store, opts: opts.withDefaults()}
	return httpapi.NewServer(
		httpapi.Config{Log: log, Verifier: verifier, Metrics: httpm, Gatherer: reg, Health: []httpapi.Check{
			{Name: "catalog", Ping: cat.Ping},
			{Name: "object store", Ping: store.Ping},
		}},
		httpapi.Photos{Reader: svc},
	)
}
