package ingest

import (
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

// NewHandler returns ingest's HTTP API: the write half of package httpapi's
// routes (POST and DELETE /v1/photos) over a Service, and POST /v1/uploads
// for presigned uploads. reg is served on /metrics; httpm measures every
// request.
func NewHandler(log *slog.Logger, store *s3store.Store, verifier *auth.Verifier, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, opts Options) http.Handler {
	opts = opts.withDefaults()
	svc := &Service{store: store, limits: opts.Limits}
	r := httpapi.NewServer(
		httpapi.Config{Log: log, Verifier: verifier, Metrics: httpm, Gatherer: reg, Health: []httpapi.Check{{Name: "object store", Ping: store.Ping}}},
		httpapi.Photos{Uploader: svc, Deleter: svc, Limits: opts.Limits},
	)
	r.With(httpapi.Authenticate(verifier)).Post("/v1/uploads", handlePresign(log, store, opts.PresignExpiry))
	return r
}

func handlePresign(log *slog.Logger, store *s3store.Store, expiry time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, _ := httpapi.UserFrom(r.Context())
		id := photo.NewID()
		expires := time.Now().UTC().Add(expiry).Truncate(time.Second)
		u, err := store.PresignPut(r.Context(), user, id, expiry)
		if err != nil {
			httpapi.Error(w, r, log, err)
			return
		}
		w.Header().Set("Location", "/v1/photos/"+id)
		httpapi.Encode(w, http.StatusCreated, Upload{ID: id, UploadURL: u.String(), Method: http.MethodPut, ExpiresAt: expires})
	}
}
