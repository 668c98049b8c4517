package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/monolith/postgres"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/photo/storetest"
)

// The monolith's store keeps the storage contract every photo store keeps.
func TestStoreContract(t *testing.T) {
	env := stacktest.Load(t)
	storetest.Run(t, env.PGDSN, storetest.Harness{
		Open: func(t *testing.T, dsn string) storetest.Store {
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 4})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)
			return s
		},
		// The monolith writes a photo once, ready, with its thumbnails'
		// rows, in one transaction.
		PutReady: func(t *testing.T, s storetest.Store, p photo.Photo) {
			if err := s.(*postgres.Store).Insert(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		},
		// The asynchronous monolith writes a photo's stage times with its
		// outcome; a row written pending with one reads back as written.
		PutThumbnailed: func(t *testing.T, s storetest.Store, p photo.Photo) {
			if err := s.(*postgres.Store).Insert(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		},
	})
}

// A database of a monolith from before the stage times gets their columns
// when the store opens it, and its photos read back without them.
func TestOpenMigratesADatabaseFromBeforeTheStageTimes(t *testing.T) {
	env := stacktest.Load(t)
	id := photo.NewID()
	dsn := storetest.BeforeMigration(t, env.PGDSN, "pbtest_store_", os.DirFS("migrations"), "002_stages.sql",
		`INSERT INTO photos (id, owner, status, format, width, height, bytes, created_at, updated_at, ready_at)
		VALUES ($1, 'ann', 'ready', 'jpeg', 640, 480, 1000, now(), now(), now())`, id)
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Get(context.Background(), "ann", id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != photo.StatusReady || p.ReadyAt == nil || p.ThumbnailedAt != nil || p.TaggedAt != nil {
		t.Errorf("old photo: %s, ready at %v, thumbnailed at %v, tagged at %v; want ready with no stage times",
			p.Status, p.ReadyAt, p.ThumbnailedAt, p.TaggedAt)
	}
}
