package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/photo"
)

// Config is what every server of the photo API needs.
type Config struct {
	Log      *slog.Logger
	Verifier *auth.Verifier
	// Metrics measures every request; Gatherer is served on /metrics.
	Metrics  *httpmetrics.Metrics
	Gatherer prometheus.Gatherer
	// Health lists the dependencies /healthz checks, in order.
	Health []Check
}

// Check is one dependency of a server: /healthz answers 503 with
// "<Name> unavailable" (and Retry-After) when Ping fails.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Photos are the ports a server mounts; a nil port's routes are not
// mounted (they answer 404 or 405 like any unknown route).
type Photos struct {
	Uploader photo.Uploader
	Reader   photo.Reader
	Deleter  photo.Deleter
	// Limits bound an upload's body (imaging.DefaultLimits when zero).
	Limits imaging.Limits
	// AdmitUpload, when set, wraps the upload route: the monolith admits a
	// bounded number of uploads at once, before their bodies are read.
	AdmitUpload func(http.Handler) http.Handler
}

// NewServer returns the photo API over the ports in p:
//
//	POST   /v1/photos                   Uploader: 201 ready or 202 pending
//	GET    /v1/photos?tag=&limit=&cursor= Reader: a page, newest first
//	GET    /v1/photos/{id}              Reader
//	GET    /v1/photos/{id}/thumbnail    Reader: JPEG bytes, or a 307 redirect
//	DELETE /v1/photos/{id}              Deleter: 204 deleted or 202 pending
//	GET    /healthz, /metrics
//
// Every /v1 route needs a bearer token (Authenticate); every error is the
// JSON error body with the status of its kind (Status). Callers may add
// routes to the returned router (ingest adds POST /v1/uploads).
func NewServer(cfg Config, p Photos) *chi.Mux {
	if p.Limits.MaxBytes <= 0 || p.Limits.MaxPixels <= 0 {
		p.Limits = imaging.DefaultLimits
	}
	r := chi.NewRouter()
	r.Use(cfg.Metrics.Middleware)
	r.NotFound(NotFoundHandler())
	r.MethodNotAllowed(MethodNotAllowedHandler())
	r.Get("/healthz", handleHealth(cfg))
	r.Handle("/metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	r.Route("/v1/photos", func(r chi.Router) {
		r.Use(Authenticate(cfg.Verifier))
		if p.Uploader != nil {
			admit := p.AdmitUpload
			if admit == nil {
				admit = func(h http.Handler) http.Handler { return h }
			}
			r.With(admit).Post("/", handleUpload(cfg.Log, p.Uploader, p.Limits))
		}
		if p.Reader != nil {
			r.Get("/", handleList(cfg.Log, p.Reader))
			r.Get("/{id}", handleGet(cfg.Log, p.Reader))
			r.Get("/{id}/thumbnail", handleThumbnail(cfg.Log, p.Reader))
		}
		if p.Deleter != nil {
			r.Delete("/{id}", handleDelete(cfg.Log, p.Deleter))
		}
	})
	return r
}

func handleHealth(cfg Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		for _, c := range cfg.Health {
			if err := c.Ping(ctx); err != nil {
				Error(w, r, cfg.Log, &photo.Error{Kind: photo.Unavailable, Message: c.Name + " unavailable", RetryAfter: time.Second, Err: err})
				return
			}
		}
		w.Write([]byte("ok\n")) //nolint:errcheck // the client went away
	}
}

func handleUpload(log *slog.Logger, up photo.Uploader, lim imaging.Limits) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := imaging.ReadBody(http.MaxBytesReader(w, r.Body, lim.MaxBytes+1), lim)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		p, err := up.Upload(r.Context(), owner(r), data)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		status := http.StatusAccepted
		if p.Status == photo.StatusReady {
			status = http.StatusCreated
		}
		w.Header().Set("Location", "/v1/photos/"+p.ID)
		Encode(w, status, nonNil(p))
	}
}

func handleGet(log *slog.Logger, rd photo.Reader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		if err := photo.CheckID(id); err != nil {
			Error(w, r, log, err)
			return
		}
		p, err := rd.Get(r.Context(), owner(r), id)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		Encode(w, http.StatusOK, nonNil(p))
	}
}

func handleThumbnail(log *slog.Logger, rd photo.Reader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		size, err := photo.ParseSize(r.URL.Query().Get("size"))
		if err != nil {
			Error(w, r, log, err)
			return
		}
		id := chi.URLParam(r, "id")
		if err := photo.CheckID(id); err != nil {
			Error(w, r, log, err)
			return
		}
		t, err := rd.Thumbnail(r.Context(), owner(r), id, size)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		if t.URL != "" {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, t.URL, http.StatusTemporaryRedirect)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(t.Bytes)))
		w.Header().Set("Cache-Control", "private, max-age=3600")
		w.Write(t.Bytes) //nolint:errcheck // the client went away
	}
}

func handleList(log *slog.Logger, rd photo.Reader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q, err := photo.ParseListQuery(owner(r), v.Get("tag"), v.Get("limit"), v.Get("cursor"))
		if err != nil {
			Error(w, r, log, err)
			return
		}
		page, err := rd.List(r.Context(), q)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		if page.Photos == nil {
			page.Photos = []photo.Photo{}
		}
		for i, p := range page.Photos {
			page.Photos[i] = nonNil(p)
		}
		Encode(w, http.StatusOK, page)
	}
}

func handleDelete(log *slog.Logger, del photo.Deleter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		if err := photo.CheckID(id); err != nil {
			Error(w, r, log, err)
			return
		}
		d, err := del.Delete(r.Context(), owner(r), id)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		if d == photo.DeletionPending {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// nonNil gives a photo empty tags and thumbnails where it has none, so the
// JSON says [] and {}, never null, whatever the port returned.
func nonNil(p photo.Photo) photo.Photo {
	if p.Tags == nil {
		p.Tags = []string{}
	}
	if p.Thumbnails == nil {
		p.Thumbnails = map[photo.Size]photo.Thumbnail{}
	}
	return p
}
