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
// presigned POST form (POST /v1/uploads) and send the bytes to MinIO
// directly; that object flows through the same pipeline, unchecked until
// the thumbnailer sees it, except for its size: the form's signed policy
// caps it at the same byte limit as POST /v1/photos, and MinIO refuses a
// larger file (400 EntityTooLarge) before storing anything. A deletion
// removes the original, and the s3:ObjectRemoved notification drives the
// rest.
//
// Uploads are admitted Options.MaxUploads at a time (`--max-uploads`)
// once their bodies have been read, as in the monolith: a client that
// sends its body slowly holds a connection (for at most
// Options.BodyTimeout), never a slot. An upload that finds every slot
// taken waits up to Options.MaxWait for one, then is answered 503 with
// Retry-After.
//
// Ingest never calls another function and keeps no state: it needs only
// MinIO.
package ingest

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
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

// DefaultMaxWait is how long an upload waits for a slot when
// Options.MaxWait is zero.
const DefaultMaxWait = time.Second

// DefaultBodyTimeout is how long an upload's body may take to arrive when
// Options.BodyTimeout is zero: the monolith's default.
const DefaultBodyTimeout = 60 * time.Second

// DefaultMaxUploads is the number of uploads admitted at once when
// Options.MaxUploads is zero: 8 per core. Ingest decodes nothing: a slot
// covers storing a body already read, mostly waiting on MinIO.
func DefaultMaxUploads() int { return 8 * runtime.GOMAXPROCS(0) }

// Options tune the handler.
type Options struct {
	// Limits bound uploads (imaging.DefaultLimits when zero).
	Limits imaging.Limits
	// PresignExpiry is how long a presigned upload URL stays valid
	// (DefaultPresignExpiry when zero).
	PresignExpiry time.Duration
	// MaxUploads bounds the uploads read and stored at once
	// (DefaultMaxUploads when zero).
	MaxUploads int
	// MaxWait is how long an upload waits for a slot before it is
	// answered 503 (DefaultMaxWait when zero).
	MaxWait time.Duration
	// BodyTimeout bounds the time an upload's body may take to arrive
	// (DefaultBodyTimeout when zero); a body cut off by it is refused.
	BodyTimeout time.Duration
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
	if o.MaxUploads <= 0 {
		o.MaxUploads = DefaultMaxUploads()
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = DefaultBodyTimeout
	}
	return o
}

// Upload is the answer to POST /v1/uploads: POST a multipart form to
// UploadURL with Fields and then the image as its "file" (of 1 to MaxBytes
// bytes) before ExpiresAt, and the photo appears as ID.
// s3store.PostForm builds that request.
type Upload struct {
	ID        string            `json:"id"`
	UploadURL string            `json:"upload_url"`
	Method    string            `json:"method"`
	Fields    map[string]string `json:"fields"`
	MaxBytes  int64             `json:"max_bytes"`
	ExpiresAt time.Time         `json:"expires_at"`
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
// routes (POST and DELETE /v1/photos) over a Service, uploads admitted
// opts.MaxUploads at a time, and POST /v1/uploads for presigned uploads.
// reg is served on /metrics; httpm measures every request.
func NewHandler(log *slog.Logger, store *s3store.Store, verifier *auth.Verifier, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, opts Options) http.Handler {
	opts = opts.withDefaults()
	svc := &Service{store: store, limits: opts.Limits, failed: opts.Failed}
	r := httpapi.NewServer(
		httpapi.Config{Log: log, Verifier: verifier, Metrics: httpm, Gatherer: reg, Health: []httpapi.Check{{Name: "object store", Ping: store.Ping}}},
		httpapi.Photos{Uploader: svc, Deleter: svc, Limits: opts.Limits, AdmitUpload: admitUploads(opts.MaxUploads, opts.MaxWait), BodyTimeout: opts.BodyTimeout},
	)
	r.With(httpapi.Authenticate(verifier)).Post("/v1/uploads", handlePresign(log, store, opts.Limits.MaxBytes, opts.PresignExpiry))
	return r
}

// admitUploads lets at most n uploads in at once, once their bodies have
// been read (httpapi calls it then: a slow sender holds a connection, not a
// slot). One that finds them all taken waits up to wait for a slot, then
// is answered 503 with Retry-After. Refusals are not logged: in a flood
// that would be a line per request; httpmetrics counts them.
func admitUploads(n int, wait time.Duration) func(context.Context) (func(), error) {
	slots := make(chan struct{}, n)
	release := func() { <-slots }
	full := &photo.Error{Kind: photo.Unavailable, Message: "too many uploads at once; try again", RetryAfter: time.Second}
	return func(ctx context.Context) (func(), error) {
		select {
		case slots <- struct{}{}:
			return release, nil
		default:
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case slots <- struct{}{}:
			return release, nil
		case <-t.C:
			return nil, full
		case <-ctx.Done():
			return nil, &photo.Error{Kind: photo.Unavailable, Message: "the request ended while waiting for an upload slot", Err: ctx.Err()}
		}
	}
}

func handlePresign(log *slog.Logger, store *s3store.Store, maxBytes int64, expiry time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, _ := httpapi.UserFrom(r.Context())
		id := photo.NewID()
		expires := time.Now().UTC().Add(expiry).Truncate(time.Second)
		p, err := store.PresignPost(r.Context(), user, id, maxBytes, expiry)
		if err != nil {
			httpapi.Error(w, r, log, err)
			return
		}
		w.Header().Set("Location", "/v1/photos/"+id)
		httpapi.Encode(w, http.StatusCreated, Upload{
			ID: id, UploadURL: p.URL.String(), Method: http.MethodPost, Fields: p.Fields, MaxBytes: maxBytes, ExpiresAt: expires,
		})
	}
}
