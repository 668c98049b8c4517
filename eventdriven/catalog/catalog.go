// Package catalog is the event-driven side's aggregate: the only writer of
// its PostgreSQL database. It assembles each photo from events that arrive
// in any order and any number of times (MinIO's object records, the
// thumbnailer's photo.thumbnailed or photo.failed, the tagger's
// photo.tagged): every write is an idempotent upsert, and a photo becomes
// ready exactly once, when both its thumbnails and its tags are in, each
// recorded with its stage time (the event's time: stageTime). The query
// function reads the same database through Get and List.
package catalog

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/internal/brief"
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

// Connect returns a store on the catalog database that neither creates
// nor migrates it and connects lazily, on first use: for a process whose
// own work does not need the database (ingest, which only deletes failed
// photos through it) and so must start while PostgreSQL is down.
func Connect(dsn string, maxConns int32, sent *outbound.Counter) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("catalog database: parse dsn: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.Tracer = sent.Tracer()
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("catalog database: %w", err)
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
// record). Ignored when a later object event on the key was applied. A
// photo that is another owner's is Permanent (the key names the owner, so
// the event is forged) and changes nothing.
func (s *Store) ObjectCreated(ctx context.Context, id, owner string, bytes int64, createdAt time.Time, sequencer string) error {
	now := s.now()
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO photos (id, owner, bytes, created_at, updated_at, object_seq)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET bytes = EXCLUDED.bytes, created_at = EXCLUDED.created_at,
			object_seq = EXCLUDED.object_seq, updated_at = EXCLUDED.updated_at
		WHERE photos.object_seq < EXCLUDED.object_seq AND NOT photos.deleted AND photos.owner = EXCLUDED.owner`,
		id, owner, bytes, createdAt.UTC().Truncate(time.Microsecond), now, seq(sequencer))
	if err != nil {
		return classify("object created", id, err)
	}
	if tag.RowsAffected() == 0 {
		return s.checkOwner(ctx, "object created", id, owner)
	}
	return nil
}

// ObjectRemoved records that the original is gone (s3:ObjectRemoved): the
// photo becomes a tombstone that readers never see and late events cannot
// revive. A failed photo stays as it is: the thumbnailer (or the pending
// timeout) removed its bytes, and its record with the reason remains
// until its owner deletes it (DeleteFailed). Another owner's photo is
// Permanent and changes nothing.
func (s *Store) ObjectRemoved(ctx context.Context, id, owner, sequencer string) error {
	now := s.now()
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO photos (id, owner, created_at, updated_at, object_seq, deleted)
		VALUES ($1, $2, $3, $3, $4, true)
		ON CONFLICT (id) DO UPDATE SET deleted = true, object_seq = EXCLUDED.object_seq, updated_at = EXCLUDED.updated_at
		WHERE photos.object_seq < EXCLUDED.object_seq AND photos.status <> 'failed' AND photos.owner = EXCLUDED.owner`,
		id, owner, now, seq(sequencer))
	if err != nil {
		return classify("object removed", id, err)
	}
	if tag.RowsAffected() == 0 {
		return s.checkOwner(ctx, "object removed", id, owner)
	}
	return nil
}

// stageTime is when the stage an event reports ended, for a photo's stage
// times (photo.Photo.ThumbnailedAt, TaggedAt): at, the event's time, when
// it has one. Publishers stamp it (ce_time) on their own clock as the
// stage's work ends: the thumbnailer once the thumbnails are stored, the
// tagger once vision has answered; the transport stamps the publish time
// on an event without one. An event with no time at all (CloudEvents
// allows it) gets now, the catalog's apply time, and so does one from a
// clock ahead of the catalog's: no stage time may come after the ready
// time the catalog sets on its own clock.
func stageTime(at, now time.Time) time.Time {
	at = at.UTC().Truncate(time.Microsecond)
	if at.IsZero() || at.After(now) {
		return now
	}
	return at
}

