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
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

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
}

// Open connects to the database named in dsn, creating the database when
// it does not exist yet, and applies pending migrations.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	} else {
		cfg.MaxConns = 16
	}
	if err := ensureDatabase(ctx, cfg.ConnConfig); err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Pool exposes the pool's statistics for metrics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// ensureDatabase creates cfg's database through the server's maintenance
// database when it is missing.
func ensureDatabase(ctx context.Context, cfg *pgx.ConnConfig) error {
	admin := cfg.Copy()
	admin.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to maintenance database: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", cfg.Database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", cfg.Database, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by another process
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", cfg.Database, err)
	}
	return nil
}

// migrate applies the embedded migrations not applied yet, in name order,
// each in its own transaction, under an advisory lock so that two processes
// starting at once do not race.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	const lockID = 0x70686f746f // "photo"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockID)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		var done bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)", name).Scan(&done); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if done {
			continue
		}
		sql, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (name) VALUES ($1)", name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// Insert writes a photo and its thumbnails' rows in one transaction.
func (s *Store) Insert(ctx context.Context, p photo.Photo) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO photos
			(id, owner, status, failure_reason, format, width, height, bytes, tags, colors, hash, created_at, updated_at, ready_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			p.ID, p.Owner, string(p.Status), p.FailureReason, string(p.Format), p.Width, p.Height, p.Bytes,
			nonNil(p.Tags), nonNil(p.Colors), p.Hash, p.CreatedAt, p.UpdatedAt, p.ReadyAt)
		if err != nil {
			return err
		}
		batch := &pgx.Batch{}
		for size, t := range p.Thumbnails {
			batch.Queue(`INSERT INTO thumbnails (photo_id, size, width, height, bytes) VALUES ($1, $2, $3, $4, $5)`,
				p.ID, string(size), t.Width, t.Height, t.Bytes)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return fmt.Errorf("insert photo %s: %w", p.ID, err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const photoColumns = `id::text, owner, status, failure_reason, format, width, height, bytes, tags, colors, hash, created_at, updated_at, ready_at`

func scanPhoto(row pgx.Row) (photo.Photo, error) {
	var (
		p              photo.Photo
		status, format string
	)
	err := row.Scan(&p.ID, &p.Owner, &status, &p.FailureReason, &format, &p.Width, &p.Height, &p.Bytes,
		&p.Tags, &p.Colors, &p.Hash, &p.CreatedAt, &p.UpdatedAt, &p.ReadyAt)
	p.Status, p.Format = photo.Status(status), photo.Format(format)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	if p.ReadyAt != nil {
		t := p.ReadyAt.UTC()
		p.ReadyAt = &t
	}
	return p, err
}

// Get returns one of owner's photos. A missing photo, or another user's,
// is a photo.NotFound error.
func (s *Store) Get(ctx context.Context, owner, id string) (photo.Photo, error) {
	p, err := scanPhoto(s.pool.QueryRow(ctx, `SELECT `+photoColumns+` FROM photos WHERE id = $1 AND owner = $2`, id, owner))
	if errors.Is(err, pgx.ErrNoRows) {
		return photo.Photo{}, photo.Errorf(photo.NotFound, "photo not found")
	}
	if err != nil {
		return photo.Photo{}, fmt.Errorf("get photo %s: %w", id, err)
	}
	if err := s.loadThumbnails(ctx, []*photo.Photo{&p}); err != nil {
		return photo.Photo{}, err
	}
	return p, nil
}

// List returns a page of the query's owner's photos, newest first.
func (s *Store) List(ctx context.Context, q photo.ListQuery) (photo.Page, error) {
	var (
		where = []string{"owner = $1"}
		args  = []any{q.Owner}
	)
	if q.Tag != "" {
		args = append(args, []string{q.Tag})
		where = append(where, fmt.Sprintf("tags @> $%d", len(args)))
	}
	if q.Cursor != "" {
		c, err := photo.ParseCursor(q.Cursor)
		if err != nil {
			return photo.Page{}, err
		}
		args = append(args, c.CreatedAt, c.ID)
		where = append(where, fmt.Sprintf("(created_at, id) < ($%d, $%d::uuid)", len(args)-1, len(args)))
	}
	args = append(args, q.Limit+1)
	rows, err := s.pool.Query(ctx, `SELECT `+photoColumns+` FROM photos WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return photo.Page{}, fmt.Errorf("list photos: %w", err)
	}
	photos, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (photo.Photo, error) { return scanPhoto(r) })
	if err != nil {
		return photo.Page{}, fmt.Errorf("list photos: %w", err)
	}
	page := photo.Page{Photos: photos}
	if len(photos) > q.Limit {
		page.Photos = photos[:q.Limit]
		last := page.Photos[q.Limit-1]
		page.NextCursor = photo.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.String()
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
		return fmt.Errorf("load thumbnails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, size string
			t        photo.Thumbnail
		)
		if err := rows.Scan(&id, &size, &t.Width, &t.Height, &t.Bytes); err != nil {
			return fmt.Errorf("load thumbnails: %w", err)
		}
		if p := byID[id]; p != nil {
			p.Thumbnails[photo.Size(size)] = t
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load thumbnails: %w", err)
	}
	return nil
}

// Delete removes one of owner's photos and its thumbnails' rows. A missing
// photo, or another user's, is a photo.NotFound error.
func (s *Store) Delete(ctx context.Context, owner, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM photos WHERE id = $1 AND owner = $2`, id, owner)
	if err != nil {
		return fmt.Errorf("delete photo %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return photo.Errorf(photo.NotFound, "photo not found")
	}
	return nil
}

// Now is the database's notion of a timestamp for new rows: the local clock
// at microsecond precision, which is what timestamptz keeps, so a photo
// read back equals the photo written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
