package tagger

import (
	"context"
	"io"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/vision"
)

// Run runs the tagger's process (`photobench fn tagger`; args begin with
// the name) until ctx ends.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := deploy.ParseArgs(args, getenv, stderr)
	if err != nil {
		return err
	}
	openStore := s3store.FromArgs(a)
	visionURL := a.Need("PHOTOBENCH_VISION_URL")
	return kafka.RunFunction(ctx, a, stdout, stderr, func(_ context.Context, d deploy.Deps) (eventdriven.Handler, func(), error) {
		store, err := openStore(d.Sent)
		if err != nil {
			return nil, nil, err
		}
		vc := vision.NewClient(visionURL, vision.ClientOptions{Timeout: a.VisionTimeout, Sent: d.Sent})
		return (&Handler{Log: d.Log, Store: store, Vision: vc}).Handle, nil, nil
	})
}
