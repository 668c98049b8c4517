package loadgen

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/internal/atomicfile"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/promsd"
)

// Usage is the help of `photobench load`.
const Usage = `Usage:
  photobench load --scenario FILE --target URL [flags]

Runs a load scenario (YAML, see loadgen/scenarios/) open loop against one
architecture's public API, then writes the results under the run directory:
  summary.json   per phase and operation: counts, rates, latency from the
                 intended start and service time quantiles (warm-up excluded);
                 per phase "ready": uploads followed until ready, upload-to-ready
                 latency and the polling's own load (polls, polls/s)
  latency.hlog   raw results: HdrHistogram interval log, one histogram per
                 second and <phase>/<operation>/<latency|service|ready>, in µs
  run.json       what ran: scenario, target, architecture, start and end
and prints a summary table. On a terminal a progress line is updated every
second. Ctrl-C stops the run within a second and writes the partial results,
marked "partial": true.

After the schedule ends, accepted uploads are followed (GET /v1/photos/{id},
backoff from the scenario's ready.min_poll to ready.max_poll) until ready,
failed or ready.timeout; the run ends when all are.

While it runs, the generator serves Prometheus metrics (photobench_loadgen_*,
labels architecture, operation, phase) and, when PHOTOBENCH_PROMETHEUS_SD_DIR
is set (make up's .stack/env sets it), registers them with the stack's
Prometheus for the length of the run: it waits (at most 15 s) until
Prometheus ($PHOTOBENCH_PROMETHEUS_URL) has scraped them once before the run
starts, and once more after it ends.

Flags:
  --scenario FILE  the scenario file (required)
  --target URL     the API's base URL, e.g. http://127.0.0.1:8080 (required);
                   its /healthz must answer 200 within 3 s, and it must accept
                   the tokens (one list request is sent before the run)
  --secret S       the bearer tokens' signing secret (default $PHOTOBENCH_AUTH_SECRET,
                   else the development secret)
  --out DIR        the run directory (default results/runs/<UTC time>)
  --arch NAME      the architecture's label in the results, e.g. monolith
  --cache DIR      where generated photos are kept between runs
                   (default $PHOTOBENCH_STACK_DIR/loadgen-cache, else .stack/loadgen-cache)
  --metrics-addr A where to serve /metrics (default 127.0.0.1:0, a free port;
                   "off" serves none)
`

// healthTimeout bounds the pre-flight check of the target.
const healthTimeout = 3 * time.Second

var archRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

type loadConfig struct {
	scenario, target, out, arch, cache string
	metricsAddr, sdDir, promURL        string
	secret                             []byte
	devSecret                          bool // neither --secret nor the environment gave one
}

// Run runs `photobench load`: one scenario against one target, its
// results in a run directory and a summary table on stdout.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseLoad(args, getenv, time.Now())
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return nil
	}
	if err != nil {
		return err
	}
	return runLoadConfig(ctx, cfg, stdout, stderr)
}

// parseLoad reads the flags and reports every problem at once, on one line.
func parseLoad(args []string, getenv func(string) string, now time.Time) (loadConfig, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg loadConfig
	var secret string
	fs.StringVar(&cfg.scenario, "scenario", "", "")
	fs.StringVar(&cfg.target, "target", "", "")
	fs.StringVar(&secret, "secret", "", "")
	fs.StringVar(&cfg.out, "out", "", "")
	fs.StringVar(&cfg.arch, "arch", "", "")
	fs.StringVar(&cfg.cache, "cache", "", "")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", "127.0.0.1:0", "")
	if err := command.ParseFlags(fs, args); err != nil {
		return cfg, err
	}
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if cfg.scenario == "" {
		problems = append(problems, "--scenario is required")
	}
	if cfg.target == "" {
		problems = append(problems, "--target is required")
	} else if u, err := url.Parse(cfg.target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Sprintf("--target %q is not an http(s) URL", cfg.target))
	}
	if cfg.arch != "" && !archRe.MatchString(cfg.arch) {
		problems = append(problems, fmt.Sprintf("--arch %q is not a label (want 1-64 of A-Z a-z 0-9 _ . -)", cfg.arch))
	}
	if cfg.metricsAddr != "off" {
		if host, _, err := net.SplitHostPort(cfg.metricsAddr); err != nil || !loopbackHost(host) {
			problems = append(problems, fmt.Sprintf("--metrics-addr %q is not a loopback host:port (or off)", cfg.metricsAddr))
		}
	}
	cfg.sdDir = getenv("PHOTOBENCH_PROMETHEUS_SD_DIR")
	cfg.promURL = strings.TrimSuffix(getenv("PHOTOBENCH_PROMETHEUS_URL"), "/")
	if secret == "" {
		cfg.secret = auth.SecretFromEnv(getenv)
		cfg.devSecret = getenv(auth.EnvSecret) == ""
	} else {
		cfg.secret = []byte(secret)
	}
	if len(cfg.secret) < auth.MinSecretLen {
		problems = append(problems, fmt.Sprintf("the secret (--secret or %s) is shorter than %d bytes", auth.EnvSecret, auth.MinSecretLen))
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("%w: load: %s", command.ErrUsage, strings.Join(problems, "; "))
	}
	cfg.target = strings.TrimSuffix(cfg.target, "/")
	if cfg.out == "" {
		cfg.out = filepath.Join("results", "runs", now.UTC().Format("20060102T150405Z"))
	}
	if cfg.cache == "" {
		root := getenv("PHOTOBENCH_STACK_DIR")
		if root == "" {
			root = ".stack"
		}
		cfg.cache = filepath.Join(root, "loadgen-cache")
	}
	return cfg, nil
}

