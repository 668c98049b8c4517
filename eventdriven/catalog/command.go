package catalog

import (
	"context"
	"io"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
)

// Run runs the catalog's process (`photobench fn catalog`; args begin with
// the name) until ctx ends.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := deploy.ParseArgs(args, getenv, stderr)
	if err != nil {
		return err
	}
	dsn := a.CatalogDSN()
	return kafka.RunFunction(ctx, a, stdout, stderr, func(ctx context.Context, d deploy.Deps) (eventdriven.Handler, func(), error) {
		store, err := Open(ctx, dsn, 16, d.Sent)
		if err != nil {
			return nil, nil, err
		}
		h := &Handler{Log: d.Log, Store: store, Metrics: NewMetrics(d.Registry)}
		return h.Handle, store.Close, nil
	})
}
