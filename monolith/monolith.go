// Package monolith is the photo app built as one process, in two modes.
//
// In sync mode (the default) it orchestrates everything inside the
// request: POST /v1/photos validates the image, stores the original,
// decodes it, makes the thumbnails, asks the vision service for tags,
// writes the rows in one transaction and only then answers 201 with the
// ready photo. State is one PostgreSQL database and one data directory, or
// one MinIO bucket instead (--storage s3: the object store the event-driven
// app uses, so that storage can be held constant in a comparison).
//
// It is meant to be a good monolith, not a strawman: pooled database
// connections, bounded upload concurrency, streaming-limited bodies, the
// vision service sent a 256-px rendition rather than the original, server
// timeouts and graceful shutdown.
// Its one deliberate property is coupling: when the vision service fails or
// is slow, uploads fail (503 with Retry-After) or slow down with it, and
// nothing of the failed upload is left behind.
//
// In async mode (Async, async.go) the same steps are cut in two: the
// request validates the image and stores the original, then writes the
// photo's pending row and enqueues its job in one PostgreSQL transaction
// (River, with its pgx/v5 driver and its own migrations) and answers 202;
// River's workers in the same process derive the photo and mark it ready
// in the transaction that completes the job. A vision outage then makes a
// backlog (photobench_monolith_jobs), not failed uploads. River's defaults
// are tuned for a benchmark (AsyncOptions says each, beside River's):
//
//	knob               here              River
//	workers            4 x cores         (required)
//	fetch cooldown     5 ms              100 ms
//	fetch poll         200 ms            1 s
//	job timeout        30 s              1 min
//	rescue stuck jobs  40 s              1 h
//	retry backoff      100 ms .. 5 s,    attempt^4 s
//	                   full jitter
//	max attempts       10,000            25
//	soft stop timeout  10 s              none (waits)
//
// A photo never stays pending for good: the last attempt marks it failed
// with the reason, and a check every minute fails, with a reason, a
// pending photo whose job ended without an outcome (River discarded it
// after a panic, or with the database away) or that has been pending
// longer than 24 h (AsyncOptions.PendingLimit; its job is cancelled).
//
// Crash safety (both modes): an upload writes its files before its row,
// so a process killed in between leaves files no row points to; the
// orphan sweep (SweepOrphans, at start and every hour) removes such files
// once they are older than a grace period (10 min) that no upload in
// flight can reach.
package monolith

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/monolith/postgres"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/vision"
)

// Analyzer asks the vision service about an image. *vision.Client is one;
// it returns *photo.Error kinds Unavailable (after its retries) or the
// service's own kind for a refused image.
type Analyzer interface {
	Analyze(ctx context.Context, data []byte) (vision.Analysis, error)
}

// Options tune the service.
type Options struct {
	Limits imaging.Limits
	// SyncWrites flushes each original to stable storage before the upload
	// is acknowledged (fsync), as a database would. On by default: an
	// accepted photo must survive a crash.
	SyncWrites bool
}

// Service is the monolith's application logic, independent of HTTP.
type Service struct {
	log     *slog.Logger
	db      *postgres.Store
	files   Files
	vision  Analyzer
	metrics *Metrics
	opts    Options
}

// NewService wires the service's dependencies.
func NewService(log *slog.Logger, db *postgres.Store, files Files, vision Analyzer, metrics *Metrics, opts Options) *Service {
	return &Service{log: log, db: db, files: files, vision: vision, metrics: metrics, opts: opts}
}

// stage times one step of an upload into the per-stage histogram.
func (s *Service) stage(name string, start time.Time) {
	s.metrics.StageDuration.WithLabelValues(name).Observe(time.Since(start).Seconds())
}

