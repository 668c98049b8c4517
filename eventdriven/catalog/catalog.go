// Package catalog is the event-driven side's aggregate: the only writer of
// its PostgreSQL database. It assembles each photo from events that arrive
// in any order and any number of times (MinIO's object records, the
// thumbnailer's photo.thumbnailed or photo.failed, the tagger's
// photo.tagged): every write is an idempotent upsert, and a photo becomes
// ready exactly once, when both its thumbnails and its tags are in. The
// query function reads the same database through Get and List.
package catalog

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/internal/pgdb"
	"github.com/photobench/photobench/photo"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the catalog database.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// Open connects to the catalog database (created if missing) and applies
// its migrations. sent, if not nil, counts the round trips.
func Open(ctx context.Context, dsn string, maxConns int32, sent *outbound.Counter) (*Store, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	pool, err := pgdb.Open(ctx, dsn, maxConns, sub, sent)
	if err != nil {
		return nil, fmt.Errorf("open catalog database: %w", err)
	}
	return &Store{pool: pool, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Ready reports a photo that became ready (or failed) by a write, with the
// time from its upload to that moment.
type Ready struct {
	ID            string
	Status        photo.Status
	UploadToReady time.Duration
}

// seq pads a MinIO sequencer (hex) so that text order is numeric order.
func seq(s string) string {
	s = strings.ToUpper(strings.TrimLeft(s, "0"))
	if len(s) >= 32 {
		return s
	}
	return strings.Repeat("0", 32-len(s)) + s
}

// ObjectCreated records that the original exists (an s3:ObjectCreated
// record). Ignored when a later object event on the key was applied.
func (s *Store) ObjectCreated(ctx context.Context, id, owner string, bytes int64, createdAt time.Time, sequencer string) error {
	now := s.now()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO photos (id, owner, bytes, created_at, updated_at, object_seq)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET bytes = EXCLUDED.bytes, created_at = EXCLUDED.created_at,
			object_seq = EXCLUDED.object_seq, updated_at = EXCLUDED.updated_at
		WHERE photos.object_seq < EXCLUDED.object_seq AND NOT photos.deleted`,
		id, owner, bytes, createdAt.UTC().Truncate(time.Microsecond), now, seq(sequencer))
	if err != nil {
		return fmt.Errorf("catalog object created %s: %w", id, err)
	}
	return nil
}

// ObjectRemoved records that the original is gone (s3:ObjectRemoved): the
// photo becomes a tombstone that readers never see and late events cannot
// revive. A failed photo stays as it is: the thumbnailer removed its bytes,
// and its record with the reason remains.
func (s *Store) ObjectRemoved(ctx context.Context, id, owner, sequencer string) error {
	now := s.now()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO photos (id, owner, created_at, updated_at, object_seq, deleted)
		VALUES ($1, $2, $3, $3, $4, true)
		ON CONFLICT (id) DO UPDATE SET deleted = true, object_seq = EXCLUDED.object_seq, updated_at = EXCLUDED.updated_at
		WHERE photos.object_seq < EXCLUDED.object_seq AND photos.status <> 'failed'`,
		id, owner, now, seq(sequencer))
	if err != nil {
		return fmt.Errorf("catalog object removed %s: %w", id, err)
	}
	return nil
}

// Thumbnailed records a photo.thumbnailed event and reports whether the
// photo became ready by it.
func (s *Store) Thumbnailed(ctx context.Context, e eventdriven.Thumbnailed) (*Ready, error) {
	thumbs, err := json.Marshal(e.Thumbnails)
	if err != nil {
		return nil, err
	}
	now := s.now()
	_, err = s.pool.Exec(ctx, `
		INSERT INTO photos (id, owner, format, width, height, bytes, thumbnails, created_at, updated_at, has_thumbnails)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true)
		ON CONFLICT (id) DO UPDATE SET format = EXCLUDED.format, width = EXCLUDED.width, height = EXCLUDED.height,
			bytes = EXCLUDED.bytes, thumbnails = EXCLUDED.thumbnails, created_at = EXCLUDED.created_at,
			updated_at = EXCLUDED.updated_at, has_thumbnails = true
		WHERE NOT photos.deleted AND photos.status = 'pending'`,
		e.ID, e.Owner, string(e.Format), e.Width, e.Height, e.Bytes, thumbs, e.CreatedAt.UTC().Truncate(time.Microsecond), now)
	if err != nil {
		return nil, fmt.Errorf("catalog thumbnailed %s: %w", e.ID, err)
	}
	return s.tryReady(ctx, e.ID)
}

// Tagged records a photo.tagged event and reports whether the photo became
// ready by it.
func (s *Store) Tagged(ctx context.Context, e eventdriven.Tagged) (*Ready, error) {
	now := s.now()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO photos (id, owner, tags, colors, hash, created_at, updated_at, has_tags)
		VALUES ($1, $2, $3, $4, $5, $6, $7, true)
		ON CONFLICT (id) DO UPDATE SET tags = EXCLUDED.tags, colors = EXCLUDED.colors, hash = EXCLUDED.hash,
			updated_at = EXCLUDED.updated_at, has_tags = true
		WHERE NOT photos.deleted AND photos.status = 'pending'`,
		e.ID, e.Owner, nonNil(e.Tags), nonNil(e.Colors), e.Hash, e.CreatedAt.UTC().Truncate(time.Microsecond), now)
	if err != nil {
		return nil, fmt.Errorf("catalog tagged %s: %w", e.ID, err)
	}
	return s.tryReady(ctx, e.ID)
}

// Failed records a photo.failed event: a pending photo becomes failed with
// the reason, exactly once, whatever arrived before.
func (s *Store) Failed(ctx context.Context, e eventdriven.Failed) (*Ready, error) {
	now := s.now()
	var created time.Time
	err := s.pool.QueryRow(ctx, `
		INSERT INTO photos (id, owner, status, failure_reason, created_at, updated_at, ready_at)
		VALUES ($1, $2, 'failed', $3, $4, $4, $4)
		ON CONFLICT (id) DO UPDATE SET status = 'failed', failure_reason = EXCLUDED.failure_reason,
			updated_at = EXCLUDED.updated_at, ready_at = EXCLUDED.ready_at, deleted = false
		WHERE photos.status = 'pending'
		RETURNING created_at`,
		e.ID, e.Owner, e.Reason, now).Scan(&created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil // already final: a replay
	}
	if err != nil {
		return nil, fmt.Errorf("catalog failed %s: %w", e.ID, err)
	}
	return &Ready{ID: e.ID, Status: photo.StatusFailed, UploadToReady: now.Sub(created)}, nil
}

// tryReady makes a pending photo with thumbnails and tags ready; only the
// write that flips it reports it.
func (s *Store) tryReady(ctx context.Context, id string) (*Ready, error) {
	now := s.now()
	var created time.Time
	err := s.pool.QueryRow(ctx, `
		UPDATE photos SET status = 'ready', ready_at = $2, updated_at = $2
		WHERE id = $1 AND status = 'pending' AND has_thumbnails AND has_tags AND NOT deleted
		RETURNING created_at`, id, now).Scan(&created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("catalog ready %s: %w", id, err)
	}
	return &Ready{ID: id, Status: photo.StatusReady, UploadToReady: now.Sub(created)}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const columns = `id::text, owner, status, failure_reason, format, width, height, bytes, tags, colors, hash, thumbnails, created_at, updated_at, ready_at`

func scan(row pgx.Row) (photo.Photo, error) {
	var (
		p              photo.Photo
		status, format string
		thumbs         []byte
	)
	if err := row.Scan(&p.ID, &p.Owner, &status, &p.FailureReason, &format, &p.Width, &p.Height, &p.Bytes,
		&p.Tags, &p.Colors, &p.Hash, &thumbs, &p.CreatedAt, &p.UpdatedAt, &p.ReadyAt); err != nil {
		return p, err
	}
	p.Status, p.Format = photo.Status(status), photo.Format(format)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	if p.ReadyAt != nil {
		t := p.ReadyAt.UTC()
		p.ReadyAt = &t
	}
	p.Thumbnails = map[photo.Size]photo.Thumbnail{}
	if err := json.Unmarshal(thumbs, &p.Thumbnails); err != nil {
		return p, fmt.Errorf("thumbnails of %s: %w", p.ID, err)
	}
	if p.Status != photo.StatusReady {
		// Thumbnails are served only once the photo is ready.
		p.Thumbnails = map[photo.Size]photo.Thumbnail{}
	}
	return p, nil
}

// Get returns one of owner's photos; a missing, deleted or other user's
// photo is photo.NotFound.
func (s *Store) Get(ctx context.Context, owner, id string) (photo.Photo, error) {
	if err := photo.CheckID(id); err != nil {
		return photo.Photo{}, err
	}
	p, err := scan(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM photos WHERE id = $1 AND owner = $2 AND NOT deleted`, id, owner))
	if errors.Is(err, pgx.ErrNoRows) {
		return photo.Photo{}, photo.Errorf(photo.NotFound, "photo not found")
	}
	if err != nil {
		return photo.Photo{}, pgdb.Err("get photo "+id, err)
	}
	return p, nil
}

