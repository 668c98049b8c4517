package calibrate

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/photobench/photobench/internal/atomicfile"
	"github.com/photobench/photobench/internal/command"
)

// Usage is the help of `photobench calibrate`.
const Usage = `Usage:
  photobench calibrate run [flags]      calibrate the load generator against vegeta and wrk
  photobench calibrate attack [flags]   one constant-rate run of the generator (a JSON line)
  photobench calibrate serve [flags]    the trivial HTTP server the tools are measured against

run measures photobench's open-loop generator side by side with vegeta (open
loop, the same rates) and wrk (closed loop, the machine's bound) against a
trivial server on loopback, all on this machine: achieved rate against target,
schedule lag, latency, CPU per request and the highest rate each sustains, and
whether the generator's aims are met. attack and serve are its children: each
tool runs in its own process so that its CPU time is its own.

vegeta and wrk must be installed: stack/calibrate-deps.sh (or make
loadgen-calibrate) does it. Run photobench calibrate SUBCOMMAND -h for flags.
`

// runUsage, attackUsage and serveUsage are the help of its subcommands.
const runUsage = `Usage:
  photobench calibrate run [flags]

Starts the trivial server (photobench calibrate serve) as a child, runs wrk
once per repeat, then at each rate and repeat runs photobench's generator
(photobench calibrate attack) and vegeta, one after the other, on the same
target, rate and duration; then steps each tool's rate up from its highest
sustained one (x --search-step) until a rate fails, within --search-budget.
A rate is sustained when the achieved rate is >= 99% of the target, fewer than
1% of the scheduled requests fail or go unsent (dropped included) and, for
photobench, the schedule lag p99 is < 10ms (vegeta reports no lag; it is
judged on achieved rate and success alone), on the medians over the repeats.

Progress goes to stderr, one line per run; the results tables to stdout.
Writes --out (JSON: every raw run, summaries, aims) and --md (the report).
Ctrl-C stops within seconds and writes the partial results.

Every run is bounded: duration + timeout + 20s, after which it is killed and
counted as failed. Total time is about (1 + 2 x rates) x repeats x (duration
+ pause), plus up to twice --search-budget.

Flags:
  --rates LIST           target rates, requests/s, comma-separated whole numbers
                         (default 1000,2000,5000,10000,20000)
  --duration D           length of every run (default 10s)
  --repeats N            runs of each tool at each rate, and of wrk (default 3)
  --pause D              between runs (default 2s)
  --max-in-flight N      photobench's in-flight cap and idle connections (default 1000)
  --max-conns N          both open-loop tools' cap on connections to the target, as
                         wrk's 64 (default 64; 0: none; vegeta's -max-connections)
  --timeout D            per request, all tools (default 5s)
  --wrk-threads N        wrk -t (default 2)
  --wrk-connections N    wrk -c (default 64)
  --search-step F        factor between the search's rates, in (1, 10] (default 1.25)
  --search-budget D      time the search may take per tool; 0: no search (default 5m)
  --out FILE             JSON results (default results/loadgen-calibration.json)
  --md FILE              Markdown report (default results/loadgen-calibration.md)
  --vegeta PATH          vegeta binary (default $PHOTOBENCH_STACK_BIN_DIR/vegeta, else
                         $PHOTOBENCH_STACK_DIR/bin/vegeta with .stack as the default
                         directory, else vegeta on PATH)
  --wrk PATH             wrk binary (default wrk on PATH)
`

const attackUsage = `Usage:
  photobench calibrate attack --url URL --rate R [flags]

Sends GET URL at a constant rate, open loop (photobench's load generator with
one constant-pacer phase and loadgen.PlainTarget), and prints one JSON line:
the measured phase's figures (scheduled, sent, ok, errors, dropped,
target_rate, achieved_rate, schedule_lag_p99_seconds, latency_seconds
{p50, p99, ...}, ...), warm-up excluded. The HTTP transport keeps connections
alive, up to --max-in-flight idle per host.

Flags:
  --url URL            the target (required), http or https
  --rate R             requests per second, > 0 (required)
  --duration D         length of the measured phase (default 10s)
  --warmup D           a phase at the same rate before it, excluded (default 0: none)
  --max-in-flight N    requests in flight at most; a hit beyond is dropped (default 1000)
  --max-conns N        connections to the target at most; requests wait for one (default 64; 0: none)
  --timeout D          per request (default 5s)
`

const serveUsage = `Usage:
  photobench calibrate serve [--addr HOST:PORT]

Serves the calibration's trivial target: 200 and a 20-byte body for a GET of
any path. Prints the listening address (host:port) as the first line of stdout,
then serves until interrupted (SIGINT or SIGTERM).

Flags:
  --addr HOST:PORT   where to listen (default 127.0.0.1:0: a free loopback port)
`

