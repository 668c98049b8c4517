package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/loadgen"
)

// Usage is the help of `photobench demo`.
const Usage = `Usage:
  photobench demo NAME [flags]

A workshop demonstration of coupling, in about two and a half minutes, against
the stack make up runs (all apps at once). The same modest load drives the
monolith, the async monolith and the event-driven app at the same time (4
requests/s each: upload 60%, get 20%, list 20%; 4 users; 0.3-1 MP photos)
through three phases: before 30 s, fault 40 s, after 40 s. During the fault
the vision service (the stand-in for the cloud API all three call)
misbehaves; then accepted uploads are followed until ready for at most 35 s
more. A line every 5 s shows the phase, each app's uploads so far and the
backlogs; at the end a one-screen summary compares the apps phase by phase
(uploads accepted and refused, answer latency, upload to ready, each
backlog's peak and catch-up) and says in plain words what happened: the
monolith against the async monolith shows coupling in time (vision inside
the request or after it), the async monolith against the event-driven app
one process against many.

Demos:
  vision-outage  the vision service answers every request 503 at once
  slow-vision    the vision service answers 10x slower: median 600 ms, p99 2.5 s

Outside the fault the vision service behaves as a remote API does in the
bench's profiles: latency median 60 ms, p99 250 ms. Its profile is read first
(GET /admin/profile) and put back exactly at the end, also on Ctrl-C or an
error.

Flags:
  --target-monolith URL     the monolith's API (default $PHOTOBENCH_MONOLITH_URL,
                            else the stack's)
  --target-monolith-async URL
                            the async monolith's API (default
                            $PHOTOBENCH_MONOLITH_ASYNC_URL, else the stack's)
  --target-eventdriven URL  the event-driven app's API (default $PHOTOBENCH_EVENTDRIVEN_URL,
                            else the stack's)
  --vision URL              the vision service (default $PHOTOBENCH_VISION_URL, else the stack's)
  --rate R                  requests per second to each app (default 4, at most 50)
  --fault-duration D        how long the fault lasts (default 40s, at most 5m)
  --secret S                the bearer tokens' signing secret (default $PHOTOBENCH_AUTH_SECRET,
                            else the development secret)

A demo does not start, and stops, while a bench, a photobench load, a live
session or another demo runs against the stack (registered with its
Prometheus): each would disturb the other. It changes the vision profile only while nobody else
has. Every target's /healthz must answer 200 within 3 s. The backlogs are
read from $PHOTOBENCH_PROMETHEUS_URL (else the stack's Prometheus): the async
monolith's jobs not finished (photobench_monolith_jobs), the event-driven
app's messages not yet handled (photobench_runtime_lag). With
$PHOTOBENCH_PROMETHEUS_SD_DIR set (.stack/env sets it), the load's metrics
(photobench_loadgen_*, architecture monolith, monolith-async and
eventdriven) are registered with that Prometheus while the demo runs: the
"photobench: load generator" dashboard shows them.
`