// runInfo is run.json: what ran where.
type runInfo struct {
	Scenario     string    `json:"scenario"`
	ScenarioFile string    `json:"scenario_file"`
	Target       string    `json:"target"`
	Arch         string    `json:"arch,omitempty"`
	Seed         uint64    `json:"seed"`
	Users        int       `json:"users"`
	Started      time.Time `json:"started"`
	Ended        time.Time `json:"ended"`
	Partial      bool      `json:"partial"`
}

// runLoadConfig runs one load scenario against the target once it answers
// and accepts the tokens, and writes the run's raw data and summary into
// cfg.out.
func runLoadConfig(ctx context.Context, cfg loadConfig, stdout, stderr io.Writer) error {
	sc, err := LoadScenario(cfg.scenario)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if err := CheckHealth(ctx, cfg.target); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	tgt, err := newLoadTarget(ctx, cfg, sc, stderr)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return fmt.Errorf("load: run directory: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = sc.MaxInFlight
	tr.MaxIdleConnsPerHost = sc.MaxInFlight
	defer tr.CloseIdleConnections()

	run := &APIRun{Scenario: sc, Target: tgt, Client: &http.Client{Transport: tr}}
	if cfg.metricsAddr != "off" {
		stop, err := serveLoadMetrics(ctx, cfg, run, stderr)
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		defer stop()
	}
	info := runInfo{Scenario: sc.Name, ScenarioFile: cfg.scenario, Target: cfg.target, Arch: cfg.arch,
		Seed: sc.Seed, Users: sc.Users, Started: time.Now().UTC()}
	var hlog bytes.Buffer
	if run.Log, err = NewIntervalLog(&hlog, info.Started, time.Second); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	var prog *progress
	if command.IsTerminal(stderr) {
		prog = newProgress(sc, cfg.target, info.Started, run)
		run.Observe = prog.add
	}
	stopProgress := drawProgress(prog, stderr)
	rec, err := run.Run(ctx)
	stopProgress()
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	info.Ended = time.Now().UTC()
	info.Partial = ctx.Err() != nil
	sum := rec.Summary(info.Partial)

	if err := run.Log.Close(); err != nil {
		return fmt.Errorf("load: interval log: %w", err)
	}
	if err := writeLoadRun(cfg.out, hlog.Bytes(), sum, info); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	printSummary(stdout, sc, sum, cfg)
	if info.Partial {
		return fmt.Errorf("load: stopped before the end; partial results in %s", cfg.out)
	}
	return nil
}

// newLoadTarget is the API target of scenario sc at cfg.target, with the
// photos it uploads, once the target accepts its tokens (a token signed
// with the development secret is said on stderr).
func newLoadTarget(ctx context.Context, cfg loadConfig, sc *Scenario, stderr io.Writer) (*APITarget, error) {
	var photos *PhotoSet
	if sc.Uploads() {
		var err error
		if photos, err = LoadPhotos(sc.Photos, sc.Seed, cfg.cache); err != nil {
			return nil, err
		}
	}
	tgt, err := NewAPITarget(APIConfig{
		BaseURL: cfg.target, Secret: cfg.secret, Users: sc.Users, Seed: sc.Seed,
		TokenTTL: min(sc.Duration()+sc.Ready.Timeout+time.Hour, auth.MaxLifetime), Photos: photos,
	})
	if err != nil {
		return nil, err
	}
	if cfg.devSecret {
		fmt.Fprintf(stderr, "photobench: %s is unset: tokens signed with the development secret\n", auth.EnvSecret)
	}
	if err := checkAuth(ctx, tgt); err != nil {
		return nil, err
	}
	return tgt, nil
}

// writeLoadRun writes a run's raw data into dir: the interval log hlog,
// the summary and what was run.
func writeLoadRun(dir string, hlog []byte, sum Summary, info runInfo) error {
	if err := atomicfile.Write(filepath.Join(dir, "latency.hlog"), hlog, 0o644); err != nil {
		return err
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, "summary.json"), sum); err != nil {
		return err
	}
	return atomicfile.WriteJSON(filepath.Join(dir, "run.json"), info)
}

