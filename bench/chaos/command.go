package chaos

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

	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/stack"
)

// Usage is the help of `photobench chaos`.
const Usage = `Usage:
  photobench chaos [--short] [--variants LIST] [--faults LIST] [--rate R]
                   [--duration D] [--down D] [--drain D] [--out FILE] [--keep-logs]

The fault matrix with loss accounting (make chaos; its short form runs in
make test). Under steady open-loop upload load on each variant, it kills one
process at a time with SIGKILL, starts it again, and counts from the client's
answers and the real stores what became of every accepted upload: ready,
failed (with reasons), lost (accepted but never final, or its row or an
object missing), duplicated (rows beyond the uploads, thumbnails that differ
from the original's), client errors during the fault, and how long until
uploads were accepted again and until the backlog drained. A row passes with
0 lost and 0 duplicated; the exit status is 1 unless every row passes.

It runs on a scratch stack of its own (a temporary directory, free loopback
ports, the binaries make deps installed in the stack's directory), removed at
the end: the stack make up runs is never touched. It refuses to start while a
photobench bench runs (and a bench refuses while it runs): the lock
$PHOTOBENCH_STACK_DIR/bench.lock.

Each row: a probe upload must become final first; then --rate uploads/s for
--duration; SIGKILL at a third of it, or, when the target's own /metrics
tells its work in flight (a function's replicas, a monolith, the runtime),
at the first moment in the 10 s after that when it has some (the row records
how many calls it cut, or "idle"); the killed service started again --down
later (a function's replicas are started again by the runtime, at once); then
at most --drain for every accepted photo to be final, and a count of the
files and objects no photo row points to (orphans). The tagger's row slows
the vision service to 100-300 ms per analysis, so that the tagger is busy. A
line per row on stderr; the table in FILE (Markdown) and FILE with .json
(every figure).

Rows (variant/fault):
  monolith/monolith           the synchronous monolith's process
  monolith/postgres           PostgreSQL
  monolith-async/monolith     the asynchronous monolith's process (River)
  monolith-async/postgres     PostgreSQL
  eventdriven/ingest          the ingest function's replicas
  eventdriven/thumbnailer     the thumbnailer's replicas
  eventdriven/tagger          the tagger's replicas
  eventdriven/catalog         the catalog's replicas
  eventdriven/runtime         the scale-to-zero runtime (its replicas die with it)
  eventdriven/minio           MinIO
  eventdriven/kafka           Kafka
  eventdriven/postgres        PostgreSQL (the catalog's database)
--short runs eventdriven/thumbnailer, eventdriven/kafka and monolith/monolith
with 20 s of load (about 3 minutes); the whole matrix about 8 (measured on
2 cores, every row passing; a row that loses waits the whole --drain).

Flags:
  --short            the short subset (make test)
  --variants LIST    variants to run, comma-separated (default all:
                     monolith,monolith-async,eventdriven)
  --faults LIST      faults to deal, comma-separated (default all: monolith,
                     ingest,thumbnailer,tagger,catalog,runtime,minio,kafka,postgres)
  --rate R           uploads per second (default 5, at most 50)
  --duration D       load per row (default 30s; --short 20s; 10s to 10m)
  --down D           how long a killed service stays down (default 5s)
  --drain D          the longest wait after the load for every accepted photo
                     to be final (default 120s: twice the reconciler's
                     period, 1 min, which finds originals whose event was lost)
  --keep-logs        copy the scratch stack's logs to a directory of their own
                     (printed) before it is removed
  --out FILE         the Markdown table (default results/chaos.md; --short:
                     results/chaos-short.md)

Environment: the stack's (see photobench help stack) says where the installed
binaries are; PHOTOBENCH_AUTH_SECRET signs the tokens (default: the stack's
development secret).
`

// Options are photobench chaos's command line.
type Options struct {
	Short, KeepLogs        bool
	Variants, Faults       []string
	Rate                   float64
	Duration, Down, Drain  time.Duration
	Out                    string
	AppBinary              string // the photobench binary the scratch stack's apps run from
	durationSet, outWasSet bool
}