// Upload runs the whole pipeline for one photo inside the caller's request
// and returns it ready. On any error nothing of the photo remains: no file,
// no row. Errors are *photo.Error kinds Invalid, Unsupported, TooLarge,
// TooManyPixels (bad input), Unavailable (vision failed, timed out or
// refused the image; the database unreachable), or others (internal).
func (s *Service) Upload(ctx context.Context, owner string, data []byte) (p photo.Photo, err error) {
	defer func() { s.metrics.Uploads.WithLabelValues(uploadOutcome(err)).Inc() }()

	info, err := s.inspect(data)
	if err != nil {
		return photo.Photo{}, err
	}
	p = newPhoto(owner, info, photo.StatusReady)
	var written []string
	defer func() {
		if err != nil {
			s.remove(ctx, p.ID, "failed upload", written...)
		}
	}()
	orig, err := s.storeOriginal(p, data)
	if err != nil {
		return photo.Photo{}, err
	}
	written = append(written, orig)
	// Accepted, as the asynchronous Upload's photo is once its original
	// is stored: the timeline's first mark, before derive's stage times.
	p.CreatedAt = postgres.Now()
	paths, err := s.derive(ctx, &p, data, info)
	written = append(written, paths...)
	if err != nil {
		return photo.Photo{}, dependencyFailed(err)
	}

	now := postgres.Now()
	p.UpdatedAt, p.ReadyAt = now, &now
	t := time.Now()
	err = s.db.Insert(ctx, p)
	s.stage("database", t)
	if err != nil {
		return photo.Photo{}, err
	}
	return p, nil
}

// The steps of an upload, shared by both modes: the synchronous Upload runs
// them all in the request; the asynchronous one runs inspect and
// storeOriginal in the request and derive in a job (async.go).

// newPhoto is a new photo of owner as inspect found it, without thumbnails
// or tags yet.
func newPhoto(owner string, info imaging.Info, status photo.Status) photo.Photo {
	return photo.Photo{
		ID: photo.NewID(), Owner: owner, Status: status, Format: info.Format,
		Width: info.Width, Height: info.Height, Bytes: info.Bytes,
		Thumbnails: map[photo.Size]photo.Thumbnail{},
	}
}

// inspect validates an upload from its header and size (stage validate).
func (s *Service) inspect(data []byte) (imaging.Info, error) {
	t := time.Now()
	info, err := imaging.Inspect(data, s.opts.Limits)
	s.stage("validate", t)
	return info, err
}

// storeOriginal writes photo p's original, flushed to stable storage when
// opts.SyncWrites (stage disk), and returns its path.
func (s *Service) storeOriginal(p photo.Photo, data []byte) (string, error) {
	t := time.Now()
	orig, err := s.files.OriginalPath(p.Owner, p.ID)
	if err != nil {
		return "", err
	}
	if err := s.files.Write(orig, data, s.opts.SyncWrites); err != nil {
		return "", err
	}
	s.stage("disk", t)
	return orig, nil
}

// derive does the work between storing photo p's original and recording
// it: decode, thumbnails, their files, vision (stages decode, thumbnail,
// disk, vision). It fills p's thumbnails, tags, colours and hash, and the
// stage times: ThumbnailedAt once the thumbnails are stored (it stays set
// when vision then fails: a failed photo's record says how far it got),
// TaggedAt once vision has answered. It returns the paths it wrote, also
// on error, for the caller to remove.
func (s *Service) derive(ctx context.Context, p *photo.Photo, data []byte, info imaging.Info) (written []string, err error) {
	t := time.Now()
	img, release, err := imaging.Decode(ctx, data, info)
	s.stage("decode", t)
	if err != nil {
		return nil, err
	}
	t = time.Now()
	thumbs, err := imaging.Thumbnails(img, info.Orientation)
	release() // the image is not used after this: its budget serves the next decode
	s.stage("thumbnail", t)
	if err != nil {
		return nil, fmt.Errorf("thumbnails of %s: %w", p.ID, err)
	}

	t = time.Now()
	written, err = s.writeThumbnails(*p, thumbs)
	if err != nil {
		return written, err
	}
	s.stage("disk", t)
	p.ThumbnailedAt = stageTime()

	a, err := s.analyze(ctx, p.ID, thumbs)
	if err != nil {
		return written, err
	}
	p.TaggedAt = stageTime()
	p.Tags = append([]string(nil), a.Tags...)
	sort.Strings(p.Tags)
	p.Colors, p.Hash = a.Colors, a.Hash
	return written, nil
}

// stageTime is the time a stage of an upload ends, as stored
// (postgres.Now), for photo.Photo's stage times.
func stageTime() *time.Time {
	t := postgres.Now()
	return &t
}

// remove deletes files of photo id that are no longer wanted (why says
// whose); a failure is logged, not returned: the caller's outcome stands.
func (s *Service) remove(ctx context.Context, id, why string, paths ...string) {
	if len(paths) == 0 {
		return
	}
	if err := s.files.Remove(paths...); err != nil {
		s.log.ErrorContext(ctx, "remove files of "+why, "photo", id, "err", err)
	}
}