// Run runs `photobench demo NAME`: the named demo (Play) against the stack
// make up runs, unless another load runs there, and its summary.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, sdDir, err := parseCommand(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return nil
	}
	if err != nil {
		return err
	}
	if busy := promsd.Loads(sdDir, os.Getpid()); len(busy) > 0 {
		return fmt.Errorf("demo %s: another load runs against the stack (%s): each would disturb the other; wait until it ends",
			cfg.Fault.Name, strings.Join(busy, ", "))
	}
	cfg.Check = func() error {
		if busy := promsd.Loads(sdDir, os.Getpid()); len(busy) > 0 {
			return fmt.Errorf("another load started against the stack (%s): each would disturb the other", strings.Join(busy, ", "))
		}
		return nil
	}
	var unreachable []string
	for _, u := range []string{cfg.MonolithURL, cfg.MonolithAsyncURL, cfg.EventDrivenURL, cfg.VisionURL} {
		if err := loadgen.CheckHealth(ctx, u); err != nil {
			unreachable = append(unreachable, brief.OneLine(err.Error()))
		}
	}
	if len(unreachable) > 0 {
		return fmt.Errorf("demo %s: %s (is the stack up? make up)", cfg.Fault.Name, strings.Join(unreachable, "; "))
	}
	fmt.Fprintf(stdout, "demo %s: %s for %s; about %s in all. Ctrl-C stops it and restores the vision profile.\n",
		cfg.Fault.Name, cfg.Fault.Title, cfg.During, cfg.Duration().Round(time.Second))
	if sdDir != "" {
		stop, err := serveMetrics(ctx, &cfg, sdDir, stderr)
		if err != nil {
			return fmt.Errorf("demo %s: %w", cfg.Fault.Name, err)
		}
		defer stop()
	}
	out, err := Play(ctx, cfg, stdout)
	if !out.Start.IsZero() {
		fmt.Fprintln(stdout)
		if werr := Summarize(out).Write(stdout); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	if out.Interrupted {
		return fmt.Errorf("demo %s: stopped early; the summary covers what ran", cfg.Fault.Name)
	}
	return nil
}

// parseCommand reads the demo's name and flags (in any order), with defaults
// from the environment and else from the stack's configuration, and reports
// every problem at once, on one line. sdDir is the stack's Prometheus
// discovery directory, "" if there is none.
func parseCommand(args []string, getenv func(string) string) (cfg Config, sdDir string, err error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var mono, async, ed, visionURL, secret string
	rate := DefaultRate
	during := DefaultFault
	fs.StringVar(&mono, "target-monolith", "", "")
	fs.StringVar(&async, "target-monolith-async", "", "")
	fs.StringVar(&ed, "target-eventdriven", "", "")
	fs.StringVar(&visionURL, "vision", "", "")
	fs.StringVar(&secret, "secret", "", "")
	fs.Float64Var(&rate, "rate", rate, "")
	fs.DurationVar(&during, "fault-duration", during, "")
	want := strings.Join(Names(), " or ")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return cfg, "", err
	}
	if len(positional) == 0 {
		return cfg, "", fmt.Errorf("%w: demo: name a demo: %s", command.ErrUsage, want)
	}
	fault, ok := Lookup(positional[0])
	if !ok {
		return cfg, "", fmt.Errorf("%w: demo: unknown demo %q (want %s)", command.ErrUsage, positional[0], want)
	}

	sc, err := stack.LoadConfig(getenv, ".stack")
	if err != nil {
		return cfg, "", fmt.Errorf("demo: %w", err)
	}
	env := NewEnv(getenv, sc)
	cfg = DefaultConfig(fault)
	cfg.MonolithURL = strings.TrimSuffix(env.Get(mono, "PHOTOBENCH_MONOLITH_URL"), "/")
	cfg.MonolithAsyncURL = strings.TrimSuffix(env.Get(async, "PHOTOBENCH_MONOLITH_ASYNC_URL"), "/")
	cfg.EventDrivenURL = strings.TrimSuffix(env.Get(ed, "PHOTOBENCH_EVENTDRIVEN_URL"), "/")
	cfg.VisionURL = strings.TrimSuffix(env.Get(visionURL, "PHOTOBENCH_VISION_URL"), "/")
	cfg.PrometheusURL = strings.TrimSuffix(env.Get("", "PHOTOBENCH_PROMETHEUS_URL"), "/")
	cfg.CacheDir = filepath.Join(sc.Dir, "loadgen-cache")
	cfg.Secret = auth.SecretFromEnv(getenv)
	if secret != "" {
		cfg.Secret = []byte(secret)
	}
	cfg.Rate, cfg.During = rate, during

	if problems := configProblems(cfg, positional[1:]); len(problems) > 0 {
		return cfg, "", fmt.Errorf("%w: demo %s: %s", command.ErrUsage, fault.Name, strings.Join(problems, "; "))
	}
	if err := cfg.Validate(); err != nil {
		return cfg, "", fmt.Errorf("demo %s: %w", fault.Name, err)
	}
	sdDir = env.Get("", "PHOTOBENCH_PROMETHEUS_SD_DIR")
	if st, err := os.Stat(sdDir); sdDir != "" && (err != nil || !st.IsDir()) {
		sdDir = "" // no stack set up here: no live metrics
	}
	return cfg, sdDir, nil
}