// scrapeWait bounds the waits for the stack's Prometheus: until it has
// discovered the generator (its discovery batches updates for up to 5 s),
// and for a last scrape after the run.
const scrapeWait = 15 * time.Second

// serveLoadMetrics serves the run's metrics on cfg.metricsAddr and, with a
// discovery directory, registers them with the stack's Prometheus and (with
// its URL) waits until it scrapes them, so that the run's first seconds are
// captured. stop waits for one more scrape, unregisters and closes the server.
func serveLoadMetrics(ctx context.Context, cfg loadConfig, run *APIRun, stderr io.Writer) (stop func(), err error) {
	reg := command.Registry()
	run.Exporter = NewExporter(reg, cfg.arch)
	addr, stopServing, err := ServeMetrics(reg, cfg.metricsAddr, cfg.sdDir, "loadgen")
	if err != nil {
		return nil, err
	}
	waitScrape := func(after time.Time, why string) {
		if cfg.sdDir == "" || cfg.promURL == "" {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, scrapeWait)
		defer cancel()
		if err := promsd.WaitScraped(wctx, cfg.promURL, addr, after); err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "photobench: %s: %v\n", why, brief.OneLine(err.Error()))
		}
	}
	waitScrape(time.Now(), "the stack's Prometheus has not scraped the generator yet; its first seconds may be missing there")
	return func() {
		waitScrape(time.Now(), "no last scrape of the generator")
		if err := stopServing(); err != nil {
			fmt.Fprintf(stderr, "photobench: %v\n", err)
		}
	}, nil
}

// loopbackHost reports whether host (of a listen address) is on loopback.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckHealth fails unless target/healthz answers 200 within healthTimeout:
// the pre-flight check of a target, before any load is sent to it.
func CheckHealth(ctx context.Context, target string) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("target %s unreachable: %w", target, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("target %s unreachable: %w", target, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("target %s unreachable: /healthz answered %s", target, resp.Status)
	}
	return nil
}

// checkAuth lists user 0's photos once, so that a secret the target does not
// share fails the run before it starts instead of making every request a 401.
func checkAuth(ctx context.Context, tgt *APITarget) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := tgt.Target(ctx, Hit{Op: OpList, Intended: time.Now()})
	if err != nil {
		return fmt.Errorf("check token: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("check token: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("target %s rejects our bearer tokens (401): does --secret or %s match the servers' secret?", req.URL.Host, auth.EnvSecret)
	}
	return nil
}

// drawProgress redraws prog's line on w once per second until stopped; a nil
// prog draws nothing.
func drawProgress(prog *progress, w io.Writer) (stop func()) {
	if prog == nil {
		return func() {}
	}
	done := make(chan struct{})
	var drawn sync.WaitGroup
	drawn.Add(1)
	go func() {
		defer drawn.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r"+prog.line(time.Now())+"\x1b[K\n")
				return
			case now := <-tick.C:
				fmt.Fprint(w, "\r"+prog.line(now)+"\x1b[K")
			}
		}
	}()
	return func() { close(done); drawn.Wait() }
}

// progress keeps the figures of the live progress line.
type progress struct {
	sc     *Scenario
	run    *APIRun // for the uploads being followed; may be nil
	target string
	start  time.Time
	before []uint64 // hits scheduled by the phases before phase i

	mu            sync.Mutex
	phase         int // the phase lat is for
	lat           *hdrhistogram.Histogram
	received      uint64
	sent          uint64 // sends among the results received
	sentAtLast    uint64
	last          time.Time
	errors, drops uint64
}

func newProgress(sc *Scenario, target string, start time.Time, run *APIRun) *progress {
	p := &progress{sc: sc, target: target, start: start, last: start, run: run,
		lat: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)}
	var n uint64
	for _, ph := range sc.Phases {
		p.before = append(p.before, n)
		n += Count(ph.Pacer, ph.Duration)
	}
	p.before = append(p.before, n)
	return p
}