// List returns a page of the query owner's photos, newest first.
func (s *Store) List(ctx context.Context, q photo.ListQuery) (photo.Page, error) {
	return pgdb.ListPhotos(ctx, s.pool, `SELECT `+columns+` FROM photos`, []string{"NOT deleted"}, q, scan)
}

// Known returns which of ids have a row, whatever its state (pending,
// ready, failed, or a deleted photo's tombstone): a photo the catalog has
// heard of. ids must be photo ids.
func (s *Store) Known(ctx context.Context, ids []string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM photos WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, pgdb.Err("known photos", err)
	}
	known := make(map[string]bool, len(ids))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, pgdb.Err("known photos", err)
		}
		known[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, pgdb.Err("known photos", err)
	}
	return known, nil
}

// Metrics are the catalog's own metrics.
type Metrics struct {
	// UploadToReady is photobench_catalog_upload_to_ready_seconds{status}:
	// from the upload (ingest's clock, or MinIO's for presigned uploads) to
	// the write that made the photo ready or failed.
	UploadToReady *prometheus.HistogramVec
}

// NewMetrics registers the catalog's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{UploadToReady: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "photobench_catalog_upload_to_ready_seconds",
		Help:    "Time from upload to the photo becoming ready (or failed), as the catalog records it.",
		Buckets: httpmetrics.Buckets,
	}, []string{"status"})}
	m.UploadToReady.WithLabelValues("ready")
	m.UploadToReady.WithLabelValues("failed")
	reg.MustRegister(m.UploadToReady)
	return m
}

