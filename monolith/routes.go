package monolith

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/httpmetrics"
)

// HandlerOptions tune the HTTP layer.
type HandlerOptions struct {
	// MaxUploads bounds the uploads processed at once; others queue for a
	// slot (photobench_monolith_upload_slot_wait_seconds) until their
	// request ends. Decoding a 12-megapixel JPEG takes ~25 MB, so this also
	// bounds memory.
	MaxUploads int
	Limits     imaging.Limits
}

// NewHandler returns the monolith's whole HTTP API: package httpapi's
// routes over the service, with uploads admitted opts.MaxUploads at a time.
func NewHandler(log *slog.Logger, svc *Service, verifier *auth.Verifier, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, m *Metrics, opts HandlerOptions) http.Handler {
	slots := make(chan struct{}, max(opts.MaxUploads, 1))
	return httpapi.NewServer(
		httpapi.Config{Log: log, Verifier: verifier, Metrics: httpm, Gatherer: reg, Health: []httpapi.Check{{Name: "database", Ping: svc.db.Ping}}},
		httpapi.Photos{Uploader: svc, Reader: svc, Deleter: svc, Limits: opts.Limits, AdmitUpload: uploadSlots(slots, m)},
	)
}

// uploadSlots admits at most cap(slots) uploads at once; the rest wait
// until a slot frees or their request ends.
func uploadSlots(slots chan struct{}, m *Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			select {
			case slots <- struct{}{}:
			case <-r.Context().Done():
				return
			}
			m.UploadSlotWait.Observe(time.Since(start).Seconds())
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		})
	}
}
