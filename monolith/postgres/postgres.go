// Package postgres is the monolith's state in PostgreSQL: photos and their
// thumbnails' rows, written in one transaction per upload, read through a
// pgx connection pool. Migrations are embedded and applied at start.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/internal/pgdb"
	"github.com/photobench/photobench/photo"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the monolith's photo table.
type Store struct {
	pool *pgxpool.Pool
}

// Options tune the connection pool.
type Options struct {
	// MaxConns bounds the pool (default 16). Each upload holds a connection
	// only for its final transaction.
	MaxConns int32
	// Sent, if set, counts the round trips (photobench_requests_sent_total).
	Sent *outbound.Counter
}

// Open connects to the database named in dsn, creating the database when
// it does not exist yet, and applies pending migrations.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	pool, err := pgdb.Open(ctx, dsn, opts.MaxConns, sub, opts.Sent)
	if err != nil {
		return nil, fmt.Errorf("open monolith database: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Pool exposes the pool's statistics for metrics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Insert writes a photo and its thumbnails' rows in one transaction.
func (s *Store) Insert(ctx context.Context, p photo.Photo) error {
	return s.InTx(ctx, "insert photo "+p.ID, func(tx pgx.Tx) error { return InsertTx(ctx, tx, p) })
}

// InTx runs fn in one transaction, committed when fn returns nil and rolled
// back otherwise; op names the operation in the error. The asynchronous
// monolith writes a photo's row and enqueues its job through it, so both
// happen or neither.
func (s *Store) InTx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	if err := pgx.BeginFunc(ctx, s.pool, fn); err != nil {
		return pgdb.Err(op, err)
	}
	return nil
}

// InsertTx writes a photo's row and its thumbnails' rows in tx.
func InsertTx(ctx context.Context, tx pgx.Tx, p photo.Photo) error {
	_, err := tx.Exec(ctx, `INSERT INTO photos
		(id, owner, status, failure_reason, format, width, height, bytes, tags, colors, hash, created_at, updated_at, ready_at,
			thumbnailed_at, tagged_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		p.ID, p.Owner, string(p.Status), p.FailureReason, string(p.Format), p.Width, p.Height, p.Bytes,
		nonNil(p.Tags), nonNil(p.Colors), p.Hash, p.CreatedAt, p.UpdatedAt, p.ReadyAt, p.ThumbnailedAt, p.TaggedAt)
	if err != nil {
		return err
	}
	return insertThumbnails(ctx, tx, p)
}

func insertThumbnails(ctx context.Context, tx pgx.Tx, p photo.Photo) error {
	batch := &pgx.Batch{}
	for size, t := range p.Thumbnails {
		batch.Queue(`INSERT INTO thumbnails (photo_id, size, width, height, bytes) VALUES ($1, $2, $3, $4, $5)`,
			p.ID, string(size), t.Width, t.Height, t.Bytes)
	}
	return tx.SendBatch(ctx, batch).Close()
}

// FinishTx makes a pending photo final in tx: p.Status says which.
// StatusReady records p's tags, colours, hash and thumbnails' rows, with
// p.UpdatedAt as its ready time; StatusFailed records p.FailureReason.
// Both record p's stage times (ThumbnailedAt, TaggedAt), those of a failed
// photo being of the stages it completed before it failed. It
// reports whether the photo was still pending, and when it was created: a
// photo deleted meanwhile, or already final, is left as it is (ok false),
// so a job that runs again, or runs after a delete, changes nothing.
func FinishTx(ctx context.Context, tx pgx.Tx, p photo.Photo) (created time.Time, ok bool, err error) {
	if p.Status != photo.StatusReady && p.Status != photo.StatusFailed {
		return time.Time{}, false, fmt.Errorf("finish photo %s: status %q is not final", p.ID, p.Status)
	}
	err = tx.QueryRow(ctx, `UPDATE photos SET status = $2, failure_reason = $3, tags = $4, colors = $5, hash = $6,
			updated_at = $7, ready_at = $7, thumbnailed_at = $8, tagged_at = $9
		WHERE id = $1 AND status = 'pending'
		RETURNING created_at`,
		p.ID, string(p.Status), p.FailureReason, nonNil(p.Tags), nonNil(p.Colors), p.Hash, p.UpdatedAt,
		p.ThumbnailedAt, p.TaggedAt).Scan(&created)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return created, true, insertThumbnails(ctx, tx, p)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const photoColumns = `id::text, owner, status, failure_reason, format, width, height, bytes, tags, colors, hash, created_at, updated_at, ready_at,
	thumbnailed_at, tagged_at`

func scanPhoto(row pgx.Row) (photo.Photo, error) {
	var (
		p              photo.Photo
		status, format string
	)
	err := row.Scan(&p.ID, &p.Owner, &status, &p.FailureReason, &format, &p.Width, &p.Height, &p.Bytes,
		&p.Tags, &p.Colors, &p.Hash, &p.CreatedAt, &p.UpdatedAt, &p.ReadyAt, &p.ThumbnailedAt, &p.TaggedAt)
	p.Status, p.Format = photo.Status(status), photo.Format(format)
	return p.InUTC(), err
}

// Get returns one of owner's photos. A missing photo, or another user's,
// is a photo.NotFound error.
func (s *Store) Get(ctx context.Context, owner, id string) (photo.Photo, error) {
	p, err := scanPhoto(s.pool.QueryRow(ctx, `SELECT `+photoColumns+` FROM photos WHERE id = $1 AND owner = $2`, id, owner))
	if errors.Is(err, pgx.ErrNoRows) {
		return photo.Photo{}, photo.Errorf(photo.NotFound, "photo not found")
	}
	if err != nil {
		return photo.Photo{}, pgdb.Err("get photo "+id, err)
	}
	if err := s.loadThumbnails(ctx, []*photo.Photo{&p}); err != nil {
		return photo.Photo{}, err
	}
	return p, nil
}

// List returns a page of the query's owner's photos, newest first.
func (s *Store) List(ctx context.Context, q photo.ListQuery) (photo.Page, error) {
	page, err := pgdb.ListPhotos(ctx, s.pool, `SELECT `+photoColumns+` FROM photos`, nil, q, scanPhoto)
	if err != nil {
		return photo.Page{}, err
	}
	ptrs := make([]*photo.Photo, len(page.Photos))
	for i := range page.Photos {
		ptrs[i] = &page.Photos[i]
	}
	if err := s.loadThumbnails(ctx, ptrs); err != nil {
		return photo.Page{}, err
	}
	return page, nil
}

func (s *Store) loadThumbnails(ctx context.Context, ps []*photo.Photo) error {
	if len(ps) == 0 {
		return nil
	}
	byID := map[string]*photo.Photo{}
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		p.Thumbnails = map[photo.Size]photo.Thumbnail{}
		byID[p.ID] = p
		ids = append(ids, p.ID)
	}
	rows, err := s.pool.Query(ctx, `SELECT photo_id::text, size, width, height, bytes FROM thumbnails WHERE photo_id = ANY($1::uuid[])`, ids)
	if err != nil {
		return pgdb.Err("load thumbnails", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, size string
			t        photo.Thumbnail
		)
		if err := rows.Scan(&id, &size, &t.Width, &t.Height, &t.Bytes); err != nil {
			return pgdb.Err("load thumbnails", err)
		}
		if p := byID[id]; p != nil {
			p.Thumbnails[photo.Size(size)] = t
		}
	}
	if err := rows.Err(); err != nil {
		return pgdb.Err("load thumbnails", err)
	}
	return nil
}

// Delete removes one of owner's photos and its thumbnails' rows. A missing
// photo, or another user's, is a photo.NotFound error.
func (s *Store) Delete(ctx context.Context, owner, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM photos WHERE id = $1 AND owner = $2`, id, owner)
	if err != nil {
		return pgdb.Err("delete photo "+id, err)
	}
	if tag.RowsAffected() == 0 {
		return photo.Errorf(photo.NotFound, "photo not found")
	}
	return nil
}

// Existing returns which of ids have a photo row, whoever owns it: the
// orphan sweep's question about files that no row may point to.
func (s *Store) Existing(ctx context.Context, ids []string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM photos WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, pgdb.Err("find photos", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, pgdb.Err("find photos", err)
	}
	out := make(map[string]bool, len(found))
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}

// Now is the database's notion of a timestamp for new rows: the local clock
// at microsecond precision, which is what timestamptz keeps, so a photo
// read back equals the photo written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
