package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/photobench/photobench/monolith/s3"
)

// A run of its own (Config.RunID): the monoliths keep their state in a
// database, a data directory and (with s3 storage) a bucket that only that
// run uses, so that every run starts from nothing and no run disturbs
// another's data or the stack's own apps'. The monoliths create them when
// they start (the database with its migrations, the directory, the
// bucket); DropRun removes them afterwards.
//
// The event-driven app's state cannot be given per run this way: its
// buckets and topics are the deployment's fixed names (package
// eventdriven/deploy), and a catalog database of its own would make the
// reconciler publish again every original already in the shared bucket.

var runIDPattern = regexp.MustCompile(`^[a-z0-9]{1,24}$`)

// CheckRunID says whether id can name a run's own resources: 1 to 24
// lowercase letters and digits (it goes into database and bucket names).
func CheckRunID(id string) error {
	if !runIDPattern.MatchString(id) {
		return fmt.Errorf("run id %q: want 1 to 24 lowercase letters and digits", id)
	}
	return nil
}

// monolithDatabase is the database of the monolith app svc ("monolith" or
// "monolith-async"): monolith or monolith_async, with "_<RunID>" for a run
// of its own.
func (c Config) monolithDatabase(svc string) string {
	db := strings.ReplaceAll(svc, "-", "_")
	if c.RunID != "" {
		db += "_" + c.RunID
	}
	return db
}

// monolithDataDir is where the monolith app svc keeps photos on disk.
func (c Config) monolithDataDir(svc string) string {
	if c.RunID != "" {
		return filepath.Join(c.Dir, "data", "runs", c.RunID, svc)
	}
	return filepath.Join(c.Dir, "data", svc)
}

// monolithBucket is the bucket the monolith app svc keeps photos in with
// s3 storage: the monolith's default for the sync monolith, the app's
// name for the async one (never the same bucket), "-<RunID>" added for a
// run of its own.
func (c Config) monolithBucket(svc string) string {
	b := svc
	if svc == "monolith" {
		b = s3.DefaultBucket
	}
	if c.RunID != "" {
		b += "-" + c.RunID
	}
	return b
}

// RunResources are the resources of c's run (c.RunID): what the monoliths
// create for it and DropRun removes.
type RunResources struct {
	Databases []string // PostgreSQL databases
	DataDirs  []string // directories of photos on disk
	Buckets   []string // MinIO buckets (s3 storage)
}

// RunResources lists the resources of c's run; the zero value when c has
// no RunID (the stack's own apps' resources are never a run's).
func (c Config) RunResources() RunResources {
	var r RunResources
	if c.RunID == "" {
		return r
	}
	for _, svc := range []string{"monolith", "monolith-async"} {
		r.Databases = append(r.Databases, c.monolithDatabase(svc))
		r.DataDirs = append(r.DataDirs, c.monolithDataDir(svc))
		r.Buckets = append(r.Buckets, c.monolithBucket(svc))
	}
	return r
}

// String names the resources in one line, for logs and results.
func (r RunResources) String() string {
	var parts []string
	if len(r.Databases) > 0 {
		parts = append(parts, "databases "+strings.Join(r.Databases, ", "))
	}
	if len(r.DataDirs) > 0 {
		parts = append(parts, "data directories "+strings.Join(r.DataDirs, ", "))
	}
	if len(r.Buckets) > 0 {
		parts = append(parts, "buckets "+strings.Join(r.Buckets, ", "))
	}
	return strings.Join(parts, "; ")
}

// DropRun removes the resources of c's run, those that exist: its
// databases (connections to them are ended), its data directories and its
// buckets with what they hold. Nothing else is touched; every failure is
// reported. It refuses a Config without a valid RunID.
func DropRun(ctx context.Context, c Config) error {
	if err := CheckRunID(c.RunID); err != nil {
		return fmt.Errorf("drop run: %w", err)
	}
	r := c.RunResources()
	var errs []error
	conn, err := pgx.Connect(ctx, c.pgDSN("postgres"))
	if err != nil {
		errs = append(errs, fmt.Errorf("drop run %s: %w", c.RunID, err))
	} else {
		for _, db := range r.Databases {
			if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
				errs = append(errs, fmt.Errorf("drop database %s: %w", db, err))
			}
		}
		conn.Close(context.Background())
	}
	for _, d := range r.DataDirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", d, err))
		}
	}
	os.Remove(filepath.Join(c.Dir, "data", "runs", c.RunID)) // empty by now
	client, err := c.minioClient()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, b := range r.Buckets {
		ok, err := client.BucketExists(ctx, b)
		if err == nil && ok {
			err = client.RemoveBucketWithOptions(ctx, b, miniogo.RemoveBucketOptions{ForceDelete: true})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove bucket %s: %w", b, err))
		}
	}
	return errors.Join(errs...)
}

