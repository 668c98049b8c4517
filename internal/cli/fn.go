package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/front"
	"github.com/photobench/photobench/eventdriven/ingest"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/query"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/eventdriven/tagger"
	"github.com/photobench/photobench/eventdriven/thumbnailer"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/vision"
)

const fnUsage = `Usage: photobench fn NAME [flags]

Runs one function of the event-driven app (one replica; run more for more):

  front        one base URL for the app: writes to ingest, reads to query (HTTP)
  ingest       POST /v1/photos (202 pending), POST /v1/uploads, DELETE (HTTP)
  query        GET photos, list, search, thumbnails from the catalog (HTTP)
  thumbnailer  photos.objects -> thumbnails bucket, photo.thumbnailed | photo.failed
  tagger       photos.objects -> vision service -> photo.tagged
  catalog      photos.objects, photo.thumbnailed, photo.tagged -> catalog database

Event functions serve /healthz and /metrics on --addr too.

Flags:
  --addr ADDR         listen address (default 127.0.0.1:18090 front, 18091 ingest,
                      18092 query, 18093 thumbnailer, 18094 tagger, 18095 catalog)
  --ingest-url URL    front: where ingest is (default http://127.0.0.1:18091)
  --query-url URL     front: where query is (default http://127.0.0.1:18092)
  --group NAME        event functions: consumer group (default the function's name)
  --max-attempts N    event functions: attempts before dead-lettering (default 5)
  --vision-timeout D  tagger: per attempt (default 5s)
  --max-bytes N, --max-pixels N   upload limits (default 20971520, 40000000)

Environment: PHOTOBENCH_KAFKA_BROKERS, PHOTOBENCH_S3_ENDPOINT, PHOTOBENCH_S3_ACCESS_KEY,
PHOTOBENCH_S3_SECRET_KEY, PHOTOBENCH_CATALOG_PG_DSN (default: PHOTOBENCH_PG_DSN with the
database "catalog"), PHOTOBENCH_VISION_URL, PHOTOBENCH_AUTH_SECRET (make up writes all
of them to .stack/env).
`

type fnConfig struct {
	name, addr, ingestURL, queryURL, group string
	brokers                                []string
	s3Endpoint, s3Access, s3Secret         string
	catalogDSN, visionURL                  string
	maxAttempts                            int
	visionTimeout                          time.Duration
	limits                                 imaging.Limits
	secret                                 []byte
}

func parseFn(args []string, getenv func(string) string, stderr io.Writer) (fnConfig, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(stderr, fnUsage)
			return fnConfig{}, flag.ErrHelp
		}
		return fnConfig{}, fmt.Errorf("%w: fn: name a function (front, ingest, query, thumbnailer, tagger, catalog)", command.ErrUsage)
	}
	c := fnConfig{name: args[0]}
	port, ok := deploy.Ports[c.name]
	if !ok {
		return c, fmt.Errorf("%w: fn: unknown function %q (front, ingest, query, thumbnailer, tagger, catalog)", command.ErrUsage, c.name)
	}
	fs := flag.NewFlagSet("fn "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, fnUsage) }
	fs.StringVar(&c.addr, "addr", fmt.Sprintf("127.0.0.1:%d", port), "")
	fs.StringVar(&c.ingestURL, "ingest-url", fmt.Sprintf("http://127.0.0.1:%d", deploy.Ports["ingest"]), "")
	fs.StringVar(&c.queryURL, "query-url", fmt.Sprintf("http://127.0.0.1:%d", deploy.Ports["query"]), "")
	fs.StringVar(&c.group, "group", c.name, "")
	fs.IntVar(&c.maxAttempts, "max-attempts", 5, "")
	fs.DurationVar(&c.visionTimeout, "vision-timeout", 5*time.Second, "")
	fs.Int64Var(&c.limits.MaxBytes, "max-bytes", imaging.DefaultLimits.MaxBytes, "")
	fs.Int64Var(&c.limits.MaxPixels, "max-pixels", imaging.DefaultLimits.MaxPixels, "")
	if err := fs.Parse(args[1:]); err != nil {
		return c, err
	}
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		problems = append(problems, fmt.Sprintf("--addr %q: %v", c.addr, err))
	}
	need := func(name string) string {
		v := getenv(name)
		if v == "" {
			problems = append(problems, name+" is not set (make up writes it to .stack/env)")
		}
		return v
	}
	eventFn := slices.Contains([]string{"thumbnailer", "tagger", "catalog"}, c.name)
	if eventFn {
		c.brokers = strings.Split(need("PHOTOBENCH_KAFKA_BROKERS"), ",")
	}
	if slices.Contains([]string{"ingest", "query", "thumbnailer", "tagger"}, c.name) {
		c.s3Endpoint, c.s3Access, c.s3Secret = need("PHOTOBENCH_S3_ENDPOINT"), need("PHOTOBENCH_S3_ACCESS_KEY"), need("PHOTOBENCH_S3_SECRET_KEY")
	}
	if c.name == "catalog" || c.name == "query" {
		c.catalogDSN = getenv("PHOTOBENCH_CATALOG_PG_DSN")
		if c.catalogDSN == "" {
			if u, err := url.Parse(need("PHOTOBENCH_PG_DSN")); err == nil && u.Host != "" {
				u.Path = "/catalog"
				c.catalogDSN = u.String()
			}
		}
	}
	if c.name == "tagger" {
		c.visionURL = need("PHOTOBENCH_VISION_URL")
	}
	for name, v := range map[string]string{"--ingest-url": c.ingestURL, "--query-url": c.queryURL} {
		if u, err := url.Parse(v); err != nil || u.Host == "" {
			problems = append(problems, fmt.Sprintf("%s %q is not an http URL", name, v))
		}
	}
	if c.maxAttempts < 1 || c.visionTimeout <= 0 || c.limits.MaxBytes < 1 || c.limits.MaxPixels < 1 {
		problems = append(problems, "--max-attempts, --vision-timeout, --max-bytes and --max-pixels must be positive")
	}
	c.secret = auth.SecretFromEnv(getenv)
	if len(problems) > 0 {
		return c, fmt.Errorf("%w: fn %s: %s", command.ErrUsage, c.name, strings.Join(problems, "; "))
	}
	return c, nil
}

