package chaos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	miniogo "github.com/minio/minio-go/v7"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/minio"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/monolith/disk"
	"github.com/photobench/photobench/photo"
)

// stored is one photo's row as the variant's database holds it.
type stored struct {
	owner, status, reason string
}

// store reads what a variant really keeps: its rows, and the bytes of its
// originals and thumbnails. Errors of kind photo.NotFound mean missing.
type store interface {
	// rows returns every photo row of owners, by id (the event-driven
	// catalog's tombstones excluded).
	rows(ctx context.Context, owners []string) (map[string]stored, error)
	original(ctx context.Context, owner, id string) ([]byte, error)
	thumbnail(ctx context.Context, owner, id string, size photo.Size) ([]byte, error)
	// stored returns the ids (lower case) of the files or objects kept
	// for owners, with how many there are of each: originals and
	// thumbnails.
	stored(ctx context.Context, owners []string) (map[string]int, error)
	close()
}

// openStore opens the store of variant in the stack c.
func openStore(ctx context.Context, c stack.Config, variant string) (store, error) {
	switch variant {
	case Monolith, MonolithAsync:
		db, dir, _ := c.MonolithState(variant)
		if dir == "" {
			return nil, fmt.Errorf("chaos: %s keeps photos in MinIO (PHOTOBENCH_MONOLITH_STORAGE=s3): the matrix reads them on disk only", variant)
		}
		pool, err := openPool(ctx, c.DatabaseDSN(db))
		if err != nil {
			return nil, err
		}
		files, err := disk.Open(dir)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("chaos: %w", err)
		}
		return &monolithStore{pool: pool, files: files, dir: dir}, nil
	case EventDriven:
		pool, err := openPool(ctx, c.DatabaseDSN("catalog"))
		if err != nil {
			return nil, err
		}
		objects, err := s3store.New(c.S3Endpoint(), c.S3AccessKey, c.S3SecretKey, nil)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("chaos: %w", err)
		}
		client, err := minio.New(c.S3Endpoint(), c.S3AccessKey, c.S3SecretKey, nil)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("chaos: %w", err)
		}
		return &eventStore{pool: pool, objects: objects, client: client}, nil
	}
	return nil, fmt.Errorf("chaos: unknown variant %q", variant)
}

// openPool opens a small pool that survives a PostgreSQL restart (pgx
// dials again on the next query).
func openPool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	cfg.MaxConns = 2
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	return pool, nil
}

func queryRows(ctx context.Context, pool *pgxpool.Pool, sql string, owners []string) (map[string]stored, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rs, err := pool.Query(ctx, sql, owners)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := map[string]stored{}
	for rs.Next() {
		var id string
		var s stored
		if err := rs.Scan(&id, &s.owner, &s.status, &s.reason); err != nil {
			return nil, err
		}
		out[id] = s
	}
	return out, rs.Err()
}

type monolithStore struct {
	pool  *pgxpool.Pool
	files *disk.Store
	dir   string
}

func (s *monolithStore) rows(ctx context.Context, owners []string) (map[string]stored, error) {
	return queryRows(ctx, s.pool, `SELECT id::text, owner, status, failure_reason FROM photos WHERE owner = ANY($1)`, owners)
}

func (s *monolithStore) original(_ context.Context, owner, id string) ([]byte, error) {
	p, err := s.files.OriginalPath(owner, id)
	if err != nil {
		return nil, err
	}
	return s.files.Read(p)
}

func (s *monolithStore) thumbnail(_ context.Context, owner, id string, size photo.Size) ([]byte, error) {
	p, err := s.files.ThumbnailPath(owner, id, size)
	if err != nil {
		return nil, err
	}
	return s.files.Read(p)
}

