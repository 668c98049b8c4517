package kafka

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/outbound"
)

// Process is an event function's process: its consumer, where its events
// go, and the HTTP server it answers /healthz and /metrics on.
type Process struct {
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
	Addr     string
	Log      *slog.Logger
	Registry *prometheus.Registry
	// Sent counts the process's requests; its events produced among them.
	Sent *outbound.Counter
	// Stdout receives the listening line and, once, "<name> first event
	// handled", which the scale-to-zero runtime reads to time a cold start
	// up to the first event handled.
	Stdout io.Writer
}

// Serve runs h as the event function p until ctx ends: the consumer (with
// the delivery policy of NewConsumer, h adapted by Function), lag polling,
// and /healthz and /metrics on p.Addr. A consumer that ends stops the
// process.
func Serve(ctx context.Context, p Process, h eventdriven.Handler) error {
	producer := NewProducer(p.Brokers, ProducerOptions{Sent: p.Sent})
	defer producer.Close()
	consumer, err := NewConsumer(ConsumerConfig{
		Brokers: p.Brokers, Group: p.Group, Topics: p.Topics, Function: p.Name,
		MaxAttempts: p.MaxAttempts, Log: p.Log, Metrics: NewMetrics(p.Registry),
		Middleware: []Middleware{OnFirstSuccess(func() { fmt.Fprintf(p.Stdout, "%s first event handled\n", p.Name) })},
	}, Function(h, p.Route, producer))
	if err != nil {
		return fmt.Errorf("fn %s: %w", p.Name, err)
	}
	r := chi.NewRouter()
	r.Use(httpmetrics.NewMetrics(p.Registry).Middleware)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	r.Handle("/metrics", promhttp.HandlerFor(p.Registry, promhttp.HandlerOpts{}))

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go consumer.PollLag(runCtx, time.Second)
	consumed := make(chan error, 1)
	go func() {
		consumed <- consumer.Run(runCtx)
		stop()
	}()
	serveErr := command.ServeHTTP(runCtx, p.Log, p.Name, p.Addr, r, p.Stdout)
	stop()
	if err := <-consumed; err != nil {
		return fmt.Errorf("fn %s: consumer: %w", p.Name, err)
	}
	return serveErr
}

// Deps is what RunFunction gives a function's build step: the process's
// log, its metrics registry and its count of requests sent.
type Deps struct {
	Log      *slog.Logger
	Registry *prometheus.Registry
	Sent     *outbound.Counter
}

// RunFunction is the body of an event function's Run, after the function
// has read its own environment from a: it reads the brokers, reports every
// problem found in a at once, builds the handler (build gets at most 30 s
// to open what it needs; close, if not nil, runs at exit) and serves it
// with the function's registry entry: its topics, output topic and group.
func RunFunction(ctx context.Context, a *deploy.Args, stdout, stderr io.Writer,
	build func(ctx context.Context, d Deps) (h eventdriven.Handler, close func(), err error)) error {
	brokers := a.Brokers()
	if err := a.Err(); err != nil {
		return err
	}
	f := a.Function
	reg := command.Registry()
	d := Deps{Log: command.Logger(stderr, f.Name), Registry: reg, Sent: outbound.New(reg)}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	h, closeFn, err := build(startCtx, d)
	cancel()
	if err != nil {
		return fmt.Errorf("fn %s: %w", f.Name, err)
	}
	if closeFn != nil {
		defer closeFn()
	}
	return Serve(ctx, Process{
		Name: f.Name, Brokers: brokers, Group: a.Group, Topics: f.In,
		Route:       Route{Originals: deploy.BucketOriginals, Out: f.Out},
		MaxAttempts: a.MaxAttempts, Addr: a.Addr, Log: d.Log, Registry: reg, Sent: d.Sent, Stdout: stdout,
	}, h)
}
