package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/report"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/bench/target"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stack"
)

// Usage is the help of `photobench bench`.
const Usage = `Usage:
  photobench bench [--profile NAME|FILE] [--out DIR] [--arch LIST] [--order-seed N] [--target FILE]
  photobench bench --report-only DIR
  photobench bench --print-target
  photobench bench --compare DIR_A DIR_B

Runs a profile's experiments against each architecture on the native
stack (starting the servers that do not run; stopping the apps that do, so
one architecture runs at a time), or against a deployment it did not start
(--target, below), captures Prometheus's series and the load generator's
histograms, and writes the trade-off report:

  DIR/report.md, DIR/report.html   the report (HTML self-contained, SVG charts)
  DIR/charts/*.svg                 the charts, also linked from report.md
  DIR/results.json                 every figure the report uses
  DIR/queries.json                 the PromQL of every captured series
  DIR/runs/<run>/                  raw data: summary.json, latency.hlog
                                   (HdrHistogram log), prom/<query>.json

Runs are interleaved: each repetition (and each sweep rate) is a block that
runs every architecture once, in an order drawn from Latin squares with the
order seed, so that each takes each place in a block about equally often. The
seed and the order are printed first and kept in results.json. Every run
starts from the same state: the monoliths get a database and a data directory
(or bucket) of the run's own, dropped after it; the event-driven app's shared
catalog, buckets and topics cannot be, so the bench waits until its consumer
groups have handled their topics, empties the catalog's table and the buckets,
and records what each run started with.
A sweep runs its rates in increasing order and stops an architecture's sweep
once its SLO (p99 ack, p99 ready, errors, backlog not growing) failed at two
rates.

Architectures, each with the same schedule, seed, vision profile and faults:
  monolith        every step of an upload inside the request: 201 ready
  monolith-async  the same monolith in async mode: 202 once the pending row
                  and its River job are committed together; its own workers
                  finish the photo (jobs back up while vision fails)
  eventdriven     functions tied by MinIO's notifications and Kafka, scaled
                  to zero by the runtime: 202, the pipeline finishes the photo
Both monoliths keep photos on disk (in MinIO with
PHOTOBENCH_MONOLITH_STORAGE=s3) and run with photobench monolith's defaults;
the report's settings record the storage and the async monolith's job-queue
knobs.

A live line shows the run, its phase and the time left. Ctrl-C stops the run
in progress, stops what the bench started, and writes what was collected,
marked partial. A run that fails (an app does not start) is reported as
failed, and the bench goes on with the next.

Profiles (built in):
  quick   the default, a first look: one run per architecture, so no
          intervals; about 9.5 minutes on 2 cores (three runs of 2 min 40 s
          of load). Warm-up, steady load, a 3x burst, an idle gap longer than
          the scale-to-zero cooldown then cold requests, and a 30-second
          vision outage.
  full    about 1 h 20 min at most: a rate sweep past each architecture's
          knee (stopping at it), five repetitions of steady load, and four
          coupling scenarios (vision outage, slow vision, PostgreSQL
          restart, Kafka restart).
A profile file (.yaml) in the same format may be given instead (see
bench/profiles/).

A deployment the bench did not start (a Kubernetes cluster, docker compose):
--target FILE names its variants' URLs, its Prometheus, the vision
stand-in's admin API and the commands that restart its servers ("none" for
faults it cannot inject; they are recorded as not injected). The bench
then starts, restarts and empties nothing: every run starts from the
deployment's state as it is, and the report's fingerprint says where it ran.
The format: bench/target (package doc), deploy/README.md.

Flags:
  --profile P        a built-in profile or a profile file (default quick)
  --out DIR          the run directory (default results/<UTC date>-<profile>)
  --arch LIST        architectures to run, in order, comma-separated
                     (default monolith,monolith-async,eventdriven)
  --order-seed N     seed of the runs' order (default: the profile's
                     order_seed, else 20261207)
  --target FILE      run against the deployment FILE describes instead of
                     the local stack (default --arch: the variants it names)
  --print-target     print the local stack (make up's) as a target file, a
                     start for one of your own; run nothing
  --report-only DIR  write the report again from DIR/results.json, run nothing
  --compare A B      compare the headline ratios of two reports (run directories,
                     e.g. two back-to-back runs of quick): a Markdown table on
                     stdout, each ratio stable when its medians differ by at
                     most 10%, else unstable with the reason; run nothing

Environment: the stack's (see photobench help stack); PHOTOBENCH_AUTH_SECRET
signs the tokens (default: the stack's development secret).
`

// commandConfig is photobench bench's command line.
type commandConfig struct {
	profile, out, reportOnly string
	target                   string // a target file; "" is the local stack
	archsSet                 bool   // --arch was given
	printTarget              bool
	compare                  []string // two run directories
	archs                    []string
	orderSeed                *int64 // nil: the profile's
}