// parseInterleaved parses args with fs, flags and positional arguments in
// any order, and returns the positional ones; its errors are ParseFlags's.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for rest := args; ; {
		if err := command.ParseFlags(fs, rest); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
}

// Env looks a demo's (or a live session's) settings up: a flag's value,
// else the environment, else the stack's configuration.
type Env struct {
	getenv func(string) string
	stack  map[string]string // the stack's environment, apps' included
}

// NewEnv is the lookup of the environment getenv and then the stack sc.
func NewEnv(getenv func(string) string, sc stack.Config) Env {
	e := Env{getenv: getenv, stack: map[string]string{}}
	for _, kv := range append(sc.Env(), sc.AppEnv()...) {
		e.stack[kv[0]] = kv[1]
	}
	return e
}

// Get is flagValue when set, else the variable name from the
// environment, else from the stack.
func (e Env) Get(flagValue, name string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return e.stack[name]
}

// configProblems lists every problem with the demo's configuration: extra
// arguments, URLs that are not http(s), a rate or fault duration out of
// range, a short secret.
func configProblems(cfg Config, extra []string) []string {
	var problems []string
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", extra))
	}
	for _, u := range []struct{ flag, url string }{
		{"--target-monolith", cfg.MonolithURL}, {"--target-monolith-async", cfg.MonolithAsyncURL},
		{"--target-eventdriven", cfg.EventDrivenURL}, {"--vision", cfg.VisionURL},
	} {
		if !HTTPURL(u.url) {
			problems = append(problems, fmt.Sprintf("%s %q is not an http(s) URL", u.flag, u.url))
		}
	}
	if !(cfg.Rate > 0 && cfg.Rate <= MaxRate) {
		problems = append(problems, fmt.Sprintf("--rate %g: want more than 0 and at most %g", cfg.Rate, MaxRate))
	}
	if cfg.During <= 0 || cfg.During > MaxPhase {
		problems = append(problems, fmt.Sprintf("--fault-duration %s: want more than 0 and at most %s", cfg.During, MaxPhase))
	}
	if len(cfg.Secret) < auth.MinSecretLen {
		problems = append(problems, fmt.Sprintf("the secret (--secret or %s) is shorter than %d bytes", auth.EnvSecret, auth.MinSecretLen))
	}
	return problems
}

// serveMetrics serves the load generator's metrics of every architecture
// (photobench_loadgen_*, label architecture) and registers them with the
// stack's Prometheus, so that the load generator's dashboard shows the demo
// as it runs. It does not wait for Prometheus to discover them (that takes
// up to 5 s, the demo's first seconds); stop waits for a last scrape (at
// most 5 s), unregisters and closes the server.
func serveMetrics(ctx context.Context, cfg *Config, sdDir string, stderr io.Writer) (stop func(), err error) {
	reg := command.Registry()
	cfg.Exporter = func(arch string) *loadgen.Exporter { return loadgen.NewExporter(reg, arch) }
	addr, stopServing, err := loadgen.ServeMetrics(reg, "127.0.0.1:0", sdDir, "demo")
	if err != nil {
		return nil, err
	}
	return func() {
		if cfg.PrometheusURL != "" {
			wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = promsd.WaitScraped(wctx, cfg.PrometheusURL, addr, time.Now())
			cancel()
		}
		if err := stopServing(); err != nil {
			fmt.Fprintf(stderr, "photobench: %v\n", err)
		}
	}, nil
}