// stored lists <dir>/originals/<owner>/<id> and
// <dir>/thumbnails/<owner>/<id>-<size>.jpg (package disk's layout).
func (s *monolithStore) stored(_ context.Context, owners []string) (map[string]int, error) {
	out := map[string]int{}
	for _, owner := range owners {
		for _, kind := range []string{"originals", "thumbnails"} {
			entries, err := os.ReadDir(filepath.Join(s.dir, kind, owner))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("chaos: %w", err)
			}
			for _, e := range entries {
				if id := photoIDPrefix(e.Name()); id != "" {
					out[id]++
				}
			}
		}
	}
	return out, nil
}

// photoIDPrefix is the photo id a file or key element starts with (an
// original's name, "<id>-<size>.jpg"), lower case; "" if none.
func photoIDPrefix(name string) string {
	if len(name) < 36 {
		return ""
	}
	id, err := photo.ParseID(name[:36])
	if err != nil {
		return ""
	}
	return id
}

func (s *monolithStore) close() { s.pool.Close() }

type eventStore struct {
	pool    *pgxpool.Pool
	objects *s3store.Store
	client  *miniogo.Client
}

func (s *eventStore) rows(ctx context.Context, owners []string) (map[string]stored, error) {
	return queryRows(ctx, s.pool, `SELECT id::text, owner, status, failure_reason FROM photos WHERE owner = ANY($1) AND NOT deleted`, owners)
}

func (s *eventStore) original(ctx context.Context, owner, id string) ([]byte, error) {
	return s.objects.GetOriginal(ctx, owner, id, imaging.DefaultLimits.MaxBytes)
}

func (s *eventStore) thumbnail(ctx context.Context, owner, id string, size photo.Size) ([]byte, error) {
	return s.objects.GetThumbnail(ctx, owner, id, size)
}

// stored lists the originals (users/<owner>/<id>) and thumbnails
// (users/<owner>/<id>/<size>.jpg) buckets.
func (s *eventStore) stored(ctx context.Context, owners []string) (map[string]int, error) {
	out := map[string]int{}
	for _, owner := range owners {
		for _, bucket := range []string{deploy.BucketOriginals, deploy.BucketThumbnails} {
			prefix := "users/" + owner + "/"
			for oi := range s.client.ListObjects(ctx, bucket, miniogo.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
				if oi.Err != nil {
					return nil, fmt.Errorf("chaos: list %s/%s: %w", bucket, prefix, oi.Err)
				}
				if id := photoIDPrefix(strings.TrimPrefix(oi.Key, prefix)); id != "" {
					out[id]++
				}
			}
		}
	}
	return out, nil
}

func (s *eventStore) close() { s.pool.Close() }

// checkObjects reads a ready photo's original and thumbnails and makes
// the thumbnails again from the original: missing names what is not
// there ("original", "thumbnail small", ...), differ is true when a
// stored thumbnail is not the one the original makes (two writes of
// different content, or a torn one). Thumbnails are deterministic (same
// pixels, same encoder and quality), so a correct store matches byte for
// byte. made caches the thumbnails by the original's digest: the load's
// photos repeat.
func checkObjects(ctx context.Context, s store, made map[[32]byte][]imaging.Thumb, owner, id string) (missing []string, differ bool, err error) {
	orig, err := s.original(ctx, owner, id)
	if photo.KindOf(err) == photo.NotFound {
		return []string{"original missing"}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	sum := sha256.Sum256(orig)
	want, ok := made[sum]
	var perr error
	if !ok {
		var res imaging.Result
		res, perr = imaging.Process(ctx, orig, imaging.DefaultLimits)
		if perr == nil {
			want = res.Thumbs
			made[sum] = want
		}
	}
	for _, size := range photo.Sizes {
		got, err := s.thumbnail(ctx, owner, id, size)
		if photo.KindOf(err) == photo.NotFound {
			missing = append(missing, "thumbnail "+string(size)+" missing")
			continue
		}
		if err != nil {
			return nil, false, err
		}
		if perr != nil {
			continue // an original the pipeline accepted and we cannot redo: not ours to judge
		}
		for _, t := range want {
			if t.Size == size && !bytes.Equal(t.JPEG, got) {
				differ = true
			}
		}
	}
	return missing, differ, nil
}
