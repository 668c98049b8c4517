package kafka

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/platform/liveness"
	"github.com/photobench/photobench/internal/command"
)

// process is an event function's process: its consumer, where its events
// go, and the HTTP server it answers /healthz and /metrics on.
type process struct {
	// Name is the function's name (logs, metrics, the first-event line).
	Name    string
	Brokers []string
	// Group and Topics are the consumer group and the topics it consumes.
	Group  string
	Topics []string
	// Route is where the handler's input comes from and output goes.
	Route       Route
	MaxAttempts int
	// Addr is where /healthz and /metrics are served.
	Addr string
	// Shutdown bounds the in-flight event and the HTTP server after
	// SIGTERM, so that the process exits within its grace.
	Shutdown deploy.Shutdown
	// HandlerDeadline: a handler call running longer fails /healthz (the
	// runtime's liveness probe).
	HandlerDeadline time.Duration
	Deps            deploy.Deps
	// Stdout receives the listening line and, once, "<name> first event
	// handled", which the scale-to-zero runtime reads to time a cold start
	// up to the first event handled.
	Stdout io.Writer
}

// serve runs h as the event function p until ctx ends: the consumer (with
// the delivery policy of NewConsumer, h adapted by Function), lag polling,
// and /healthz and /metrics on p.Addr. A consumer that ends stops the
// process.
func serve(ctx context.Context, p process, h eventdriven.Handler) error {
	live := liveness.New(p.HandlerDeadline)
	producer := NewProducer(p.Brokers, ProducerOptions{Sent: p.Deps.Sent})
	defer producer.Close()
	consumer, err := NewConsumer(ConsumerConfig{
		Brokers: p.Brokers, Group: p.Group, Topics: p.Topics, Function: p.Name,
		MaxAttempts: p.MaxAttempts, StopTimeout: p.Shutdown.Handler, Log: p.Deps.Log, Metrics: NewMetrics(p.Deps.Registry),
		Middleware: []Middleware{OnFirstSuccess(func() { fmt.Fprintf(p.Stdout, "%s first event handled\n", p.Name) }),
			func(next Handler) Handler {
				return func(ctx context.Context, m *Message) error { defer live.Begin()(); return next(ctx, m) }
			}},
	}, Function(h, p.Route, producer))
	if err != nil {
		return fmt.Errorf("fn %s: %w", p.Name, err)
	}
	r := chi.NewRouter()
	r.Use(p.Deps.HTTP.Middleware)
	r.Get("/healthz", live.ServeHTTP)
	r.Handle("/metrics", promhttp.HandlerFor(p.Deps.Registry, promhttp.HandlerOpts{}))

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go consumer.PollLag(runCtx, time.Second)
	consumed := make(chan error, 1)
	go func() {
		consumed <- consumer.Run(runCtx)
		stop()
	}()
	serveErr := command.ServeHTTPWithin(runCtx, p.Deps.Log, p.Name, p.Addr, r, p.Stdout, p.Shutdown.Drain)
	stop()
	if err := <-consumed; err != nil {
		return fmt.Errorf("fn %s: consumer: %w", p.Name, err)
	}
	return serveErr
}

// RunFunction is the body of an event function's Run, after the function
// has read its own environment from a: it reads the brokers, builds the
// handler (deploy.Build) and serves it with the function's registry
// entry: its topics, output topic and group.
func RunFunction(ctx context.Context, a *deploy.Args, stdout, stderr io.Writer,
	build func(ctx context.Context, d deploy.Deps) (h eventdriven.Handler, done func(), err error)) error {
	brokers := a.Brokers()
	stop, deadline := a.Shutdown(), a.HandlerDeadline()
	h, d, closeFn, err := deploy.Build(ctx, a, stderr, build)
	if err != nil {
		return err
	}
	if closeFn != nil {
		defer closeFn()
	}
	f := a.Function
	return serve(ctx, process{
		Name: f.Name, Brokers: brokers, Group: a.Group, Topics: f.In,
		Route:       Route{Originals: deploy.BucketOriginals, Out: f.Out},
		MaxAttempts: a.MaxAttempts, Addr: a.Addr, Shutdown: stop, HandlerDeadline: deadline, Deps: d, Stdout: stdout,
	}, h)
}
