package vision

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/command"
)

// Usage is the help of `photobench vision`.
const Usage = `Usage:
  photobench vision [flags]

Runs the vision service, the stand-in for a cloud vision API that both
architectures call: POST /v1/analyze with JPEG or PNG bytes answers tags,
dominant colours, brightness and a perceptual hash, behind a remote-API
profile (latency, errors, limits, outage) set by the flags below and
changed at run time through /admin/profile.

Flags:
  --addr HOST:PORT            listen address (default 127.0.0.1:18081;
                              env PHOTOBENCH_VISION_ADDR)
  --latency none|fixed|lognormal
                              injected latency (default none; fixed when only
                              --latency-fixed is given, lognormal when only
                              --latency-median/--latency-p99 are)
  --latency-fixed DURATION    latency of the fixed distribution (e.g. 200ms)
  --latency-median DURATION   median of the lognormal distribution
  --latency-p99 DURATION      99th percentile of the lognormal distribution
  --error-rate RATIO          share of requests answered 503, 0..1 (default 0)
  --max-concurrency N         requests in progress at most, more get 429
                              (default 0: unlimited)
  --rate-limit RPS            requests per second at most (token bucket),
                              more get 429 (default 0: unlimited)
  --retry-after DURATION      Retry-After of 429 and 503, whole seconds
                              (default 1s)
  --outage off|fail|hang      the outage switch (default off)
  --max-bytes N               largest accepted image in bytes (default 20971520)
  --max-pixels N              largest accepted width x height (default 40000000)
  --seed N                    seed of the latency and error draws
                              (default 1; 0: a random one)
  --log-level LEVEL           debug, info, warn or error (default info)

At run time:
  GET   /admin/profile        the profile as JSON
  PUT   /admin/profile        replace it (absent fields take their defaults)
  PATCH /admin/profile        change some fields, for example:
      curl -X PATCH -d '{"outage":"hang"}' http://127.0.0.1:18081/admin/profile
  The profile JSON: {"latency":{"distribution":"lognormal","fixed_ms":0,
  "median_ms":80,"p99_ms":400},"error_rate":0.01,"max_concurrency":0,
  "rate_limit_rps":0,"retry_after_seconds":1,"outage":"off"}

Also GET /healthz and GET /metrics (Prometheus).
`

// Defaults of photobench vision.
const (
	defaultVisionAddr = "127.0.0.1:18081"
	// visionShutdownGrace is how long requests in progress may finish on
	// shutdown before the rest (hung or delayed ones) are cut off.
	visionShutdownGrace = 5 * time.Second
)

// commandConfig is photobench vision's configuration.
type commandConfig struct {
	Addr     string
	Profile  Profile
	Limits   imaging.Limits
	Seed     uint64
	LogLevel slog.Level
}

