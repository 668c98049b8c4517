// Package pgdb opens a service's own PostgreSQL database: it creates the
// database when missing, pools connections, and applies the service's
// embedded SQL migrations in name order, each once.
package pgdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/photobench/photobench/internal/outbound"
)

// Open connects a pool of at most maxConns connections (16 when 0) to the
// database named in dsn, creating it if needed, and applies the *.sql files
// of migrations not applied yet.
//
// sent, if not nil, counts the pool's round trips (outbound.Counter.Tracer),
// the migrations' included: they are requests the process sends at start.
func Open(ctx context.Context, dsn string, maxConns int32, migrations fs.FS, sent *outbound.Counter) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse dsn: %w", err)
	}
	cfg.MaxConns = 16
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	if err := ensureDatabase(ctx, cfg.ConnConfig); err != nil {
		return nil, err
	}
	cfg.ConnConfig.Tracer = sent.Tracer()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool, migrations); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

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

// Exclusive runs fn on one connection of pool while it holds the advisory
// lock that migrations take, so that the schema changes of processes
// starting at once on one database run one at a time: Open's migrations,
// and others' (River's, in the asynchronous monolith). op names the
// operation in errors.
func Exclusive(ctx context.Context, pool *pgxpool.Pool, op string, fn func(*pgxpool.Conn) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer conn.Release()
	const lockID = 0x70686f746f // "photo"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockID); err != nil {
		return fmt.Errorf("%s: lock: %w", op, err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockID)
	return fn(conn)
}

// migrate applies the embedded migrations not applied yet, in name order,
// each in its own transaction, under Exclusive's lock.
func migrate(ctx context.Context, pool *pgxpool.Pool, migrations fs.FS) error {
	return Exclusive(ctx, pool, "migrate", func(conn *pgxpool.Conn) error { return migrateOn(ctx, conn, migrations) })
}

func migrateOn(ctx context.Context, conn *pgxpool.Conn, migrations fs.FS) error {
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "*.sql")
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
		sql, err := fs.ReadFile(migrations, name)
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
