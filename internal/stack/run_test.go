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
	env := stacktest.Load(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t.Setenv("PHOTOBENCH_STACK_DIR", env.StackDir)
	base, err := stack.LoadConfig(os.Getenv, env.StackDir)
	if err != nil {
		t.Fatal(err)
	}
	base.MonolithStorage = "s3"
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