// parseCommand reads flags and environment, reporting every problem
// at once. -h is flag.ErrHelp.
func parseCommand(args []string, getenv func(string) string) (commandConfig, error) {
	fs := flag.NewFlagSet("vision", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var (
		addr      = fs.String("addr", "", "")
		latency   = fs.String("latency", "", "")
		fixed     = fs.String("latency-fixed", "0s", "")
		median    = fs.String("latency-median", "0s", "")
		p99       = fs.String("latency-p99", "0s", "")
		errRate   = fs.String("error-rate", "0", "")
		maxConc   = fs.String("max-concurrency", "0", "")
		rateLimit = fs.String("rate-limit", "0", "")
		retry     = fs.String("retry-after", "1s", "")
		outage    = fs.String("outage", "off", "")
		maxBytes  = fs.String("max-bytes", strconv.FormatInt(imaging.DefaultLimits.MaxBytes, 10), "")
		maxPixels = fs.String("max-pixels", strconv.FormatInt(imaging.DefaultLimits.MaxPixels, 10), "")
		seed      = fs.String("seed", "1", "")
		logLevel  = fs.String("log-level", "info", "")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return commandConfig{}, err
		}
		return commandConfig{}, fmt.Errorf("%w: vision: %v (see photobench vision -h)", command.ErrUsage, err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if fs.NArg() > 0 {
		bad("unexpected arguments %q", fs.Args())
	}
	var cfg commandConfig
	cfg.Addr = *addr
	if !set["addr"] {
		cfg.Addr = getenv("PHOTOBENCH_VISION_ADDR")
	}
	if cfg.Addr == "" {
		cfg.Addr = defaultVisionAddr
	}
	if _, port, err := net.SplitHostPort(cfg.Addr); err != nil {
		bad("--addr %q: want HOST:PORT", cfg.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("--addr %q: port must be 0..65535", cfg.Addr)
	}

	duration := func(name, v string) time.Duration {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			bad("--%s %q: want a duration >= 0 such as 200ms", name, v)
			return 0
		}
		return d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	p := &cfg.Profile
	p.Latency.FixedMS = ms(duration("latency-fixed", *fixed))
	p.Latency.MedianMS = ms(duration("latency-median", *median))
	p.Latency.P99MS = ms(duration("latency-p99", *p99))
	switch {
	case set["latency"]:
		p.Latency.Distribution = Distribution(*latency)
	case set["latency-median"] || set["latency-p99"]:
		p.Latency.Distribution = LatencyLogNormal
	case set["latency-fixed"]:
		p.Latency.Distribution = LatencyFixed
	default:
		p.Latency.Distribution = LatencyNone
	}
	if v, err := strconv.ParseFloat(*errRate, 64); err != nil {
		bad("--error-rate %q: want a number 0..1", *errRate)
	} else {
		p.ErrorRate = v
	}
	if v, err := strconv.Atoi(*maxConc); err != nil {
		bad("--max-concurrency %q: want a whole number >= 0", *maxConc)
	} else {
		p.MaxConcurrency = v
	}
	if v, err := strconv.ParseFloat(*rateLimit, 64); err != nil {
		bad("--rate-limit %q: want requests per second >= 0", *rateLimit)
	} else {
		p.RateLimitRPS = v
	}
	if d, err := time.ParseDuration(*retry); err != nil || d%time.Second != 0 || d < time.Second {
		bad("--retry-after %q: want whole seconds >= 1s", *retry)
	} else {
		p.RetryAfterSeconds = int(d / time.Second)
	}
	p.Outage = Outage(*outage)
	*p = p.Normalize()
	if err := p.Validate(); err != nil {
		bad("profile: %v", err)
	}

	positive := func(name, v string) int64 {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad("--%s %q: want a whole number > 0", name, v)
		}
		return n
	}
	cfg.Limits.MaxBytes = positive("max-bytes", *maxBytes)
	cfg.Limits.MaxPixels = positive("max-pixels", *maxPixels)
	if v, err := strconv.ParseUint(*seed, 10, 64); err != nil {
		bad("--seed %q: want a whole number >= 0", *seed)
	} else {
		cfg.Seed = v
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		bad("--log-level %q: want debug, info, warn or error", *logLevel)
	}
	if len(problems) > 0 {
		return commandConfig{}, fmt.Errorf("%w: vision: %s", command.ErrUsage, strings.Join(problems, "; "))
	}
	return cfg, nil
}

// Run runs the vision service (`photobench vision`) until ctx ends, then shuts down
// gracefully: requests in progress get visionShutdownGrace to finish; those
// still waiting then (in a hang outage, say) are answered 503.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseCommand(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return nil
	}
	if err != nil {
		return err
	}
	logHandler := slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	base := slog.New(logHandler)
	log := base.With("component", "vision")

	var opts []RemoteOption
	if cfg.Seed != 0 {
		opts = append(opts, WithSeed(cfg.Seed))
	}
	remote, err := NewRemote(cfg.Profile, opts...)
	if err != nil {
		return fmt.Errorf("vision: profile: %w", err)
	}
	reg := command.Registry()
	handler := NewServer(base, remote, NewMetrics(reg), WithLimits(cfg.Limits))

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("vision: listen: %w", err)
	}
	// Request contexts outlive ctx by the shutdown grace: cancelled only
	// when requests are cut off.
	baseCtx, cutOff := context.WithCancel(context.WithoutCancel(ctx))
	defer cutOff()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		// Reading a body of up to --max-bytes.
		ReadTimeout: time.Minute,
		// Long: the profile may delay an answer up to 5 minutes and a hang
		// outage holds requests until switched off.
		WriteTimeout: 10 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		BaseContext:  func(net.Listener) context.Context { return baseCtx },
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	log.Info("listening", "url", url, "profile", remote.Profile(), "max_bytes", cfg.Limits.MaxBytes, "max_pixels", cfg.Limits.MaxPixels)
	fmt.Fprintf(stdout, "vision listening on %s\n", url)

	select {
	case err := <-served:
		return fmt.Errorf("vision: serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", visionShutdownGrace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), visionShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Held by a hang outage or a long injected latency: cancel their
		// contexts so they answer 503, give them a moment to, then close.
		log.Warn("requests still in progress after the grace period; cutting them off", "err", err)
		cutOff()
		lastCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := srv.Shutdown(lastCtx); err != nil {
			if err := srv.Close(); err != nil {
				return fmt.Errorf("vision: close: %w", err)
			}
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("vision: serve: %w", err)
	}
	log.Info("stopped")
	return nil
}
