package query

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/rest"
	"github.com/photobench/photobench/photo"
)

// NewHandler returns query's HTTP API (see the routes below). reg is
// served on /metrics; httpm measures every request.
func NewHandler(log *slog.Logger, cat Catalog, store *s3store.Store, verifier *auth.Verifier, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, opts Options) http.Handler {
	opts = opts.withDefaults()
	r := chi.NewRouter()
	r.Use(httpm.Middleware)
	r.NotFound(rest.NotFoundHandler())
	r.MethodNotAllowed(rest.MethodNotAllowedHandler())

	r.Get("/healthz", handleHealth(log, cat, store))
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r.Route("/v1/photos", func(r chi.Router) {
		r.Use(auth.Middleware(verifier))
		r.Get("/", handleList(log, cat))
		r.Get("/{id}", handleGet(log, cat, store))
		r.Get("/{id}/thumbnail", handleThumbnail(log, cat, store, opts))
	})
	return r
}

func handleHealth(log *slog.Logger, cat Catalog, store *s3store.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := cat.Ping(ctx); err != nil {
			rest.Error(w, r, log, &photo.Error{Kind: photo.Unavailable, Message: "catalog unavailable", RetryAfter: time.Second, Err: err})
			return
		}
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

func handleGet(log *slog.Logger, cat Catalog, store *s3store.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, id := owner(r), chi.URLParam(r, "id")
		if err := photo.CheckID(id); err != nil {
			rest.Error(w, r, log, err)
			return
		}
		p, err := cat.Get(r.Context(), user, id)
		if photo.KindOf(err) == photo.NotFound {
			p, err = pending(r.Context(), store, user, id)
		}
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		rest.Encode(w, http.StatusOK, nonNil(p))
	}
}

// pending describes a photo the catalog has not seen yet from its
// original in the object store: uploaded, its notification still on the
// way. NotFound when there is no original under the caller's key.
func pending(ctx context.Context, store *s3store.Store, user, id string) (photo.Photo, error) {
	info, err := store.StatOriginal(ctx, user, id)
	if err != nil {
		return photo.Photo{}, fmt.Errorf("get photo %s: %w", id, err)
	}
	created := info.CreatedAt
	if created.IsZero() {
		// A presigned upload carries no metadata; the catalog will take
		// the event time, which is when the object was stored.
		created = info.LastModified.UTC().Truncate(time.Microsecond)
	}
	return photo.Photo{
		ID:         id,
		Owner:      user,
		Status:     photo.StatusPending,
		Format:     formatOf(info.ContentType),
		Bytes:      info.Size,
		Tags:       []string{},
		Thumbnails: map[photo.Size]photo.Thumbnail{},
		CreatedAt:  created,
		UpdatedAt:  created,
	}, nil
}

// formatOf is the format a stored Content-Type names; empty (omitted from
// the JSON) for anything else, such as a presigned upload sent without
// one: the format is known only once the thumbnailer sniffed the bytes.
func formatOf(contentType string) photo.Format {
	for _, f := range []photo.Format{photo.FormatJPEG, photo.FormatPNG} {
		if contentType == f.ContentType() {
			return f
		}
	}
	return ""
}

func handleThumbnail(log *slog.Logger, cat Catalog, store *s3store.Store, opts Options) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		size, err := photo.ParseSize(r.URL.Query().Get("size"))
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		user, id := owner(r), chi.URLParam(r, "id")
		if err := photo.CheckID(id); err != nil {
			rest.Error(w, r, log, err)
			return
		}
		p, err := cat.Get(r.Context(), user, id)
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		if _, ok := p.Thumbnails[size]; !ok || p.Status != photo.StatusReady {
			rest.Error(w, r, log, photo.Errorf(photo.NotFound, "thumbnail not ready"))
			return
		}
		if opts.ThumbnailRedirect {
			u, err := store.PresignGetThumbnail(r.Context(), user, id, size, opts.PresignExpiry)
			if err != nil {
				rest.Error(w, r, log, err)
				return
			}
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
			return
		}
		b, err := store.GetThumbnail(r.Context(), user, id, size)
		if err != nil {
			// NotFound here: deleted between the catalog read and now.
			rest.Error(w, r, log, err)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Header().Set("Cache-Control", "private, max-age=3600")
		w.Write(b)
	}
}

func handleList(log *slog.Logger, cat Catalog) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q, err := photo.ParseListQuery(owner(r), v.Get("tag"), v.Get("limit"), v.Get("cursor"))
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		page, err := cat.List(r.Context(), q)
		if err != nil {
			rest.Error(w, r, log, err)
			return
		}
		if page.Photos == nil {
			page.Photos = []photo.Photo{}
		}
		for i, p := range page.Photos {
			page.Photos[i] = nonNil(p)
		}
		rest.Encode(w, http.StatusOK, page)
	}
}

// nonNil gives a photo empty tags and thumbnails where it has none, so the
// JSON says [] and {}, never null, whatever the catalog returned.
func nonNil(p photo.Photo) photo.Photo {
	if p.Tags == nil {
		p.Tags = []string{}
	}
	if p.Thumbnails == nil {
		p.Thumbnails = map[photo.Size]photo.Thumbnail{}
	}
	return p
}
