package postgres_test

import (
	"context"
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