// Run runs `photobench calibrate run|attack|serve`: the calibration, and
// the two children it starts, each in its own process.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, Usage)
		return fmt.Errorf("%w: calibrate: no subcommand given (run, attack or serve)", command.ErrUsage)
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, Usage)
		return nil
	case "run":
		cfg, err := parseRun(rest, getenv)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, runUsage)
			return nil
		}
		if err != nil {
			return err
		}
		return runCalibration(ctx, cfg, stdout, stderr)
	case "attack":
		cfg, err := parseAttack(rest)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, attackUsage)
			return nil
		}
		if err != nil {
			return err
		}
		st, err := Attack(ctx, cfg)
		if err != nil {
			return fmt.Errorf("calibrate %w", err)
		}
		line, err := json.Marshal(st)
		if err != nil {
			return fmt.Errorf("calibrate attack: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", line)
		return err
	case "serve":
		addr, err := parseServe(rest)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, serveUsage)
			return nil
		}
		if err != nil {
			return err
		}
		if err := Serve(ctx, addr, stdout); err != nil {
			return fmt.Errorf("calibrate %w", err)
		}
		return nil
	default:
		fmt.Fprint(stderr, Usage)
		return fmt.Errorf("%w: calibrate: unknown subcommand %q (want run, attack or serve)", command.ErrUsage, sub)
	}
}

// newFlags is a flag set whose errors come back as one line.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("calibrate "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses a subcommand's flags; it takes no other arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := command.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected arguments %q", command.ErrUsage, fs.Name(), fs.Args())
	}
	return nil
}

func parseAttack(args []string) (AttackConfig, error) {
	fs := newFlags("attack")
	var c AttackConfig
	fs.StringVar(&c.URL, "url", "", "")
	fs.Float64Var(&c.Rate, "rate", 0, "")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "")
	fs.DurationVar(&c.Warmup, "warmup", 0, "")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", 1000, "")
	fs.IntVar(&c.MaxConns, "max-conns", 64, "")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Second, "")
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	if problems := flagProblems(c.Validate(), attackFlags, nil); len(problems) > 0 {
		return c, fmt.Errorf("%w: calibrate attack: %s", command.ErrUsage, strings.Join(problems, "; "))
	}
	return c, nil
}

// attackFlags and runFlags name the flag that sets each field of
// AttackConfig and Config, for the messages. The binaries' (--vegeta,
// --wrk) are not there: parseRun looks the binaries up, and a failed
// lookup is its own error.
var (
	attackFlags = map[string]string{"URL": "--url", "Rate": "--rate", "Duration": "--duration", "Warmup": "--warmup",
		"MaxInFlight": "--max-in-flight", "MaxConns": "--max-conns", "Timeout": "--timeout"}
	runFlags = map[string]string{"Rates": "--rates", "Duration": "--duration", "Repeats": "--repeats", "Pause": "--pause",
		"MaxInFlight": "--max-in-flight", "MaxConns": "--max-conns", "Timeout": "--timeout",
		"WrkThreads": "--wrk-threads", "WrkConnections": "--wrk-connections",
		"SearchStep": "--search-step", "SearchBudget": "--search-budget"}
)

// flagProblems words the problems in err, a configuration's Validate error
// (Problems), with the flag that sets each field: "--max-in-flight must be
// positive". A field with no flag keeps the package's wording; one for
// which skip is true is left out.
func flagProblems(err error, flags map[string]string, skip func(field string) bool) []string {
	if err == nil {
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		return []string{err.Error()}
	}
	var out []string
	for _, p := range ps {
		switch name, ok := flags[p.Field]; {
		case ok:
			out = append(out, name+" "+p.Reason)
		case skip == nil || !skip(p.Field):
			out = append(out, p.String())
		}
	}
	return out
}

func parseServe(args []string) (string, error) {
	fs := newFlags("serve")
	addr := fs.String("addr", "127.0.0.1:0", "")
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return "", fmt.Errorf("%w: calibrate serve: --addr %q is not HOST:PORT", command.ErrUsage, *addr)
	}
	return *addr, nil
}

type runConfig struct {
	Config
	out, md string
}