// parseOptions reads the flags and reports every problem at once.
func parseOptions(args []string) (Options, error) {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o Options
	var variants, faults string
	fs.BoolVar(&o.Short, "short", false, "")
	fs.BoolVar(&o.KeepLogs, "keep-logs", false, "")
	fs.StringVar(&variants, "variants", "", "")
	fs.StringVar(&faults, "faults", "", "")
	fs.Float64Var(&o.Rate, "rate", 5, "")
	fs.DurationVar(&o.Duration, "duration", 30*time.Second, "")
	fs.DurationVar(&o.Down, "down", 5*time.Second, "")
	fs.DurationVar(&o.Drain, "drain", 120*time.Second, "")
	fs.StringVar(&o.Out, "out", "results/chaos.md", "")
	if err := command.ParseFlags(fs, args); err != nil {
		return o, err
	}
	fs.Visit(func(f *flag.Flag) {
		o.durationSet = o.durationSet || f.Name == "duration"
		o.outWasSet = o.outWasSet || f.Name == "out"
	})
	if o.Short && !o.durationSet {
		o.Duration = 20 * time.Second
	}
	if o.Short && !o.outWasSet {
		o.Out = "results/chaos-short.md"
	}
	o.Variants, o.Faults = list(variants), list(faults)
	var p command.Problems
	if fs.NArg() > 0 {
		p.Addf("unexpected arguments %q", fs.Args())
	}
	if o.Rate <= 0 || o.Rate > 50 {
		p.Addf("--rate %g: want more than 0 and at most 50", o.Rate)
	}
	if o.Duration < 10*time.Second || o.Duration > 10*time.Minute {
		p.Addf("--duration %s: want 10s to 10m", o.Duration)
	}
	if o.Down <= 0 || o.Down >= o.Duration-FaultAt(o.Duration) {
		p.Addf("--down %s: want more than 0 and less than the load after the fault (%s)", o.Down, o.Duration-FaultAt(o.Duration))
	}
	if o.Drain <= 0 || o.Drain > 10*time.Minute {
		p.Addf("--drain %s: want more than 0 and at most 10m", o.Drain)
	}
	if o.Out == "" || !strings.HasSuffix(o.Out, ".md") {
		p.Addf("--out %q: want a .md file", o.Out)
	}
	if _, err := o.faults(); err != nil {
		p.Addf("%s", strings.TrimPrefix(err.Error(), "chaos: "))
	}
	return o, p.Err("chaos")
}

// faults are the rows o selects.
func (o Options) faults() ([]Fault, error) {
	var ids []string
	if o.Short {
		ids = Short
	}
	return Select(o.Variants, o.Faults, ids)
}

func list(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Run runs `photobench chaos`.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return nil
	}
	if err != nil {
		return err
	}
	if o.AppBinary = stack.SelfBinary(); o.AppBinary == "" {
		return errors.New("chaos: run it as the photobench binary (make chaos builds bin/photobench)")
	}
	rep, err := Main(ctx, o, getenv, stderr)
	if rep != nil && len(rep.Rows) > 0 {
		fmt.Fprintf(stdout, "chaos: %s and its .json\n", o.Out)
	}
	if err != nil {
		return err
	}
	if !rep.Pass() {
		return command.ExitError{Code: 1}
	}
	return nil
}

// Main runs the rows o selects on a scratch stack (removed at the end)
// under the bench lock of the stack getenv configures, and writes the
// report to o.Out, also when a row fails or ctx is cancelled (partial).
// The error is for what stops the whole matrix; failed rows are in the
// report (Report.Pass).
func Main(ctx context.Context, o Options, getenv func(string) string, log io.Writer) (*Report, error) {
	faults, err := o.faults()
	if err != nil {
		return nil, err
	}
	home, err := stack.LoadConfig(getenv, ".stack")
	if err != nil {
		return nil, err
	}
	release, err := stack.LockBench(home, "photobench chaos")
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	defer release()
	sc, cleanup, err := Scratch(home, o.AppBinary)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if o.KeepLogs {
		defer keepLogs(sc, log)
	}
	fmt.Fprintf(log, "chaos: %d rows, %g uploads/s for %s each; table in %s\n", len(faults), o.Rate, o.Duration, o.Out)
	rep, err := Execute(ctx, Config{Stack: sc, Faults: faults, Rate: o.Rate, Duration: o.Duration, Down: o.Down,
		Drain: o.Drain, Short: o.Short, Secret: []byte(home.AuthSecret),
		Cache: filepath.Join(home.Dir, "loadgen-cache"), Log: log})
	if rep != nil && len(rep.Rows) > 0 {
		if werr := Write(o.Out, rep); werr != nil && err == nil {
			err = werr
		}
	}
	return rep, err
}

// keepLogs copies the scratch stack's logs (its servers', apps' and
// replicas') to a new temporary directory, which it names on log.
func keepLogs(c stack.Config, log io.Writer) {
	dir, err := os.MkdirTemp("", "photobench-chaos-logs-")
	if err == nil {
		err = os.CopyFS(dir, os.DirFS(filepath.Join(c.Dir, "logs")))
	}
	if err != nil {
		fmt.Fprintf(log, "chaos: keep the logs: %v\n", err)
		return
	}
	fmt.Fprintf(log, "chaos: the scratch stack's logs are in %s\n", dir)
}
