package ingest

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/rest"
	"github.com/photobench/photobench/photo"
)

// NewHandler returns ingest's HTTP API (see the routes below). reg is
// served on /metrics; httpm measures every request.
func NewHandler(log *slog.Logger, store *s3store.Store, verifier *auth.Verifier, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, opts Options) http.Handler {
	opts = opts.withDefaults()
	r := chi.NewRouter()
	r.Use(httpm.Middleware)
	r.NotFound(rest.NotFoundHandler())
	r.MethodNotAllowed(rest.MethodNotAllowedHandler())

	r.Get("/healthz", handleHealth(log, store))
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r.Route("/v1/photos", func(r chi.Router) {
		r.Use(auth.Middleware(verifier))
		r.Post("/", handleUpload(log, store, opts.Limits))
		r.Delete("/{id}", handleDelete(log, store))
	})
	r.With(auth.Middleware(verifier)).Post("/v1/uploads", handlePresign(log, store, opts.PresignExpiry))
	return r
}

func handleHealth(log *slog.Logger, store *s3store.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			rest.Error(w, r, log, &photo.Error{Kind: photo.Unavailable, Message: "object store unavailable", RetryAfter: time.Second, Err: err})
			return
		}
		w.Write([]byte("ok\n"))
	}
}

func owner(r *http.Request) string {
	u, _ := auth.UserFrom(r.Context())
	return u
}

func handleUpload(log *slog.Logger, store *s3store.Store, lim imaging.Limits) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := imaging.ReadBody(http.MaxBytesReader(w, r.Body, lim.MaxBytes+1), lim)
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		info, err := imaging.Inspect(data, lim)
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		if !complete(data, info) {
			rest.Error(w, r, log, photo.Errorf(photo.Invalid, "%s image is truncated", info.Format))
			return
		}
		user := owner(r)
		now := time.Now().UTC().Truncate(time.Microsecond)
		p := photo.Photo{
			ID:         photo.NewID(),
			Owner:      user,
			Status:     photo.StatusPending,
			Format:     info.Format,
			Width:      info.Width,
			Height:     info.Height,
			Bytes:      info.Bytes,
			Tags:       []string{},
			Thumbnails: map[photo.Size]photo.Thumbnail{},
			CreatedAt:  now,
			UpdatedAt:  now,
		}
		if err := store.PutOriginal(r.Context(), user, p.ID, data, info.Format.ContentType(), now); err != nil {
			rest.Error(w, r, log, err)
			return
		}
		w.Header().Set("Location", "/v1/photos/"+p.ID)
		rest.Encode(w, http.StatusAccepted, p)
	}
}

func handlePresign(log *slog.Logger, store *s3store.Store, expiry time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := photo.NewID()
		expires := time.Now().UTC().Add(expiry).Truncate(time.Second)
		u, err := store.PresignPut(r.Context(), owner(r), id, expiry)
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		w.Header().Set("Location", "/v1/photos/"+id)
		rest.Encode(w, http.StatusCreated, Upload{ID: id, UploadURL: u.String(), Method: http.MethodPut, ExpiresAt: expires})
	}
}

func handleDelete(log *slog.Logger, store *s3store.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, id := owner(r), chi.URLParam(r, "id")
		if err := photo.CheckID(id); err != nil {
			rest.Error(w, r, log, err)
			return
		}
		// Another user's photo is not under this user's key: NotFound.
		if _, err := store.StatOriginal(r.Context(), user, id); err != nil {
			rest.Error(w, r, log, err)
			return
		}
		if err := store.RemoveOriginal(r.Context(), user, id); err != nil {
			rest.Error(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}
