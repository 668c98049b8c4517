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
	f := newVisionFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return commandConfig{}, err
		}
		return commandConfig{}, fmt.Errorf("%w: vision: %v (see photobench vision -h)", command.ErrUsage, err)
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })

	var problems command.Problems
	bad := problems.Addf
	if fs.NArg() > 0 {
		bad("unexpected arguments %q", fs.Args())
	}
	var cfg commandConfig
	cfg.Addr = f.address(getenv, bad)
	cfg.Profile = f.profile(bad)

	positive := func(name, v string) int64 {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			bad("--%s %q: want a whole number > 0", name, v)
		}
		return n
	}
	cfg.Limits.MaxBytes = positive("max-bytes", f.maxBytes)
	cfg.Limits.MaxPixels = positive("max-pixels", f.maxPixels)
	if v, err := strconv.ParseUint(f.seed, 10, 64); err != nil {
		bad("--seed %q: want a whole number >= 0", f.seed)
	} else {
		cfg.Seed = v
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(f.logLevel)); err != nil {
		bad("--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	if err := problems.Err("vision"); err != nil {
		return commandConfig{}, err
	}
	return cfg, nil
}

// visionFlags are photobench vision's flags as given, before they are
// checked.
type visionFlags struct {
	addr, latency, fixed, median, p99          string
	errRate, maxConc, rateLimit, retry, outage string
	maxBytes, maxPixels, seed, logLevel        string
	set                                        map[string]bool // the flags the command line sets
}

// newVisionFlags defines the flags on fs, with their defaults.
func newVisionFlags(fs *flag.FlagSet) *visionFlags {
	f := &visionFlags{set: map[string]bool{}}
	fs.StringVar(&f.addr, "addr", "", "")
	fs.StringVar(&f.latency, "latency", "", "")
	fs.StringVar(&f.fixed, "latency-fixed", "0s", "")
	fs.StringVar(&f.median, "latency-median", "0s", "")
	fs.StringVar(&f.p99, "latency-p99", "0s", "")
	fs.StringVar(&f.errRate, "error-rate", "0", "")
	fs.StringVar(&f.maxConc, "max-concurrency", "0", "")
	fs.StringVar(&f.rateLimit, "rate-limit", "0", "")
	fs.StringVar(&f.retry, "retry-after", "1s", "")
	fs.StringVar(&f.outage, "outage", "off", "")
	fs.StringVar(&f.maxBytes, "max-bytes", strconv.FormatInt(imaging.DefaultLimits.MaxBytes, 10), "")
	fs.StringVar(&f.maxPixels, "max-pixels", strconv.FormatInt(imaging.DefaultLimits.MaxPixels, 10), "")
	fs.StringVar(&f.seed, "seed", "1", "")
	fs.StringVar(&f.logLevel, "log-level", "info", "")
	return f
}

// address is the address to listen on: --addr, else
// PHOTOBENCH_VISION_ADDR, else the default; bad records a problem with it.
func (f *visionFlags) address(getenv func(string) string, bad func(string, ...any)) string {
	addr := f.addr
	if !f.set["addr"] {
		addr = getenv("PHOTOBENCH_VISION_ADDR")
	}
	if addr == "" {
		addr = defaultVisionAddr
	}
	if _, port, err := net.SplitHostPort(addr); err != nil {
		bad("--addr %q: want HOST:PORT", addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("--addr %q: port must be 0..65535", addr)
	}
	return addr
}

// profile is the starting behaviour profile the flags describe, normalised;
// bad records each problem with a flag and the profile's own.
func (f *visionFlags) profile(bad func(string, ...any)) Profile {
	duration := func(name, v string) time.Duration {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			bad("--%s %q: want a duration >= 0 such as 200ms", name, v)
			return 0
		}
		return d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	var p Profile
	p.Latency.FixedMS = ms(duration("latency-fixed", f.fixed))
	p.Latency.MedianMS = ms(duration("latency-median", f.median))
	p.Latency.P99MS = ms(duration("latency-p99", f.p99))
	switch {
	case f.set["latency"]:
		p.Latency.Distribution = Distribution(f.latency)
	case f.set["latency-median"] || f.set["latency-p99"]:
		p.Latency.Distribution = LatencyLogNormal
	case f.set["latency-fixed"]:
		p.Latency.Distribution = LatencyFixed
	default:
		p.Latency.Distribution = LatencyNone
	}
	if v, err := strconv.ParseFloat(f.errRate, 64); err != nil {
		bad("--error-rate %q: want a number 0..1", f.errRate)
	} else {
		p.ErrorRate = v
	}
	if v, err := strconv.Atoi(f.maxConc); err != nil {
		bad("--max-concurrency %q: want a whole number >= 0", f.maxConc)
	} else {
		p.MaxConcurrency = v
	}
	if v, err := strconv.ParseFloat(f.rateLimit, 64); err != nil {
		bad("--rate-limit %q: want requests per second >= 0", f.rateLimit)
	} else {
		p.RateLimitRPS = v
	}
	if d, err := time.ParseDuration(f.retry); err != nil || d%time.Second != 0 || d < time.Second {
		bad("--retry-after %q: want whole seconds >= 1s", f.retry)
	} else {
		p.RetryAfterSeconds = int(d / time.Second)
	}
	p.Outage = Outage(f.outage)
	p = p.Normalize()
	if err := p.Validate(); err != nil {
		bad("profile: %v", err)
	}
	return p
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
