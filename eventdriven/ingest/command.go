package ingest

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/s3store"
)

// Run runs ingest's process (`photobench fn ingest`; args begin with the
// name) until ctx ends.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := deploy.ParseArgs(args, getenv, stderr)
	if err != nil {
		return err
	}
	openStore := s3store.FromArgs(a)
	dsn := a.CatalogDSN()
	return a.ServeHTTP(ctx, stdout, stderr, func(_ context.Context, d deploy.Deps) (http.Handler, func(), error) {
		store, err := openStore(d.Sent)
		if err != nil {
			return nil, nil, err
		}
		secret, err := a.Secret(d.Log)
		if err != nil {
			return nil, nil, err
		}
		verifier, err := auth.NewVerifier(secret, 5*time.Second)
		if err != nil {
			return nil, nil, err
		}
		// Only deletes of failed photos use the catalog database; the pool
		// connects on first use, so ingest starts without PostgreSQL.
		cat, err := catalog.Connect(dsn, 2, d.Sent)
		if err != nil {
			return nil, nil, err
		}
		return NewHandler(d.Log, store, verifier, d.Registry, d.HTTP, Options{Limits: a.Limits, MaxUploads: a.MaxUploads, Failed: cat}), cat.Close, nil
	})
}