// writeThumbnails writes photo p's thumbnails to disk and records each in
// p.Thumbnails. It returns the paths it wrote, also on error, for the
// caller to remove.
func (s *Service) writeThumbnails(p photo.Photo, thumbs []imaging.Thumb) (written []string, err error) {
	for _, th := range thumbs {
		path, err := s.files.ThumbnailPath(p.Owner, p.ID, th.Size)
		if err != nil {
			return written, err
		}
		// Thumbnails can be remade from the original: no fsync needed.
		if err := s.files.Write(path, th.JPEG, false); err != nil {
			return written, err
		}
		written = append(written, path)
		p.Thumbnails[th.Size] = photo.Thumbnail{Width: th.Width, Height: th.Height, Bytes: int64(len(th.JPEG))}
	}
	return written, nil
}

// analyze asks the vision service about photo id's small thumbnail, not
// its original. Cloud vision APIs advise sending a downscaled image; the
// stand-in analyses a 64-px downsample anyway, and a 256-px rendition keeps
// its own decoding (CPU a real cloud API would not spend on this machine)
// out of the comparison. The event-driven tagger sends the same rendition.
func (s *Service) analyze(ctx context.Context, id string, thumbs []imaging.Thumb) (vision.Analysis, error) {
	t := time.Now()
	var rendition []byte
	for _, th := range thumbs {
		if th.Size == photo.SizeSmall {
			rendition = th.JPEG
		}
	}
	a, err := s.vision.Analyze(ctx, rendition)
	s.stage("vision", t)
	if err != nil {
		if photo.KindOf(err) == photo.Unavailable {
			return a, err
		}
		return a, &visionRefusal{fmt.Errorf("vision refused photo %s: %w", id, err)}
	}
	return a, nil
}

// visionRefusal is the vision service refusing a rendition of an image
// the monolith accepted (a 4xx but 429, or an answer it cannot read). The
// kind of the error it wraps is the service's, about the rendition, not
// the client's upload: the synchronous upload answers it as a dependency
// failure (dependencyFailed); an asynchronous job fails the photo with the
// service's reason, as another attempt would be refused the same way.
type visionRefusal struct{ err error }

func (e *visionRefusal) Error() string { return e.err.Error() }
func (e *visionRefusal) Unwrap() error { return e.err }

// dependencyFailed makes a vision refusal in err the API's dependency
// failure: 503 with Retry-After, as the README's error contract says of a
// dependency, never the service's own 4xx, which would tell the client its
// upload was at fault. Other errors pass unchanged.
func dependencyFailed(err error) error {
	var r *visionRefusal
	if !errors.As(err, &r) {
		return err
	}
	return &photo.Error{Kind: photo.Unavailable, Message: "the vision service could not analyse the image", RetryAfter: time.Second, Err: err}
}

func uploadOutcome(err error) string {
	switch photo.KindOf(err) {
	case "":
		return "ok"
	case photo.Unavailable:
		return "unavailable"
	case photo.Internal:
		return "error"
	}
	return "rejected"
}

// Get returns one of owner's photos (photo.NotFound for a missing one or
// another user's, photo.Invalid for a malformed id). An id in upper case
// names the same photo (photo.ParseID).
func (s *Service) Get(ctx context.Context, owner, id string) (photo.Photo, error) {
	id, err := photo.ParseID(id)
	if err != nil {
		return photo.Photo{}, err
	}
	return s.db.Get(ctx, owner, id)
}

// Thumbnail returns the JPEG bytes of one of owner's photos' thumbnails.
func (s *Service) Thumbnail(ctx context.Context, owner, id string, size photo.Size) (photo.Rendition, error) {
	p, err := s.Get(ctx, owner, id)
	if err != nil {
		return photo.Rendition{}, err
	}
	if p.Status != photo.StatusReady {
		// A pending photo's job may have written the files already; they
		// are the photo's only once it is ready.
		return photo.Rendition{}, photo.Errorf(photo.NotFound, "photo %s has no thumbnails: it is %s", id, p.Status)
	}
	path, err := s.files.ThumbnailPath(owner, p.ID, size)
	if err != nil {
		return photo.Rendition{}, err
	}
	b, err := s.files.Read(path)
	return photo.Rendition{Bytes: b}, err
}

