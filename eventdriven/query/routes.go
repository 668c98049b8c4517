package query

import (
	"context"
	"fmt"
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

// Service is query's logic: a photo.Reader over the catalog database and
// the object store.
type Service struct {
	cat   Catalog
	store *s3store.Store
	opts  Options
}

var _ photo.Reader = (*Service)(nil)

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

// Get returns the photo from the catalog or, when the catalog has not
// seen it yet, as pending from its original in the object store.
func (s *Service) Get(ctx context.Context, owner, id string) (photo.Photo, error) {
	p, err := s.cat.Get(ctx, owner, id)
	if photo.KindOf(err) == photo.NotFound {
		p, err = pending(ctx, s.store, owner, id)
	}
	return p, err
}

// List returns a page of the catalog's photos of q.Owner.
func (s *Service) List(ctx context.Context, q photo.ListQuery) (photo.Page, error) {
	return s.cat.List(ctx, q)
}

// Thumbnail returns a ready photo's thumbnail from the object store: its
// bytes, or with Options.ThumbnailRedirect a presigned URL.
func (s *Service) Thumbnail(ctx context.Context, owner, id string, size photo.Size) (photo.Rendition, error) {
	p, err := s.cat.Get(ctx, owner, id)
	if err != nil {
		return photo.Rendition{}, err
	}
	if _, ok := p.Thumbnails[size]; !ok || p.Status != photo.StatusReady {
		return photo.Rendition{}, photo.Errorf(photo.NotFound, "thumbnail not ready")
	}
	if s.opts.ThumbnailRedirect {
		u, err := s.store.PresignGetThumbnail(ctx, owner, id, size, s.opts.PresignExpiry)
		if err != nil {
			return photo.Rendition{}, err
		}
		return photo.Rendition{URL: u.String()}, nil
	}
	// NotFound here: deleted between the catalog read and now.
	b, err := s.store.GetThumbnail(ctx, owner, id, size)
	return photo.Rendition{Bytes: b}, err
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
