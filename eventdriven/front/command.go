package front

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/photobench/photobench/eventdriven/deploy"
)

// Run runs the front's process (`photobench fn front`; args begin with the
// name) until ctx ends.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := deploy.ParseArgs(args, getenv, stderr)
	if err != nil {
		return err
	}
	return a.ServeHTTP(ctx, stdout, stderr, func(_ context.Context, d deploy.Deps) (http.Handler, func(), error) {
		// The front forwards bearer tokens to ingest and query: it
		// refuses the public secret off loopback as they do.
		if _, err := a.Secret(d.Log); err != nil {
			return nil, nil, err
		}
		iu, _ := url.Parse(a.IngestURL) // checked by ParseArgs
		qu, _ := url.Parse(a.QueryURL)
		return NewHandler(iu, qu, d.Registry, d.HTTP, d.Sent), nil, nil
	})
}