// Thumbnailed records a photo.thumbnailed event and reports whether the
// photo became ready by it. at is the event's time (zero when it has none):
// the photo's ThumbnailedAt, set by the first such event applied (see
// stageTime). An event naming another owner than the photo's is Permanent
// and changes nothing.
func (s *Store) Thumbnailed(ctx context.Context, e eventdriven.Thumbnailed, at time.Time) (*Ready, error) {
	thumbs, err := json.Marshal(e.Thumbnails)
	if err == nil && (e.Width < 0 || e.Width > math.MaxInt32 || e.Height < 0 || e.Height > math.MaxInt32 || e.Bytes < 0) {
		err = fmt.Errorf("dimensions %dx%d or size %d out of range", e.Width, e.Height, e.Bytes)
	}
	if err != nil {
		return nil, eventdriven.Permanent(fmt.Errorf("catalog thumbnailed %s: %w", e.ID, err))
	}
	now := s.now()
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO photos (id, owner, format, width, height, bytes, thumbnails, created_at, updated_at, has_thumbnails, thumbnailed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true, $10)
		ON CONFLICT (id) DO UPDATE SET format = EXCLUDED.format, width = EXCLUDED.width, height = EXCLUDED.height,
			bytes = EXCLUDED.bytes, thumbnails = EXCLUDED.thumbnails, created_at = EXCLUDED.created_at,
			updated_at = EXCLUDED.updated_at, has_thumbnails = true,
			thumbnailed_at = COALESCE(photos.thumbnailed_at, EXCLUDED.thumbnailed_at)
		WHERE NOT photos.deleted AND photos.status = 'pending' AND photos.owner = EXCLUDED.owner`,
		e.ID, e.Owner, string(e.Format), e.Width, e.Height, e.Bytes, thumbs, e.CreatedAt.UTC().Truncate(time.Microsecond), now,
		stageTime(at, now))
	if err != nil {
		return nil, classify("thumbnailed", e.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, s.checkOwner(ctx, "thumbnailed", e.ID, e.Owner)
	}
	return s.tryReady(ctx, e.ID)
}

// Tagged records a photo.tagged event and reports whether the photo became
// ready by it. at is the event's time (zero when it has none): the photo's
// TaggedAt, set by the first such event applied (see stageTime). An event
// naming another owner than the photo's is Permanent and changes nothing.
func (s *Store) Tagged(ctx context.Context, e eventdriven.Tagged, at time.Time) (*Ready, error) {
	now := s.now()
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO photos (id, owner, tags, colors, hash, created_at, updated_at, has_tags, tagged_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, true, $8)
		ON CONFLICT (id) DO UPDATE SET tags = EXCLUDED.tags, colors = EXCLUDED.colors, hash = EXCLUDED.hash,
			updated_at = EXCLUDED.updated_at, has_tags = true,
			tagged_at = COALESCE(photos.tagged_at, EXCLUDED.tagged_at)
		WHERE NOT photos.deleted AND photos.status = 'pending' AND photos.owner = EXCLUDED.owner`,
		e.ID, e.Owner, nonNil(e.Tags), nonNil(e.Colors), e.Hash, e.CreatedAt.UTC().Truncate(time.Microsecond), now,
		stageTime(at, now))
	if err != nil {
		return nil, classify("tagged", e.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, s.checkOwner(ctx, "tagged", e.ID, e.Owner)
	}
	return s.tryReady(ctx, e.ID)
}

// Failed records a photo.failed event: a pending photo becomes failed with
// the reason, exactly once, whatever arrived before. An event naming
// another owner than the photo's is Permanent and changes nothing.
func (s *Store) Failed(ctx context.Context, e eventdriven.Failed) (*Ready, error) {
	now := s.now()
	var created time.Time
	err := s.pool.QueryRow(ctx, `
		INSERT INTO photos (id, owner, status, failure_reason, created_at, updated_at, ready_at)
		VALUES ($1, $2, 'failed', $3, $4, $4, $4)
		ON CONFLICT (id) DO UPDATE SET status = 'failed', failure_reason = EXCLUDED.failure_reason,
			updated_at = EXCLUDED.updated_at, ready_at = EXCLUDED.ready_at, deleted = false
		WHERE photos.status = 'pending' AND photos.owner = EXCLUDED.owner
		RETURNING created_at`,
		e.ID, e.Owner, e.Reason, now).Scan(&created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, s.checkOwner(ctx, "failed", e.ID, e.Owner) // else already final: a replay
	}
	if err != nil {
		return nil, classify("failed", e.ID, err)
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
		return nil, classify("ready", id, err)
	}
	return &Ready{ID: id, Status: photo.StatusReady, UploadToReady: now.Sub(created)}, nil
}

// ErrOtherOwner is the cause of the Permanent error of an event that
// names an owner other than the one the catalog has for its photo: the
// event is forged (or a publisher is broken), and it changes nothing.
var ErrOtherOwner = errors.New("the event names an owner other than the photo's")

