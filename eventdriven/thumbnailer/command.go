package thumbnailer

import (
	"context"
	"io"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/s3store"
)

// Run runs the thumbnailer's process (`photobench fn thumbnailer`; args
// begin with the name) until ctx ends.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := deploy.ParseArgs(args, getenv, stderr)
	if err != nil {
		return err
	}
	openStore := s3store.FromArgs(a)
	return kafka.RunFunction(ctx, a, stdout, stderr, func(_ context.Context, d deploy.Deps) (eventdriven.Handler, func(), error) {
		store, err := openStore(d.Sent)
		return (&Handler{Log: d.Log, Store: store, Limits: a.Limits}).Handle, nil, err
	})
}