// List returns a page of the query owner's photos, newest first.
func (s *Service) List(ctx context.Context, q photo.ListQuery) (photo.Page, error) {
	return s.db.List(ctx, q)
}

// Delete removes one of owner's photos: its rows, then its files; nothing
// is left when it returns. The files are named from the canonical id
// (photo.ParseID), whatever case the caller's id is in.
func (s *Service) Delete(ctx context.Context, owner, id string) (photo.Deletion, error) {
	id, err := photo.ParseID(id)
	if err != nil {
		return photo.Deleted, err
	}
	if err := s.db.Delete(ctx, owner, id); err != nil {
		return photo.Deleted, err
	}
	if err := s.files.Remove(s.paths(owner, id)...); err != nil {
		// The rows are gone, so the photo is gone for every reader; the
		// files are orphans. Log them rather than fail the delete.
		s.log.ErrorContext(ctx, "remove files of deleted photo", "photo", id, "err", err)
		s.metrics.OrphanFiles.Add(1)
	}
	return photo.Deleted, nil
}

// paths are every file photo id of owner may have: its original and its
// thumbnails.
func (s *Service) paths(owner, id string) []string {
	paths := make([]string, 0, 1+len(photo.Sizes))
	if p, err := s.files.OriginalPath(owner, id); err == nil {
		paths = append(paths, p)
	}
	for _, size := range photo.Sizes {
		if p, err := s.files.ThumbnailPath(owner, id, size); err == nil {
			paths = append(paths, p)
		}
	}
	return paths
}

var (
	_ photo.Uploader = (*Service)(nil)
	_ photo.Reader   = (*Service)(nil)
	_ photo.Deleter  = (*Service)(nil)
)

// HandlerOptions tune the HTTP layer.
type HandlerOptions struct {
	// MaxUploads bounds the uploads processed at once; others queue for a
	// slot (photobench_monolith_upload_slot_wait_seconds) until their
	// request ends. Decoding a 12-megapixel JPEG takes ~25 MB, so this also
	// bounds memory. An upload takes its slot only once its body has been
	// read, so slow senders cannot hold the slots.
	MaxUploads int
	// BodyTimeout bounds the time an upload's body may take to arrive
	// (DefaultBodyTimeout when zero).
	BodyTimeout time.Duration
	Limits      imaging.Limits
	// Uploader, when set, takes the uploads instead of the service: the
	// asynchronous monolith's *Async.
	Uploader photo.Uploader
	// Health are checks /healthz runs besides the database's (the bucket,
	// with --storage s3).
	Health []httpapi.Check
}

// DefaultBodyTimeout is how long an upload's body may take to arrive: the
// same bound as the server's ReadTimeout (internal/command), at least
// 0.35 MB/s for a body at the 20 MiB limit.
const DefaultBodyTimeout = 60 * time.Second

// NewHandler returns the monolith's whole HTTP API: package httpapi's
// routes over the service, with uploads admitted opts.MaxUploads at a time.
func NewHandler(log *slog.Logger, svc *Service, verifier *auth.Verifier, reg prometheus.Gatherer, httpm *httpmetrics.Metrics, m *Metrics, opts HandlerOptions) http.Handler {
	slots := make(chan struct{}, max(opts.MaxUploads, 1))
	var up photo.Uploader = svc
	if opts.Uploader != nil {
		up = opts.Uploader
	}
	return httpapi.NewServer(
		httpapi.Config{Log: log, Verifier: verifier, Metrics: httpm, Gatherer: reg, Health: append([]httpapi.Check{{Name: "database", Ping: svc.db.Ping}}, opts.Health...)},
		httpapi.Photos{Uploader: up, Reader: svc, Deleter: svc, Limits: opts.Limits,
			AdmitUpload: uploadSlots(slots, m), BodyTimeout: cmp.Or(opts.BodyTimeout, DefaultBodyTimeout)},
	)
}

// uploadSlots admits at most cap(slots) uploads at once, each once its
// body has been read; the rest wait until a slot frees or their request
// ends.
func uploadSlots(slots chan struct{}, m *Metrics) func(context.Context) (func(), error) {
	release := func() { <-slots }
	return func(ctx context.Context) (func(), error) {
		start := time.Now()
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil, &photo.Error{Kind: photo.Unavailable, Message: "the request ended while waiting for an upload slot", Err: ctx.Err()}
		}
		m.UploadSlotWait.Observe(time.Since(start).Seconds())
		return release, nil
	}
}
