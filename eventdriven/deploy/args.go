package deploy

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/outbound"
	"github.com/prometheus/client_golang/prometheus"
)

// Usage is the help of `photobench fn`, built from the registry.
var Usage = func() string {
	var b strings.Builder
	b.WriteString("Usage: photobench fn NAME [flags]\n\nRuns one function of the event-driven app (one replica; run more for more):\n\n")
	for _, f := range Registry {
		fmt.Fprintf(&b, "  %-12s %s\n", f.Name, f.Summary)
	}
	var ports []string
	for _, f := range Registry {
		ports = append(ports, fmt.Sprintf("%d %s", f.Port, f.Name))
	}
	fmt.Fprintf(&b, `
Event functions serve /healthz and /metrics on --addr too.

Flags:
  --addr ADDR         listen address (default 127.0.0.1: %s)
  --ingest-url URL    front: where ingest is (default http://127.0.0.1:%d)
  --query-url URL     front: where query is (default http://127.0.0.1:%d)
  --group NAME        event functions: consumer group (default the function's name)
  --max-attempts N    event functions: attempts before dead-lettering (default 5)
  --vision-timeout D  tagger: per attempt (default 5s)
  --min-age D         reconciler: how long an original may go without a catalog row
                      before its event is published again (default 10s)
  --max-bytes N, --max-pixels N   upload limits (default %d, %d)
  --max-uploads N     ingest: uploads read and stored at once; one more waits up to
                      1s for a slot, then gets 503 + Retry-After (default 8 x cores)

Environment: PHOTOBENCH_KAFKA_BROKERS, PHOTOBENCH_S3_ENDPOINT, PHOTOBENCH_S3_ACCESS_KEY,
PHOTOBENCH_S3_SECRET_KEY, PHOTOBENCH_CATALOG_PG_DSN (default: PHOTOBENCH_PG_DSN with the
database "catalog"), PHOTOBENCH_VISION_URL, PHOTOBENCH_AUTH_SECRET (make up writes all
of them to .stack/env); PHOTOBENCH_STOP_GRACE, the SIGTERM-to-SIGKILL grace the process
fits its stop into (default %s; the runtime sets it). Ingest, query and the front refuse
the public development secret (PHOTOBENCH_AUTH_SECRET unset) unless --addr is a loopback
address.
`, strings.Join(ports, ", "), Ports["ingest"], Ports["query"], imaging.DefaultLimits.MaxBytes, imaging.DefaultLimits.MaxPixels, StopGrace)
	return b.String()
}()

// Args is one function process's command line and environment
// (`photobench fn NAME [flags]`): the flags every function accepts, and
// the environment each reads through its methods. Problems are collected,
// so that Err reports all of them in one line.
type Args struct {
	Function Function
	// Addr is where the process listens.
	Addr string
	// IngestURL and QueryURL are where the front sends writes and reads.
	IngestURL, QueryURL string
	// Group is an event function's consumer group.
	Group string
	// MaxAttempts is how often an event is tried before dead-lettering.
	MaxAttempts int
	// VisionTimeout bounds each attempt of the tagger's vision calls.
	VisionTimeout time.Duration
	// MinAge is how old an original without a catalog row must be before
	// the reconciler publishes its event again.
	MinAge time.Duration
	// Limits are the upload limits.
	Limits imaging.Limits
	// MaxUploads bounds ingest's uploads in flight (0: its default).
	MaxUploads int

	getenv   func(string) string
	problems command.Problems
}

// ParseArgs parses the arguments of `photobench fn` (NAME first). It
// returns flag.ErrHelp after printing Usage for -h, and an error wrapping
// command.ErrUsage for an unknown function or bad flags. The
// environment is read later, by the methods.
func ParseArgs(args []string, getenv func(string) string, stderr io.Writer) (*Args, error) {
	names := strings.Join(Names(), ", ")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(stderr, Usage)
			return nil, flag.ErrHelp
		}
		return nil, fmt.Errorf("%w: fn: name a function (%s)", command.ErrUsage, names)
	}
	f, ok := Lookup(args[0])
	if !ok {
		return nil, fmt.Errorf("%w: fn: unknown function %q (%s)", command.ErrUsage, args[0], names)
	}
	a := &Args{Function: f, getenv: getenv}
	fs := flag.NewFlagSet("fn "+f.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, Usage) }
	fs.StringVar(&a.Addr, "addr", fmt.Sprintf("127.0.0.1:%d", f.Port), "")
	fs.StringVar(&a.IngestURL, "ingest-url", fmt.Sprintf("http://127.0.0.1:%d", Ports["ingest"]), "")
	fs.StringVar(&a.QueryURL, "query-url", fmt.Sprintf("http://127.0.0.1:%d", Ports["query"]), "")
	fs.StringVar(&a.Group, "group", f.Name, "")
	fs.IntVar(&a.MaxAttempts, "max-attempts", 5, "")
	fs.DurationVar(&a.VisionTimeout, "vision-timeout", 5*time.Second, "")
	fs.DurationVar(&a.MinAge, "min-age", 10*time.Second, "")
	fs.Int64Var(&a.Limits.MaxBytes, "max-bytes", imaging.DefaultLimits.MaxBytes, "")
	fs.Int64Var(&a.Limits.MaxPixels, "max-pixels", imaging.DefaultLimits.MaxPixels, "")
	fs.IntVar(&a.MaxUploads, "max-uploads", 0, "")
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		a.problem("unexpected arguments %q", fs.Args())
	}
	if _, _, err := net.SplitHostPort(a.Addr); err != nil {
		a.problem("--addr %q: %v", a.Addr, err)
	}
	for name, v := range map[string]string{"--ingest-url": a.IngestURL, "--query-url": a.QueryURL} {
		if u, err := url.Parse(v); err != nil || u.Host == "" {
			a.problem("%s %q is not an http URL", name, v)
		}
	}
	if a.MaxUploads < 0 {
		a.problem("--max-uploads must not be negative")
	}
	if a.MaxAttempts < 1 || a.VisionTimeout <= 0 || a.MinAge <= 0 || a.Limits.MaxBytes < 1 || a.Limits.MaxPixels < 1 {
		a.problem("--max-attempts, --vision-timeout, --min-age, --max-bytes and --max-pixels must be positive")
	}
	return a, nil
}

