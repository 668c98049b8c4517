package reconciler

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/internal/command"
)

// EnvPendingTimeout names the environment variable that sets the pending
// timeout (a Go duration, e.g. "45m"; default DefaultPendingTimeout).
const EnvPendingTimeout = "PHOTOBENCH_PENDING_TIMEOUT"

// Run runs the reconciler's process (`photobench fn reconciler`; args
// begin with the name) until ctx ends: POST / runs one pass.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := deploy.ParseArgs(args, getenv, stderr)
	if err != nil {
		return err
	}
	pendingTimeout := DefaultPendingTimeout
	if v := getenv(EnvPendingTimeout); v != "" {
		pendingTimeout, err = time.ParseDuration(v)
		if err != nil || pendingTimeout <= 0 {
			return fmt.Errorf("%w: fn reconciler: %s=%q is not a positive duration", command.ErrUsage, EnvPendingTimeout, v)
		}
	}
	openStore := s3store.FromArgs(a)
	dsn := a.CatalogDSN()
	brokers := a.Brokers()
	return a.ServeHTTP(ctx, stdout, stderr, func(ctx context.Context, d deploy.Deps) (http.Handler, func(), error) {
		store, err := openStore(d.Sent)
		if err != nil {
			return nil, nil, err
		}
		cat, err := catalog.Open(ctx, dsn, 2, d.Sent)
		if err != nil {
			return nil, nil, err
		}
		producer := kafka.NewProducer(brokers, kafka.ProducerOptions{Sent: d.Sent})
		r := &Reconciler{
			Originals: store, Bucket: deploy.BucketOriginals, Catalog: cat,
			Out: producer, Topic: deploy.TopicObjects, MinAge: a.MinAge, Log: d.Log,
			Failed: producer, FailedTopic: deploy.TopicThumbnailed, PendingTimeout: pendingTimeout,
		}
		mux := chi.NewRouter()
		mux.Use(d.HTTP.Middleware)
		mux.Method(http.MethodPost, "/", Handler(r))
		mux.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
		mux.Handle("/metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}))
		return mux, func() { producer.Close(); cat.Close() }, nil
	})
}