// parseCommand reads the flags; --out defaults to a directory named after
// the date (of now) and the profile.
func parseCommand(args []string, now time.Time) (commandConfig, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c commandConfig
	var archs string
	fs.StringVar(&c.profile, "profile", "quick", "")
	fs.StringVar(&c.out, "out", "", "")
	fs.StringVar(&archs, "arch", strings.Join(results.Archs, ","), "")
	fs.StringVar(&c.reportOnly, "report-only", "", "")
	fs.StringVar(&c.target, "target", "", "")
	fs.BoolVar(&c.printTarget, "print-target", false, "")
	compare := fs.Bool("compare", false, "")
	fs.Func("order-seed", "", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer, got %q", v)
		}
		c.orderSeed = &n
		return nil
	})
	if err := command.ParseFlags(fs, args); err != nil {
		return c, err
	}
	switch {
	case *compare && fs.NArg() != 2:
		return c, fmt.Errorf("%w: bench: --compare wants two run directories, got %d", command.ErrUsage, fs.NArg())
	case *compare:
		c.compare = fs.Args()
	case fs.NArg() > 0:
		return c, fmt.Errorf("%w: bench: unexpected arguments %q", command.ErrUsage, fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { c.archsSet = c.archsSet || f.Name == "arch" })
	seen := map[string]bool{}
	for _, a := range strings.Split(archs, ",") {
		a = strings.TrimSpace(a)
		if !slices.Contains(results.Archs, a) {
			return c, fmt.Errorf("%w: bench: --arch %q: want some of %s", command.ErrUsage, a, strings.Join(results.Archs, ", "))
		}
		if seen[a] {
			return c, fmt.Errorf("%w: bench: --arch lists %s twice", command.ErrUsage, a)
		}
		seen[a] = true
		c.archs = append(c.archs, a)
	}
	if c.out == "" {
		name := strings.TrimSuffix(filepath.Base(c.profile), filepath.Ext(c.profile))
		c.out = filepath.Join("results", now.UTC().Format("2006-01-02")+"-"+name)
	}
	return c, nil
}

// Run runs `photobench bench`: a profile on the native stack (RunProfile),
// then its report; or, with --report-only, the report of an earlier run.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseCommand(args, time.Now())
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return nil
	}
	if err != nil {
		return err
	}
	if len(c.compare) == 2 {
		var out strings.Builder
		n, err := report.Compare(c.compare[0], c.compare[1], &out)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		fmt.Fprint(stdout, out.String())
		fmt.Fprintf(stderr, "bench: %d headline ratio(s) unstable between the two reports\n", n)
		return nil
	}
	if c.printTarget {
		sc, err := stack.LoadConfig(getenv, ".stack")
		if err != nil {
			return err
		}
		if sc.AppBinary = stack.SelfBinary(); sc.AppBinary == "" {
			sc.AppBinary = "photobench"
		}
		data, err := target.Local(sc).Marshal()
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		fmt.Fprintf(stdout, "# The local stack (make up) as a bench target: photobench bench --target FILE.\n%s", data)
		return nil
	}
	if c.reportOnly != "" {
		res, err := results.Load(c.reportOnly)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		return writeReport(c.reportOnly, res, stdout)
	}
	// Fail at once on a bad profile, before anything starts.
	p, err := LoadProfile(c.profile)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if c.orderSeed != nil {
		p.OrderSeed = *c.orderSeed
	}
	var tgt *target.Target
	if c.target != "" {
		if tgt, err = target.Load(c.target); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		if !c.archsSet {
			c.archs = tgt.Archs()
		}
	}
	if tgt != nil && tgt.Stack != "" {
		// The target's servers are a native stack of this machine: read
		// that one.
		env := getenv
		getenv = func(k string) string {
			if k == "PHOTOBENCH_STACK_DIR" {
				return tgt.Stack
			}
			return env(k)
		}
	}
	sc, err := stack.LoadConfig(getenv, ".stack")
	if err != nil {
		return err
	}
	// A demo, a live page or a photobench load running against the stack
	// would load the machine and the shared event-driven app during the
	// runs: refuse, as they refuse while a bench runs.
	sdDir := sc.SDDir()
	if tgt != nil {
		sdDir = tgt.Metrics.FileSD
	}
	if busy := promsd.Loads(sdDir, os.Getpid()); sdDir != "" && len(busy) > 0 {
		return fmt.Errorf("bench: another load runs against the stack (%s): it would disturb the figures; wait until it ends", strings.Join(busy, ", "))
	}
	if sc.AppBinary = stack.SelfBinary(); sc.AppBinary == "" && tgt == nil {
		return errors.New("bench: run it as the photobench binary (make bench builds bin/photobench)")
	}
	if tgt == nil || tgt.Stack != "" {
		release, err := stack.LockBench(sc, "photobench bench")
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer release()
	}
	secret := []byte(sc.AuthSecret)
	cfg := Config{Profile: p, Out: c.out, Stack: sc, Archs: c.archs, Secret: secret,
		Cache: filepath.Join(sc.Dir, "loadgen-cache"), Log: stderr, EmptyShared: tgt == nil, Target: tgt}
	if command.IsTerminal(stderr) {
		cfg.Live = stderr
	}
	fmt.Fprintf(stderr, "bench: profile %s: %d runs at most, about %s in all at most; results in %s\n", p.Name,
		p.Runs(len(c.archs)), p.Estimate(len(c.archs)).Round(time.Minute), c.out)
	res, err := RunProfile(ctx, cfg)
	if res != nil && len(res.Runs) > 0 {
		if rerr := writeReport(c.out, res, stdout); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		return err
	}
	var failed []string
	for _, r := range res.Runs {
		if r.Status == results.StatusFailed {
			failed = append(failed, fmt.Sprintf("%s %s run %d: %s", r.Arch, r.Scenario, r.Repeat, r.Error))
		}
	}
	if res.Partial {
		return fmt.Errorf("bench: interrupted; partial results and report in %s", c.out)
	}
	if len(failed) > 0 {
		return fmt.Errorf("bench: %d run(s) failed (in the report): %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}

// writeReport analyses the costs and writes the report files into dir.
func writeReport(dir string, res *results.Results, stdout io.Writer) error {
	sheets, err := cost.Sheets()
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	a, err := cost.Analyze(res, sheets)
	if err != nil {
		return fmt.Errorf("bench: cost: %w", err)
	}
	if err := report.Write(dir, res, a); err != nil {
		return fmt.Errorf("bench: report: %w", err)
	}
	fmt.Fprintf(stdout, "report: %s and %s\n", filepath.Join(dir, "report.md"), filepath.Join(dir, "report.html"))
	return nil
}