func (a *Args) problem(format string, v ...any) { a.problems.Addf(format, v...) }

// Need returns the environment variable name, noting a problem if unset.
func (a *Args) Need(name string) string {
	v := a.getenv(name)
	if v == "" {
		a.problem("%s is not set (make up writes it to .stack/env)", name)
	}
	return v
}

// Brokers are the Kafka bootstrap addresses (PHOTOBENCH_KAFKA_BROKERS).
func (a *Args) Brokers() []string { return strings.Split(a.Need("PHOTOBENCH_KAFKA_BROKERS"), ",") }

// S3 is MinIO's endpoint and credentials (PHOTOBENCH_S3_*).
func (a *Args) S3() (endpoint, accessKey, secretKey string) {
	return a.Need("PHOTOBENCH_S3_ENDPOINT"), a.Need("PHOTOBENCH_S3_ACCESS_KEY"), a.Need("PHOTOBENCH_S3_SECRET_KEY")
}

// CatalogDSN is the catalog database: PHOTOBENCH_CATALOG_PG_DSN, or
// PHOTOBENCH_PG_DSN with the database "catalog".
func (a *Args) CatalogDSN() string {
	if dsn := a.getenv("PHOTOBENCH_CATALOG_PG_DSN"); dsn != "" {
		return dsn
	}
	u, err := url.Parse(a.Need("PHOTOBENCH_PG_DSN"))
	if err != nil || u.Host == "" {
		return ""
	}
	u.Path = "/catalog"
	return u.String()
}

// Secret is the bearer tokens' signing secret (PHOTOBENCH_AUTH_SECRET) of
// a function that verifies or forwards them on a.Addr: an error if it is
// the public development secret and a.Addr is not loopback, a warning on
// log if it is on loopback (auth.ServerSecret).
func (a *Args) Secret(log *slog.Logger) ([]byte, error) {
	return auth.ServerSecret(log, a.getenv, a.Addr)
}

// Err reports every problem found so far in one line, wrapping
// command.ErrUsage; nil if there is none.
func (a *Args) Err() error {
	return a.problems.Err("fn " + a.Function.Name)
}

// Deps is what a function's build step gets from its process: the log,
// the metrics registry, the HTTP server metrics and the count of requests
// sent.
type Deps struct {
	Log      *slog.Logger
	Registry *prometheus.Registry
	HTTP     *httpmetrics.Metrics
	Sent     *outbound.Counter
}

// Build is the start of every function's process, once the function has
// read its own environment from a: it reports every problem found in a at
// once, then makes the process's Deps and calls build with at most 30 s
// to open what the function needs. done, if not nil, is for the caller to
// run at exit.
func Build[H any](ctx context.Context, a *Args, stderr io.Writer,
	build func(ctx context.Context, d Deps) (h H, done func(), err error)) (h H, d Deps, done func(), err error) {
	if err = a.Err(); err != nil {
		return h, d, nil, err
	}
	reg := command.Registry()
	d = Deps{Log: command.Logger(stderr, a.Function.Name), Registry: reg, HTTP: httpmetrics.NewMetrics(reg), Sent: outbound.New(reg)}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, done, err = build(startCtx, d)
	if err != nil {
		return h, d, nil, fmt.Errorf("fn %s: %w", a.Function.Name, err)
	}
	return h, d, done, nil
}

// ServeHTTP is the body of an HTTP function's Run, after the function has
// read its own environment from a: Build, then serve the handler on a.Addr
// until ctx ends, finishing in-flight requests within its Shutdown budget.
func (a *Args) ServeHTTP(ctx context.Context, stdout, stderr io.Writer,
	build func(ctx context.Context, d Deps) (h http.Handler, done func(), err error)) error {
	stop := a.Shutdown()
	h, d, closeFn, err := Build(ctx, a, stderr, build)
	if err != nil {
		return err
	}
	if closeFn != nil {
		defer closeFn()
	}
	return command.ServeHTTPWithin(ctx, d.Log, a.Function.Name, a.Addr, h, stdout, stop.Drain)
}