func parseRun(args []string, getenv func(string) string) (runConfig, error) {
	fs := newFlags("run")
	var c runConfig
	rates := fs.String("rates", "1000,2000,5000,10000,20000", "")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "")
	fs.IntVar(&c.Repeats, "repeats", 3, "")
	fs.DurationVar(&c.Pause, "pause", 2*time.Second, "")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", 1000, "")
	fs.IntVar(&c.MaxConns, "max-conns", 64, "")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Second, "")
	fs.IntVar(&c.WrkThreads, "wrk-threads", 2, "")
	fs.IntVar(&c.WrkConnections, "wrk-connections", 64, "")
	fs.Float64Var(&c.SearchStep, "search-step", 1.25, "")
	fs.DurationVar(&c.SearchBudget, "search-budget", 5*time.Minute, "")
	fs.StringVar(&c.out, "out", filepath.Join("results", "loadgen-calibration.json"), "")
	fs.StringVar(&c.md, "md", filepath.Join("results", "loadgen-calibration.md"), "")
	fs.StringVar(&c.Vegeta, "vegeta", "", "")
	fs.StringVar(&c.Wrk, "wrk", "", "")
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	// The binaries are found before the check, so that Validate sees the
	// whole Config. One not found is reported after the flags' problems, by
	// its lookup's error, which says how to install it; Validate's word on
	// the field left empty is dropped.
	var err error
	lookup := map[string]error{}
	if c.Self, err = os.Executable(); err != nil {
		lookup["Self"] = fmt.Errorf("calibrate: find the photobench binary: %w", err)
	}
	c.Vegeta, lookup["Vegeta"] = findVegeta(c.Vegeta, getenv)
	c.Wrk, lookup["Wrk"] = findTool("wrk", c.Wrk, nil)

	var problems []string
	for _, f := range strings.Split(*rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			problems = append(problems, fmt.Sprintf("--rates %q is not a number", strings.TrimSpace(f)))
			continue
		}
		c.Rates = append(c.Rates, r)
	}
	problems = append(problems, flagProblems(c.Validate(), runFlags, func(field string) bool { return lookup[field] != nil })...)
	if c.out == "" || c.md == "" {
		problems = append(problems, "--out and --md must name files")
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("%w: calibrate run: %s", command.ErrUsage, strings.Join(problems, "; "))
	}
	for _, field := range []string{"Self", "Vegeta", "Wrk"} {
		if err := lookup[field]; err != nil {
			return c, err
		}
	}
	return c, nil
}

// findVegeta is --vegeta, else the stack's bin directory's vegeta, else vegeta on PATH.
func findVegeta(flagPath string, getenv func(string) string) (string, error) {
	bin := getenv("PHOTOBENCH_STACK_BIN_DIR")
	if bin == "" {
		dir := getenv("PHOTOBENCH_STACK_DIR")
		if dir == "" {
			dir = ".stack"
		}
		bin = filepath.Join(dir, "bin")
	}
	return findTool("vegeta", flagPath, []string{filepath.Join(bin, "vegeta")})
}

// findTool returns flagPath if set, else the first executable candidate, else
// name on PATH; a missing tool is an error saying how to install it.
func findTool(name, flagPath string, candidates []string) (string, error) {
	hint := "run stack/calibrate-deps.sh (or make loadgen-calibrate) to install vegeta and wrk"
	if flagPath != "" {
		p, err := exec.LookPath(flagPath)
		if err != nil {
			return "", fmt.Errorf("calibrate: %s %s is not an executable: %s", name, flagPath, hint)
		}
		return p, nil
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		where := "on PATH"
		if len(candidates) > 0 {
			where = "at " + strings.Join(candidates, ", ") + " or on PATH"
		}
		return "", fmt.Errorf("calibrate: %s not found %s: %s", name, where, hint)
	}
	return p, nil
}

// runCalibration runs the calibration (Measure), writes its JSON and
// Markdown, and prints the results tables.
func runCalibration(ctx context.Context, c runConfig, stdout, stderr io.Writer) error {
	runs := (1 + 2*len(c.Rates)) * c.Repeats
	est := time.Duration(runs)*(c.Duration+c.Pause+time.Second) + 2*c.SearchBudget
	fmt.Fprintf(stderr, "calibrate: %d runs of %s, then the search (at most %s per tool): up to about %s\n",
		runs, c.Duration, c.SearchBudget, est.Round(time.Minute))
	rep, runErr := Measure(ctx, c.Config, stderr)
	if rep == nil {
		return runErr
	}
	data, err := rep.JSON()
	if err == nil {
		err = atomicfile.Write(c.out, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	md := rep.Markdown(c.out)
	if err := atomicfile.Write(c.md, []byte(md), 0o644); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	if i := strings.Index(md, "## Results by rate"); i >= 0 {
		fmt.Fprint(stdout, md[i:])
	}
	fmt.Fprintf(stdout, "\nresults in %s and %s\n", c.md, c.out)
	if runErr != nil {
		return fmt.Errorf("calibrate: stopped before the end (%w); partial results in %s", runErr, c.out)
	}
	return nil
}