// checkOwner is called when a write changed nothing: a replay, a late
// event, or an event about another owner's photo, which is Permanent.
// A photo's owner never changes once its row exists, so reading it after
// the write is not a race. The first event about a photo id the catalog
// has never seen sets the owner; ids are random UUIDs, so a forger would
// have to know one before its upload's own events arrived.
func (s *Store) checkOwner(ctx context.Context, op, id, owner string) error {
	var got string
	err := s.pool.QueryRow(ctx, `SELECT owner FROM photos WHERE id = $1`, id).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return classify(op, id, err)
	}
	if got != owner {
		return eventdriven.Permanent(fmt.Errorf("catalog %s %s (owner %q): %w", op, id, owner, ErrOtherOwner))
	}
	return nil
}

// classify wraps a database error of the write op on photo id with the
// kind that decides what the transport does with the event:
//
//   - SQLSTATE class 22 (data exception: a photo id that is not a UUID,
//     22P02; a number out of range) and class 23 (integrity constraint
//     violation: 23505, 23503, 23514) are eventdriven.Permanent: the same
//     event fails the same way however often it is tried, so it is
//     dead-lettered and its partition moves on.
//   - Everything else is eventdriven.Transient: the database unreachable,
//     restarting or out of connections, a serialization failure or
//     deadlock (40001, 40P01), a statement timeout. The partition waits
//     for the database, in order. A statement the database rejects for
//     another reason (class 42, a schema the process does not match) is a
//     deployment fault that the fixed deployment clears: it holds the
//     partition too, rather than dead-lettering every event meanwhile.
func classify(op, id string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("catalog %s %s: %w", op, id, err)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) == 5 {
		switch pgErr.Code[:2] {
		case "22", "23":
			return eventdriven.Permanent(err)
		}
	}
	return eventdriven.Transient(err)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const columns = `id::text, owner, status, failure_reason, format, width, height, bytes, tags, colors, hash, thumbnails, created_at, updated_at, ready_at,
	thumbnailed_at, tagged_at`

