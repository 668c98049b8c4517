package monolith

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/rest"
	"github.com/photobench/photobench/photo"
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

// NewHandler returns the monolith's whole HTTP API (see routes below).
func NewHandler(log *slog.Logger, svc *Service, verifier *auth.Verifier, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, m *Metrics, opts HandlerOptions) http.Handler {
	slots := make(chan struct{}, max(opts.MaxUploads, 1))
	r := chi.NewRouter()
	r.Use(httpm.Middleware)
	r.NotFound(rest.NotFoundHandler())
	r.MethodNotAllowed(rest.MethodNotAllowedHandler())

	r.Get("/healthz", handleHealth(svc))
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r.Route("/v1/photos", func(r chi.Router) {
		r.Use(auth.Middleware(verifier))
		r.With(uploadSlots(slots, m)).Post("/", handleUpload(log, svc, opts.Limits))
		r.Get("/", handleList(log, svc))
		r.Get("/{id}", handleGet(log, svc))
		r.Get("/{id}/thumbnail", handleThumbnail(log, svc))
		r.Delete("/{id}", handleDelete(log, svc))
	})
	return r
}

func handleHealth(svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := svc.db.Ping(ctx); err != nil {
			http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}
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

func owner(r *http.Request) string {
	u, _ := auth.UserFrom(r.Context())
	return u
}

func handleUpload(log *slog.Logger, svc *Service, lim imaging.Limits) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := imaging.ReadBody(http.MaxBytesReader(w, r.Body, lim.MaxBytes+1), lim)
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		p, err := svc.Upload(r.Context(), owner(r), data)
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		w.Header().Set("Location", "/v1/photos/"+p.ID)
		rest.Encode(w, http.StatusCreated, p)
	}
}

func handleGet(log *slog.Logger, svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := svc.Get(r.Context(), owner(r), chi.URLParam(r, "id"))
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		rest.Encode(w, http.StatusOK, p)
	}
}

func handleThumbnail(log *slog.Logger, svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		size, err := photo.ParseSize(r.URL.Query().Get("size"))
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		b, err := svc.Thumbnail(r.Context(), owner(r), chi.URLParam(r, "id"), size)
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Cache-Control", "private, max-age=3600")
		w.Write(b)
	}
}

func handleList(log *slog.Logger, svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q, err := photo.ParseListQuery(owner(r), v.Get("tag"), v.Get("limit"), v.Get("cursor"))
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		page, err := svc.List(r.Context(), q)
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		if page.Photos == nil {
			page.Photos = []photo.Photo{}
		}
		rest.Encode(w, http.StatusOK, page)
	}
}

func handleDelete(log *slog.Logger, svc *Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := svc.Delete(r.Context(), owner(r), chi.URLParam(r, "id")); err != nil {
			rest.Error(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