func (p *progress) add(r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.received++
	if !r.Sent.IsZero() {
		p.sent++
	}
	switch r.Class() {
	case "ok", "canceled":
	case "dropped":
		p.drops++
	default:
		p.errors++
	}
	if r.Phase == p.phase && !r.Sent.IsZero() && !r.Canceled {
		_ = p.lat.RecordValue(min(max(r.Latency().Microseconds(), 1), int64(time.Hour/time.Microsecond)))
	}
}

// line is the progress line at now: phase, target and achieved send rate over
// the last interval, requests in flight (scheduled so far less answered),
// latency quantiles of the phase so far, errors and dropped hits.
func (p *progress) line(now time.Time) string {
	el := now.Sub(p.start)
	pi, off := p.sc.PhaseAt(el)
	ph := p.sc.Phases[pi]
	scheduled := p.before[pi] + Count(ph.Pacer, off)
	_, target := p.sc.RateAt(el)
	if p.run != nil && p.run.Draining() {
		return fmt.Sprintf("schedule done %5.0fs  following %d uploads until ready (at most %s)  polls %d  errors %d  dropped %d",
			el.Seconds(), p.run.Following(), p.sc.Ready.Timeout, p.run.Polls(), p.errors, p.drops)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if pi != p.phase {
		p.phase = pi
		p.lat.Reset()
	}
	achieved := 0.0
	if d := now.Sub(p.last).Seconds(); d > 0 {
		achieved = float64(p.sent-p.sentAtLast) / d
	}
	p.sentAtLast, p.last = p.sent, now
	inFlight := int64(scheduled) - int64(p.received)
	name := ph.Name
	if ph.Warmup {
		name += " (warm-up)"
	}
	following := ""
	if p.run != nil && p.sc.Ready.Follow {
		following = fmt.Sprintf("  following %d", p.run.Following())
	}
	return fmt.Sprintf("%s %5.0fs  %s  target %.1f/s  sent %.1f/s  in flight %d%s  p50 %s  p99 %s  errors %d  dropped %d",
		name, el.Seconds(), p.target, target, achieved, max(inFlight, 0), following,
		usDuration(p.lat.ValueAtQuantile(50)), usDuration(p.lat.ValueAtQuantile(99)), p.errors, p.drops)
}

func usDuration(us int64) string {
	return (time.Duration(us) * time.Microsecond).Round(10 * time.Microsecond).String()
}

func secDuration(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(10 * time.Microsecond).String()
}

// printSummary prints one row per phase and operation, and the phase's total.
func printSummary(w io.Writer, sc *Scenario, sum Summary, cfg loadConfig) {
	title := fmt.Sprintf("%s against %s", sc.Name, cfg.target)
	if sc.Name == "" {
		title = "scenario " + cfg.scenario + " against " + cfg.target
	}
	if cfg.arch != "" {
		title += " (" + cfg.arch + ")"
	}
	if sum.Partial {
		title += ": PARTIAL, stopped early"
	}
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\top\tscheduled\tsent\tok\terrors\tdropped\ttarget/s\tsent/s\tp50\tp99\tmax\tlag p99\t")
	row := func(phase, op string, st Stats) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t\n",
			phase, op, st.Scheduled, st.Sent, st.OK, st.Errors, st.Dropped, st.TargetRate, st.AchievedRate,
			secDuration(st.Latency.P50), secDuration(st.Latency.P99), secDuration(st.Latency.Max), secDuration(st.ScheduleLagP99))
	}
	for _, ph := range sum.Phases {
		for _, op := range Ops {
			if st, ok := ph.Ops[op]; ok {
				row(ph.Name, string(op), st)
			}
		}
		row(ph.Name, "all", ph.All)
	}
	tw.Flush()
	var ready bool
	for _, ph := range sum.Phases {
		ready = ready || ph.Ready != nil
	}
	if ready {
		fmt.Fprintln(w, "upload to ready (server ready_at - intended start of the upload):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "phase\tfollowed\tready\tfailed\ttimeouts\terrors\tskipped\tp50\tp99\tmax\tpolls\tpolls/photo\t")
		for _, ph := range sum.Phases {
			if r := ph.Ready; r != nil {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%d\t%.1f\t\n", ph.Name, r.Followed, r.Ready, r.Failed,
					r.Timeouts, r.Errors, r.Skipped, secDuration(r.Latency.P50), secDuration(r.Latency.P99), secDuration(r.Latency.Max),
					r.Polls, r.PollsPerPhoto)
			}
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "results in %s\n", cfg.out)
}