func runFn(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseFn(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("component", c.name)
	reg := command.Registry()
	httpm := httpmetrics.NewMetrics(reg)

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var (
		store    *s3store.Store
		cat      *catalog.Store
		verifier *auth.Verifier
	)
	if c.s3Endpoint != "" {
		if store, err = s3store.New(c.s3Endpoint, c.s3Access, c.s3Secret); err != nil {
			return fmt.Errorf("fn %s: %w", c.name, err)
		}
	}
	if c.catalogDSN != "" {
		if cat, err = catalog.Open(startCtx, c.catalogDSN, 16); err != nil {
			return fmt.Errorf("fn %s: %w", c.name, err)
		}
		defer cat.Close()
	}
	if c.name == "ingest" || c.name == "query" {
		if verifier, err = auth.NewVerifier(c.secret, 5*time.Second); err != nil {
			return fmt.Errorf("fn %s: %w", c.name, err)
		}
	}

	switch c.name {
	case "front":
		iu, _ := url.Parse(c.ingestURL)
		qu, _ := url.Parse(c.queryURL)
		return command.ServeHTTP(ctx, log, c.name, c.addr, front.NewHandler(iu, qu, reg, httpm), stdout)
	case "ingest":
		h := ingest.NewHandler(log, store, verifier, reg, httpm, ingest.Options{Limits: c.limits})
		return command.ServeHTTP(ctx, log, c.name, c.addr, h, stdout)
	case "query":
		h := query.NewHandler(log, cat, store, verifier, reg, httpm, query.Options{})
		return command.ServeHTTP(ctx, log, c.name, c.addr, h, stdout)
	}

	// Event functions: a consumer, plus /healthz and /metrics.
	producer := kafka.NewProducer(c.brokers, kafka.ProducerOptions{})
	defer producer.Close()
	var (
		handle kafka.Handler
		topics = []string{deploy.TopicObjects}
	)
	switch c.name {
	case "thumbnailer":
		handle = (&thumbnailer.Handler{Log: log, Store: store, Out: producer, Limits: c.limits}).Handle
	case "tagger":
		vc := vision.NewClient(c.visionURL, vision.ClientOptions{Timeout: c.visionTimeout})
		handle = (&tagger.Handler{Log: log, Store: store, Vision: vc, Out: producer, Limits: c.limits}).Handle
	case "catalog":
		topics = catalog.Topics
		handle = (&catalog.Handler{Log: log, Store: cat, Metrics: catalog.NewMetrics(reg)}).Handle
	}
	// The scale-to-zero runtime reads this line to time cold starts up to
	// the first event handled.
	handle = kafka.OnFirstSuccess(func() { fmt.Fprintf(stdout, "%s first event handled\n", c.name) })(handle)
	consumer, err := kafka.NewConsumer(kafka.ConsumerConfig{
		Brokers: c.brokers, Group: c.group, Topics: topics, Function: c.name,
		MaxAttempts: c.maxAttempts, Log: log, Metrics: kafka.NewMetrics(reg),
	}, handle)
	if err != nil {
		return fmt.Errorf("fn %s: %w", c.name, err)
	}
	r := chi.NewRouter()
	r.Use(httpm.Middleware)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go consumer.PollLag(runCtx, time.Second)
	consumed := make(chan error, 1)
	go func() {
		consumed <- consumer.Run(runCtx)
		stop() // a consumer that ends stops the process
	}()
	serveErr := command.ServeHTTP(runCtx, log, c.name, c.addr, r, stdout)
	stop()
	if err := <-consumed; err != nil {
		return fmt.Errorf("fn %s: consumer: %w", c.name, err)
	}
	return serveErr
}
