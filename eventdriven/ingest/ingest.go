// Package ingest is the event-driven app's write side, an HTTP function:
// it accepts uploads and deletions and does nothing else.
//
// An upload is checked cheaply (byte and pixel limits and format from the
// header, completeness from the last bytes; nothing is decoded) and put
// into MinIO's originals bucket under users/<owner>/<id> with owner and
// created-at metadata; the answer is 202 with the photo as "pending".
// From there MinIO's s3:ObjectCreated notification on Kafka drives the
// choreography: the thumbnailer decodes and makes thumbnails (a corrupt
// but complete image ends "failed" there), the tagger asks the vision
// service, the catalog records it all. Clients may instead ask for a
// presigned PUT URL (POST /v1/uploads) and send the bytes to MinIO
// directly; that object flows through the same pipeline, unchecked until
// the thumbnailer sees it. A deletion removes the original, and the
// s3:ObjectRemoved notification drives the rest.
//
// Ingest never calls another function and keeps no state: it needs only
// MinIO.
package ingest

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/photo"
)

// DefaultPresignExpiry is how long a presigned upload URL stays valid when
// Options.PresignExpiry is zero.
const DefaultPresignExpiry = 15 * time.Minute

// Options tune the handler.
type Options struct {
	// Limits bound uploads (imaging.DefaultLimits when zero).
	Limits imaging.Limits
	// PresignExpiry is how long a presigned upload URL stays valid
	// (DefaultPresignExpiry when zero).
	PresignExpiry time.Duration
	// Failed, if set, deletes failed photos (*catalog.Store).
	Failed FailedPhotos
}

// FailedPhotos deletes a failed photo, of which only the catalog's record
// is left (its original was removed when it failed). DeleteFailed reports
// whether owner had such a photo; errors: Unavailable.
type FailedPhotos interface {
	DeleteFailed(ctx context.Context, owner, id string) (bool, error)
}

func (o Options) withDefaults() Options {
	if o.Limits.MaxBytes <= 0 {
		o.Limits.MaxBytes = imaging.DefaultLimits.MaxBytes
	}
	if o.Limits.MaxPixels <= 0 {
		o.Limits.MaxPixels = imaging.DefaultLimits.MaxPixels
	}
	if o.PresignExpiry <= 0 {
		o.PresignExpiry = DefaultPresignExpiry
	}
	return o
}

// Upload is the answer to POST /v1/uploads: PUT the image bytes to
// UploadURL before ExpiresAt, and the photo appears as ID.
type Upload struct {
	ID        string    `json:"id"`
	UploadURL string    `json:"upload_url"`
	Method    string    `json:"method"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Service is ingest's logic: a photo.Uploader and photo.Deleter over the
// originals bucket.
type Service struct {
	store  *s3store.Store
	limits imaging.Limits
	failed FailedPhotos
}

var (
	_ photo.Uploader = (*Service)(nil)
	_ photo.Deleter  = (*Service)(nil)
)

// Upload checks data cheaply (limits and format from the header,
// completeness from the last bytes; nothing is decoded), stores it as the
// original of a new photo and returns the photo, pending.
func (s *Service) Upload(ctx context.Context, owner string, data []byte) (photo.Photo, error) {
	info, err := imaging.Inspect(data, s.limits)
	if err != nil {
		return photo.Photo{}, err
	}
	if !imaging.Complete(data, info) {
		return photo.Photo{}, photo.Errorf(photo.Invalid, "%s image is truncated", info.Format)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	p := photo.Photo{
		ID:         photo.NewID(),
		Owner:      owner,
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
	if err := s.store.PutOriginal(ctx, owner, p.ID, data, info.Format.ContentType(), now); err != nil {
		return photo.Photo{}, err
	}
	return p, nil
}

// Delete removes the photo's original; MinIO's s3:ObjectRemoved
// notification drives the removal of the rest, so it is pending. A failed
// photo has no original any more: its catalog record is deleted instead
// (Options.Failed), at once.
func (s *Service) Delete(ctx context.Context, owner, id string) (photo.Deletion, error) {
	// Another user's photo is not under this user's key: NotFound.
	if _, err := s.store.StatOriginal(ctx, owner, id); err != nil {
		if photo.KindOf(err) == photo.NotFound && s.failed != nil {
			if ok, ferr := s.failed.DeleteFailed(ctx, owner, id); ferr != nil || ok {
				return photo.Deleted, ferr
			}
		}
		return photo.DeletionPending, err
	}
	if err := s.store.RemoveOriginal(ctx, owner, id); err != nil {
		return photo.DeletionPending, err
	}
	return photo.DeletionPending, nil
}

// NewHandler returns ingest's HTTP API: the write half of package httpapi's
// routes (POST and DELETE /v1/photos) over a Service, and POST /v1/uploads
// for presigned uploads. reg is served on /metrics; httpm measures every
// request.
func NewHandler(log *slog.Logger, store *s3store.Store, verifier *auth.Verifier, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, opts Options) http.Handler {
	opts = opts.withDefaults()
	svc := &Service{store: store, limits: opts.Limits, failed: opts.Failed}
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