func scan(row pgx.Row) (photo.Photo, error) {
	var (
		p              photo.Photo
		status, format string
		thumbs         []byte
	)
	if err := row.Scan(&p.ID, &p.Owner, &status, &p.FailureReason, &format, &p.Width, &p.Height, &p.Bytes,
		&p.Tags, &p.Colors, &p.Hash, &thumbs, &p.CreatedAt, &p.UpdatedAt, &p.ReadyAt, &p.ThumbnailedAt, &p.TaggedAt); err != nil {
		return p, err
	}
	p.Status, p.Format = photo.Status(status), photo.Format(format)
	p = p.InUTC()
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

// DeleteFailed deletes one of owner's failed photos: the catalog row is
// all that is left of it (the thumbnailer, or the pending timeout, removed
// its original), so there is no object whose removal event could carry the
// deletion, and ingest writes the tombstone here. It reports whether
// there was such a photo; NotFound-worthy cases (none, another owner's, not
// failed, already deleted) report false. It is the one write to the
// catalog database outside the catalog function, and it cannot race one:
// no event changes a failed photo, nor revives a tombstone.
func (s *Store) DeleteFailed(ctx context.Context, owner, id string) (bool, error) {
	if err := photo.CheckID(id); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE photos SET deleted = true, updated_at = $3
		WHERE id = $1 AND owner = $2 AND status = 'failed' AND NOT deleted`, id, owner, s.now())
	if err != nil {
		return false, pgdb.Err("delete failed photo "+id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Stuck is a photo that has been pending since before a cutoff.
type Stuck struct {
	ID, Owner string
	CreatedAt time.Time
	// Stage is the last stage of the pipeline the catalog heard of:
	// "none", "stored", "thumbnailed", "tagged" or "thumbnailed and tagged".
	Stage string
}

// Stuck returns up to limit photos still pending that were uploaded
// before cutoff, oldest first.
func (s *Store) Stuck(ctx context.Context, cutoff time.Time, limit int) ([]Stuck, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id::text, owner, created_at, object_seq <> '', has_thumbnails, has_tags FROM photos
		WHERE status = 'pending' AND NOT deleted AND created_at < $1
		ORDER BY created_at LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, pgdb.Err("stuck photos", err)
	}
	defer rows.Close()
	var out []Stuck
	for rows.Next() {
		var (
			st                     Stuck
			stored, thumbs, tagged bool
		)
		if err := rows.Scan(&st.ID, &st.Owner, &st.CreatedAt, &stored, &thumbs, &tagged); err != nil {
			return nil, pgdb.Err("stuck photos", err)
		}
		st.CreatedAt = st.CreatedAt.UTC()
		switch {
		case thumbs && tagged:
			st.Stage = "thumbnailed and tagged"
		case thumbs:
			st.Stage = "thumbnailed"
		case tagged:
			st.Stage = "tagged"
		case stored:
			st.Stage = "stored"
		default:
			st.Stage = "none"
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, pgdb.Err("stuck photos", err)
	}
	return out, nil
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

// MaxEventData bounds a domain event's data: the pipeline's events are a
// few hundred bytes (a tagged event with many tags a few KiB), so anything
// larger is not one of them and is dead-lettered unread.
const MaxEventData = 64 << 10

// Handler turns events into catalog writes. It trusts no event body: an
// event that is malformed, too large, about a photo id that is not a
// UUID, or names an owner other than the photo's (for an object record,
// the owner its key encodes) is eventdriven.Permanent (dead-lettered) and
// changes nothing; database errors are classified by what they are (see
// classify): constraint violations Permanent, unavailability Transient
// (the partition waits for the database).
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
		return eventdriven.Permanent(fmt.Errorf("%s event %s: %w", brief.Clip(ev.Type, 64), brief.Clip(ev.ID, 128), err))
	}
	if len(ev.Data) > MaxEventData {
		return nil, bad(fmt.Errorf("data of %d bytes is over the %d-byte limit", len(ev.Data), MaxEventData))
	}
	// decode reads the data into v and checks the photo id and owner it
	// names (the fields every event has).
	decode := func(v any, id, owner *string) error {
		if err := json.Unmarshal(ev.Data, v); err != nil {
			return bad(fmt.Errorf("malformed data: %w", err))
		}
		return checkSubject(ev, *id, *owner, bad)
	}
	switch ev.Type {
	case eventdriven.TypeThumbnailed:
		var d eventdriven.Thumbnailed
		if err := decode(&d, &d.ID, &d.Owner); err != nil {
			return nil, err
		}
		return h.Store.Thumbnailed(ctx, d, ev.Time)
	case eventdriven.TypeTagged:
		var d eventdriven.Tagged
		if err := decode(&d, &d.ID, &d.Owner); err != nil {
			return nil, err
		}
		return h.Store.Tagged(ctx, d, ev.Time)
	case eventdriven.TypeFailed:
		var d eventdriven.Failed
		if err := decode(&d, &d.ID, &d.Owner); err != nil {
			return nil, err
		}
		return h.Store.Failed(ctx, d)
	}
	return nil, bad(fmt.Errorf("unknown event type"))
}

// checkSubject checks what an event says its photo is: a photo id (a
// UUID), a valid owner, and, when the event has a subject (the Kafka key
// publishers set), the same id as its data.
func checkSubject(ev eventdriven.Event, id, owner string, bad func(error) error) error {
	if err := eventdriven.CheckPhoto(id, owner); err != nil {
		return bad(err)
	}
	if ev.Subject != "" && !strings.EqualFold(ev.Subject, id) {
		return bad(fmt.Errorf("subject %q is not the photo id %s of the data", brief.Clip(ev.Subject, 64), id))
	}
	return nil
}

// objects records originals created and removed. The transport passes
// only records whose key is users/<owner>/<photo id>: the owner is the
// key's, so a record about another owner's photo id is Permanent. A
// Permanent record does not keep the message's other records from being
// applied; a Transient error stops at once (the whole message is tried
// again, and its writes are idempotent).
func (h *Handler) objects(ctx context.Context, objs []eventdriven.Object) error {
	var permanent []error
	for _, o := range objs {
		var err error
		switch {
		case o.Record.Created():
			err = h.Store.ObjectCreated(ctx, o.ID, o.Owner, o.Record.S3.Object.Size, o.CreatedAt, o.Version)
		case o.Record.Removed():
			err = h.Store.ObjectRemoved(ctx, o.ID, o.Owner, o.Version)
		}
		if eventdriven.IsPermanent(err) {
			permanent = append(permanent, err)
		} else if err != nil {
			return err
		}
	}
	return eventdriven.Permanent(errors.Join(permanent...))
}