// Handler turns events into catalog writes. Malformed events are
// eventdriven.Permanent (dead-lettered); database errors are
// eventdriven.Transient (the partition waits for the database).
type Handler struct {
	Log     *slog.Logger
	Store   *Store
	Metrics *Metrics
}

// Handle is the catalog's eventdriven.Handler. It produces no events.
func (h *Handler) Handle(ctx context.Context, d eventdriven.Delivery) (eventdriven.Result, error) {
	if d.Event == nil {
		return eventdriven.Result{}, h.objects(ctx, d.Objects)
	}
	r, err := h.domainEvent(ctx, *d.Event)
	if err != nil {
		return eventdriven.Result{}, err
	}
	if r != nil {
		h.Metrics.UploadToReady.WithLabelValues(string(r.Status)).Observe(r.UploadToReady.Seconds())
	}
	return eventdriven.Result{}, nil
}

func (h *Handler) domainEvent(ctx context.Context, ev eventdriven.Event) (*Ready, error) {
	bad := func(err error) error {
		return eventdriven.Permanent(fmt.Errorf("%s event %s: %w", ev.Type, ev.ID, err))
	}
	switch ev.Type {
	case eventdriven.TypeThumbnailed:
		var d eventdriven.Thumbnailed
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.ID == "" || d.Owner == "" {
			return nil, bad(fmt.Errorf("malformed data: %v", err))
		}
		r, err := h.Store.Thumbnailed(ctx, d)
		return r, eventdriven.Transient(err)
	case eventdriven.TypeTagged:
		var d eventdriven.Tagged
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.ID == "" || d.Owner == "" {
			return nil, bad(fmt.Errorf("malformed data: %v", err))
		}
		r, err := h.Store.Tagged(ctx, d)
		return r, eventdriven.Transient(err)
	case eventdriven.TypeFailed:
		var d eventdriven.Failed
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.ID == "" || d.Owner == "" {
			return nil, bad(fmt.Errorf("malformed data: %v", err))
		}
		r, err := h.Store.Failed(ctx, d)
		return r, eventdriven.Transient(err)
	}
	return nil, bad(fmt.Errorf("unknown event type"))
}

// objects records originals created and removed.
func (h *Handler) objects(ctx context.Context, objs []eventdriven.Object) error {
	for _, o := range objs {
		var err error
		switch {
		case o.Record.Created():
			err = h.Store.ObjectCreated(ctx, o.ID, o.Owner, o.Record.S3.Object.Size, o.CreatedAt, o.Version)
		case o.Record.Removed():
			err = h.Store.ObjectRemoved(ctx, o.ID, o.Owner, o.Version)
		}
		if err != nil {
			return eventdriven.Transient(err)
		}
	}
	return nil
}
