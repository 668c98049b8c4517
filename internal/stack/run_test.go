package stack_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
)

// A run of its own: its resources hold what the run put there, and
// DropRun removes them and nothing else (another run's, the stack's own
// monolith database).
func TestDropRunRemovesOnlyTheRunsResources(t *testing.T) {
	ctx, base := s3Stack(t)
	runs := map[string]stack.Config{}
	for _, name := range []string{"dropped", "kept"} {
		c := base
		c.RunID = "t" + strings.ToLower(randomSuffix(t))
		runs[name] = c
		fill(ctx, t, c)
		t.Cleanup(func() { stack.DropRun(context.Background(), c) })
	}
	admin, err := pgx.Connect(ctx, base.DatabaseDSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	databases := func() map[string]bool {
		rows, _ := admin.Query(ctx, "SELECT datname FROM pg_database")
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	before := databases()

	if err := stack.DropRun(ctx, runs["dropped"]); err != nil {
		t.Fatal(err)
	}
	after := databases()
	dropped, kept := runs["dropped"].RunResources(), runs["kept"].RunResources()
	for _, db := range dropped.Databases {
		if after[db] {
			t.Errorf("database %s still there", db)
		}
	}
	for _, d := range dropped.DataDirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("data directory %s still there (%v)", d, err)
		}
	}
	for _, b := range dropped.Buckets {
		if n, err := stack.CountObjects(ctx, base, b); err != nil || n != 0 {
			t.Errorf("bucket %s: %d objects, %v", b, n, err)
		}
	}
	for _, db := range kept.Databases {
		if n, err := stack.CountRows(ctx, base, db, "photos"); err != nil || n != 1 {
			t.Errorf("the other run's %s.photos: %d rows, %v; want 1", db, n, err)
		}
	}
	for _, d := range kept.DataDirs {
		if _, err := os.Stat(filepath.Join(d, "photo.jpg")); err != nil {
			t.Errorf("the other run's file: %v", err)
		}
	}
	for _, b := range kept.Buckets {
		if n, err := stack.CountObjects(ctx, base, b); err != nil || n != 1 {
			t.Errorf("the other run's bucket %s: %d objects, %v; want 1", b, n, err)
		}
	}
	for _, db := range []string{"monolith", "monolith_async", "catalog"} {
		if before[db] != after[db] {
			t.Errorf("the stack's database %s: there %v before, %v after", db, before[db], after[db])
		}
	}
	if err := stack.DropRun(ctx, base); err == nil {
		t.Error("DropRun without a run id: no error")
	}
}

// s3Stack is the shared stack's configuration with the monoliths' photos
// in MinIO, and a context that ends with the test (at most a minute).
func s3Stack(t *testing.T) (context.Context, stack.Config) {
	t.Helper()
	env := stacktest.Load(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	t.Setenv("PHOTOBENCH_STACK_DIR", env.StackDir)
	base, err := stack.LoadConfig(os.Getenv, env.StackDir)
	if err != nil {
		t.Fatal(err)
	}
	base.MonolithStorage = "s3"
	return ctx, base
}

// fill puts into each of c's run resources what a run would: a row, a file
// and an object.
func fill(ctx context.Context, t *testing.T, c stack.Config) {
	t.Helper()
	r := c.RunResources()
	if len(r.Databases) != 2 || len(r.DataDirs) != 2 || len(r.Buckets) != 2 {
		t.Fatalf("run resources %+v: want both monoliths'", r)
	}
	admin, err := pgx.Connect(ctx, c.DatabaseDSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	client, err := miniogo.New(strings.TrimPrefix(c.S3Endpoint(), "http://"), &miniogo.Options{
		Creds: credentials.NewStaticV4(c.S3AccessKey, c.S3SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		db := r.Databases[i]
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, c.DatabaseDSN(db))
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, "CREATE TABLE photos (id text); INSERT INTO photos VALUES ('a')")
		conn.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(r.DataDirs[i], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.DataDirs[i], "photo.jpg"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := client.MakeBucket(ctx, r.Buckets[i], miniogo.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.PutObject(ctx, r.Buckets[i], "photo.jpg", strings.NewReader("x"), 1, miniogo.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// Empty removes the rows of the tables and the objects of the buckets it is
// given, keeps the tables and the buckets, and touches nothing else.
func TestEmptyKeepsTablesAndBuckets(t *testing.T) {
	ctx, base := s3Stack(t)
	c := base
	c.RunID = "t" + strings.ToLower(randomSuffix(t))
	fill(ctx, t, c)
	t.Cleanup(func() { stack.DropRun(context.Background(), c) })
	r := c.RunResources()
	emptied, kept := r.Databases[0], r.Databases[1]
	for i := range 2 { // a second object, so that a list of several is removed
		client, err := miniogo.New(strings.TrimPrefix(c.S3Endpoint(), "http://"), &miniogo.Options{
			Creds: credentials.NewStaticV4(c.S3AccessKey, c.S3SecretKey, "")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.PutObject(ctx, r.Buckets[i], "more/photo.jpg", strings.NewReader("y"), 1, miniogo.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	if n, err := stack.Empty(ctx, base, emptied, []string{"photos"}, r.Buckets[:1]); err != nil || n != 2 {
		t.Fatalf("Empty removed %d objects, %v; want the bucket's 2", n, err)
	}
	if n, err := stack.CountRows(ctx, base, emptied, "photos"); err != nil || n != 0 {
		t.Errorf("%s.photos: %d rows, %v; want the table, empty", emptied, n, err)
	}
	if n, err := stack.CountRows(ctx, base, kept, "photos"); err != nil || n != 1 {
		t.Errorf("%s.photos: %d rows, %v; want its row kept", kept, n, err)
	}
	if n, err := stack.CountObjects(ctx, base, r.Buckets[0]); err != nil || n != 0 {
		t.Errorf("bucket %s: %d objects, %v; want it there, empty", r.Buckets[0], n, err)
	}
	client, _ := miniogo.New(strings.TrimPrefix(c.S3Endpoint(), "http://"), &miniogo.Options{
		Creds: credentials.NewStaticV4(c.S3AccessKey, c.S3SecretKey, "")})
	if ok, err := client.BucketExists(ctx, r.Buckets[0]); err != nil || !ok {
		t.Errorf("bucket %s removed (%v): want it kept", r.Buckets[0], err)
	}
	if n, err := stack.CountObjects(ctx, base, r.Buckets[1]); err != nil || n != 2 {
		t.Errorf("bucket %s: %d objects, %v; want its 2 kept", r.Buckets[1], n, err)
	}
	// A database its app has not created yet: nothing to empty, no rows.
	if _, err := stack.Empty(ctx, base, "no_such_db_"+c.RunID, []string{"photos"}, nil); err != nil {
		t.Errorf("emptying a database not created yet: %v", err)
	}
	if n, err := stack.CountRows(ctx, base, "no_such_db_"+c.RunID, "photos"); err != nil || n != 0 {
		t.Errorf("rows of a database not created yet: %d, %v; want 0", n, err)
	}
	if _, err := stack.Empty(ctx, base, emptied, []string{"no_such_table"}, nil); err == nil {
		t.Error("emptying a table that does not exist: no error")
	}
}