// minioClient is an S3 client of the stack's MinIO.
func (c Config) minioClient() (*miniogo.Client, error) {
	client, err := miniogo.New(c.addr(c.MinIOPort), &miniogo.Options{
		Creds: credentials.NewStaticV4(c.S3AccessKey, c.S3SecretKey, ""),
	})
	if err != nil {
		return nil, fmt.Errorf("minio client: %w", err)
	}
	return client, nil
}

// DatabaseDSN is the connection string of the stack's database db.
func (c Config) DatabaseDSN(db string) string { return c.pgDSN(db) }

// MonolithState names where the monolith app svc ("monolith" or
// "monolith-async") keeps its state under c: its database, and its data
// directory or its bucket, whichever its storage uses.
func (c Config) MonolithState(svc string) (database, dataDir, bucket string) {
	if c.MonolithStorage == "s3" { // monolith.StorageS3
		return c.monolithDatabase(svc), "", c.monolithBucket(svc)
	}
	return c.monolithDatabase(svc), c.monolithDataDir(svc), ""
}

// CountRows is the number of rows of table in the stack's database db.
func CountRows(ctx context.Context, c Config, db, table string) (int64, error) {
	conn, err := pgx.Connect(ctx, c.pgDSN(db))
	if noDatabase(err) { // an app creates its database when it first starts
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("count rows of %s.%s: %w", db, table, err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows of %s.%s: %w", db, table, err)
	}
	return n, nil
}

// CountObjects is the number of objects in the stack's MinIO bucket (0
// when the bucket does not exist).
func CountObjects(ctx context.Context, c Config, bucket string) (int64, error) {
	client, err := c.minioClient()
	if err != nil {
		return 0, err
	}
	if ok, err := client.BucketExists(ctx, bucket); err != nil || !ok {
		if err != nil {
			return 0, fmt.Errorf("count objects of %s: %w", bucket, err)
		}
		return 0, nil
	}
	var n int64
	for oi := range client.ListObjects(ctx, bucket, miniogo.ListObjectsOptions{Recursive: true}) {
		if oi.Err != nil {
			return n, fmt.Errorf("count objects of %s: %w", bucket, oi.Err)
		}
		n++
	}
	return n, nil
}

// Empty removes every row of the tables of the stack's database db and
// every object of the buckets, keeping the tables, the buckets and their
// notification settings. It is how a bench gives the event-driven app,
// whose database, buckets and topics have fixed names, the same empty
// start before each run: only for a stack nothing else is using (the bench
// stops the stack's own apps first), never for the shared stack of tests.
// It returns how many objects it removed.
func Empty(ctx context.Context, c Config, db string, tables, buckets []string) (int64, error) {
	var errs []error
	var removed int64
	if len(tables) > 0 {
		conn, err := pgx.Connect(ctx, c.pgDSN(db))
		switch {
		case noDatabase(err): // not created yet: nothing to empty
			tables = nil
		case err != nil:
			return 0, fmt.Errorf("empty %s: %w", db, err)
		}
		ids := make([]string, len(tables))
		for i, t := range tables {
			ids[i] = pgx.Identifier{t}.Sanitize()
		}
		if len(tables) > 0 {
			if _, err := conn.Exec(ctx, "TRUNCATE "+strings.Join(ids, ", ")); err != nil {
				errs = append(errs, fmt.Errorf("empty %s: %w", db, err))
			}
			conn.Close(context.Background())
		}
	}
	if len(buckets) == 0 {
		return 0, errors.Join(errs...)
	}
	client, err := c.minioClient()
	if err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	for _, b := range buckets {
		objects := make(chan miniogo.ObjectInfo)
		var listErr error
		go func() {
			defer close(objects)
			for oi := range client.ListObjects(ctx, b, miniogo.ListObjectsOptions{Recursive: true}) {
				if oi.Err != nil {
					listErr = oi.Err
					return
				}
				removed++
				objects <- oi
			}
		}()
		for re := range client.RemoveObjects(ctx, b, objects, miniogo.RemoveObjectsOptions{}) {
			if re.Err != nil {
				errs = append(errs, fmt.Errorf("empty bucket %s: %s: %w", b, re.ObjectName, re.Err))
			}
		}
		if listErr != nil {
			errs = append(errs, fmt.Errorf("empty bucket %s: %w", b, listErr))
		}
	}
	return removed, errors.Join(errs...)
}

// noDatabase reports whether err says that the database does not exist.
func noDatabase(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "3D000" // invalid_catalog_name
}
